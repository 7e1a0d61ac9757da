// Exact draw from unnormalised non-negative weights by inverse CDF (the `exact` E-step and the particle filter).
#pragma once
#include <cstdint>

#include "rng.h"

namespace lla {

// total: the sum of weights[0..n) in index order (as the caller computed it).
inline int32_t drawCategorical(const double* weights, int32_t n, double total, Stream& rng) {
  const double u = rng.uniform() * total;
  double cumulative = 0;
  int32_t lastPositive = 0;
  for (int32_t k = 0; k < n; ++k) {
    if (weights[k] <= 0) continue;
    cumulative += weights[k];
    lastPositive = k;
    if (u < cumulative) return k;
  }
  return lastPositive;  // u landed in the rounding gap at the very top
}

}  // namespace lla
