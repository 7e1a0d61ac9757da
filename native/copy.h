// The copy component of the particle filter (issue 13): the definition both backends share is in
// src/kernels/types.ts. With probability lambda_{t,k} the action repeats one of the sequence's recent actions
// (in proportion to their decayed counts), else it is drawn from phi_k.
#pragma once
#include <cstdint>
#include <vector>

namespace lla {

struct CopyParams {
  bool enabled = false;
  double decay = 0;
  int32_t window = 0;        // the history ring holds the last `window` actions
  std::vector<double> rate;  // [K] rho_k
  std::vector<double> mass;  // [K] mu_k: lambda_{t,k} = rho_k C_t / (C_t + mu_k)
};

// Replaces phi [K] (phi_{k,action} of the current action) by lambda_{t,k} c_t(action) / C_t +
// (1 - lambda_{t,k}) phi_k, reading the actions of the positions before `position` from the ring history
// [window] (position p at index p mod window). Leaves phi as it is while the history is empty (position 0).
void mixCopy(const CopyParams& copy, const int32_t* history, int32_t position, int32_t action, double* phi,
             int32_t numTopics);

// Records the action of `position` in the ring history.
inline void recordCopy(const CopyParams& copy, int32_t* history, int32_t position, int32_t action) {
  history[position % copy.window] = action;
}

}  // namespace lla
