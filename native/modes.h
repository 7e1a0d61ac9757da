// Codes shared with src/kernels/types.ts (MODE_CODE, PROPOSAL_CODE).
#pragma once
#include <cstdint>

namespace lla {

constexpr int32_t kModeLda = 0;
constexpr int32_t kModeLla = 1;
constexpr int32_t kModeWordLla = 2;
// The initialisation's first-order stand-in for the LSTM: a transition table re-estimated from counts (sweep only).
constexpr int32_t kModeHmm = 3;

// A bit set: cycle (3) alternates word (even steps) and sequence (odd steps).
constexpr int32_t kProposalWord = 1;
constexpr int32_t kProposalSequence = 2;
constexpr int32_t kProposalCycle = 3;

}  // namespace lla
