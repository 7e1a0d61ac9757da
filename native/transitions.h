// The topic-transition matrix (SPEC 4, interpretability): the LSTM's next-topic distribution after reading
// z_t, summed by z_t.
#pragma once
#include <cstdint>

#include "lstm_cell.h"

namespace lla {

// sums: [K][K] (row = z_t) += pi_{t+1}; rowCounts: [K] += 1, over all positions but each sequence's last.
// Both are overwritten (zeroed first). Arguments already validated.
void topicTransitions(const CellView& cell, const int32_t* offsets, int32_t numSequences, const int32_t* topics,
                      double* sums, double* rowCounts);

}  // namespace lla
