// Compiled with -ffp-contract=off (CMakeLists.txt): a fused multiply-add would round once where TF.js rounds twice.
#include "adam.h"

#include <cmath>

namespace lla {
namespace {

constexpr float kBeta1 = 0.9f;
constexpr float kBeta2 = 0.999f;
constexpr float kEpsilon = 1e-7f;
// TF.js computes 1 - beta in float64 and rounds the scalar to float32
const float kOneMinusBeta1 = static_cast<float>(1.0 - 0.9);
const float kOneMinusBeta2 = static_cast<float>(1.0 - 0.999);

}  // namespace

void adamUpdate(float* parameters, float* firstMoments, float* secondMoments, const float* gradient, size_t begin,
                size_t end, float learningRate, AdamPowers powers) {
  const float firstCorrection = 1.0f - powers.beta1Power;
  const float secondCorrection = 1.0f - powers.beta2Power;
  const float step = -learningRate;
  for (size_t p = begin; p < end; ++p) {
    const float g = gradient[p];
    const float m = firstMoments[p] * kBeta1 + g * kOneMinusBeta1;
    const float v = secondMoments[p] * kBeta2 + (g * g) * kOneMinusBeta2;
    firstMoments[p] = m;
    secondMoments[p] = v;
    parameters[p] = (m / firstCorrection) / (std::sqrt(v / secondCorrection) + kEpsilon) * step + parameters[p];
  }
}

AdamPowers nextAdamPowers(AdamPowers powers) { return {powers.beta1Power * kBeta1, powers.beta2Power * kBeta2}; }

AdamPowers initialAdamPowers() { return {kBeta1, kBeta2}; }

}  // namespace lla
