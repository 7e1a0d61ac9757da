// The E-step sweep (SPEC 3.2): every token's topic redrawn by Metropolis-Hastings over the word and sequence
// proposals (or exactly), sequences in parallel, each from its own random stream.
#pragma once
#include <cstdint>

#include "alias.h"
#include "counts.h"
#include "lstm_cell.h"

namespace lla {

struct SweepParams {
  int32_t mode = 0;  // kModeLda / kModeLla / kModeWordLla / kModeHmm
  bool exact = false;
  // lla and hmm: multiply each token's target by p(z_{t+1} | state after topic k), z_{t+1} from topicsPrev
  bool lookahead = false;
  int32_t mhSteps = 2;
  int32_t proposals = 3;  // kProposal* bit set
  int32_t numTopics = 0;
  int32_t vocabularySize = 0;
  const int32_t* tokens = nullptr;   // [T]
  const int32_t* offsets = nullptr;  // [D+1]
  int32_t numSequences = 0;
  const int32_t* topicsPrev = nullptr;  // [T] chain start states and the sequence proposal
  int32_t* topicsNext = nullptr;        // [T] output
  CountView counts;
  AliasView alias;
  double beta = 0;
  double alpha = 0;
  double sequenceSmoothing = 0;
  bool hasCell = false;
  CellView cell;
  // hmm: p(z_t | the topics before it), every entry > 0, K the begin symbol: order 1 [(K+1)][K] at [z_{t-1}][z_t],
  // order 2 [(K+1)][(K+1)][K] at [z_{t-2}][z_{t-1}][z_t]
  const double* transitions = nullptr;
  int32_t transitionOrder = 1;
  uint64_t seed = 0;
  uint64_t iteration = 0;
  uint64_t firstSequence = 0;  // stream index of sequence 0 of this call (a corpus swept in chunks)
  int32_t threads = 0;
};

struct SweepTotals {
  double logPhi = 0;
  int64_t proposalsMade = 0;
  int64_t proposalsAccepted = 0;
};

// Arguments already validated by the binding. Thread-count independent results.
SweepTotals runSweep(const SweepParams& params);

}  // namespace lla
