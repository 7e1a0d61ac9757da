// Held-out likelihood (SPEC 4): a particle filter left to right for lla and lda (S particles, normalised
// weights, systematic resampling when ESS < S/2); exact for word-lla, whose topics depend on actions only.
#pragma once
#include <cstdint>
#include <vector>

#include "copy.h"
#include "counts.h"
#include "lstm_cell.h"

namespace lla {

// The longest run-length dependence of the repeat probabilities (R of FilterParams::repeat).
constexpr int32_t kMaxRepeatRuns = 64;

struct FilterParams {
  int32_t mode = 0;
  int32_t numTopics = 0;
  int32_t vocabularySize = 0;
  CountView counts;
  double beta = 0;
  double alpha = 0;
  bool hasCell = false;
  CellView cell;
  int32_t particles = 1;  // S (1 for word-lla)
  uint64_t seed = 0;
  uint64_t firstSequence = 0;  // particleFilter: stream index of sequence 0 of this call (a corpus run in chunks)
  CopyParams copy;             // copy.enabled: the copy component (copy.h)
  // repeat: [V][R] (empty: every action is a step of the topic chain) repeat blocks: r(w, L) =
  // repeat[w * R + min(L, R) - 1], the probability that the action after a run of L w's is w again. A repeat
  // scores log r(w, L) and leaves the state as it was; any other action starts a block, drawn from the topic model
  // conditioned on not being w: (1 - r(w, L)) p_s(a) / (1 - p_s(w)) per particle.
  bool hasRepeat = false;
  std::vector<double> repeat;          // particleFilter: the table, copied (the call is asynchronous)
  const double* repeatView = nullptr;  // filterStep: the caller's table, read in place (the call is synchronous)
  int32_t repeatRuns = 1;              // R = the table's length / V, in [1, kMaxRepeatRuns]
  const double* repeatTable() const { return repeatView != nullptr ? repeatView : repeat.data(); }
};

// FilterState of src/kernels/types.ts, validated by the binding.
struct ParticleState {
  int32_t* position;        // [1] tokens consumed
  int32_t* previousAction;  // [1] -1 at the start
  double* weights;          // [S] normalised
  int32_t* previousTopic;   // [S] -1 at the start
  float* hidden;            // [S][H] state before reading the next input (lla, word-lla)
  float* cellState;         // [S][H]
  int32_t* topicCounts;     // [S][K] (lda)
  int32_t* copyHistory;     // [copy.window] (copy only) ring of recent actions, position p at p mod window
  int32_t* runLength;       // [1] length of the current run of previousAction (0 at the start); nullptr: not kept
                            // (only without repeat)
};

// The whole corpus: logLikelihood [D]; mixtures [P][K] at the sorted global mixturePositions [P] (P may be 0).
void runParticleFilter(const FilterParams& params, const int32_t* tokens, const int32_t* offsets, int32_t numSequences,
                       double* logLikelihood, const int32_t* mixturePositions, int32_t mixtureCount, float* mixtures,
                       int32_t threads);

// One known action of a session; returns log p(action | history). mixtureOut ([K] or nullptr) receives the
// predictive topic mixture of the next position.
double filterStep(const FilterParams& params, ParticleState& state, int32_t action, uint64_t sequenceIndex,
                  float* mixtureOut);

}  // namespace lla
