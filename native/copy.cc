// The copy component's arithmetic. Compiled without fused multiply-adds (CMakeLists.txt): it must give the same
// doubles as the WASM kernel (assembly/copy.ts), operation for operation, so that the two backends agree.
#include "copy.h"

#include <algorithm>

namespace lla {

void mixCopy(const CopyParams& copy, const int32_t* history, int32_t position, int32_t action, double* phi,
             int32_t numTopics) {
  const int32_t n = std::min(position, copy.window);
  if (n == 0) return;
  // newest first: position - 1, position - 2, ... wrapping around the ring
  int32_t index = (position - 1) % copy.window;
  double weight = 1.0;
  double count = 0.0;  // c_t(action)
  double total = 0.0;  // C_t
  for (int32_t j = 0; j < n; ++j) {
    if (history[index] == action) count += weight;
    total += weight;
    weight *= copy.decay;
    index = index == 0 ? copy.window - 1 : index - 1;
  }
  const double share = count / total;
  for (int32_t k = 0; k < numTopics; ++k) {
    const double lambda = copy.rate[k] * total / (total + copy.mass[k]);
    phi[k] = lambda * share + (1.0 - lambda) * phi[k];
  }
}

}  // namespace lla
