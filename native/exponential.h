// A branch-free float exponential (Cephes expf polynomial, about 1 ulp) so that loops over gates and softmax
// terms vectorise; libm's expf would not without -ffast-math.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace lla {

inline float exponential(float x) {
  // value selects (not std::min/max, which return references) so that GCC if-converts and vectorises the loop
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return e * scale;
}

// The LSTM's gate activations (logistic sigmoid, never the hard sigmoid), shared by the cell and the trainer.
inline float sigmoid(float x) { return 1.0f / (1.0f + exponential(-x)); }
inline float hyperbolicTangent(float x) { return 2.0f / (1.0f + exponential(-2.0f * x)) - 1.0f; }

}  // namespace lla
