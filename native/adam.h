// TF.js's Adam (tfjs-core 4.x AdamOptimizer.applyGradients), float32 operation for operation, so that the kernel
// trainer and the TF.js trainer move the same weights the same way from the same gradient:
//   m = m * beta1 + g * (1 - beta1);  v = v * beta2 + g^2 * (1 - beta2)
//   w = (m / (1 - beta1Power)) / (sqrt(v / (1 - beta2Power)) + epsilon) * -learningRate + w
// with beta1 0.9, beta2 0.999, epsilon 1e-7 (the float32 backends' epsilon), the scalars (1 - beta) rounded from
// float64 as TF.js does, and beta1Power = beta1^(t+1), beta2Power = beta2^(t+1) kept as running float32 products
// (TF.js's accBeta1 / accBeta2) advanced after each step. This file is built without multiply-add contraction.
#pragma once
#include <cstddef>

namespace lla {

struct AdamPowers {
  float beta1Power;  // beta1^(steps+1)
  float beta2Power;  // beta2^(steps+1)
};

// The update of parameters [begin, end): firstMoments, secondMoments and parameters updated in place.
void adamUpdate(float* parameters, float* firstMoments, float* secondMoments, const float* gradient, size_t begin,
                size_t end, float learningRate, AdamPowers powers);

// The powers after one more step (float32 products, as TF.js's accBeta1.assign(mul(accBeta1, beta1))).
AdamPowers nextAdamPowers(AdamPowers powers);

// The powers before the first step: beta1, beta2 as float32.
AdamPowers initialAdamPowers();

}  // namespace lla
