// The particle filter. Each step: pi_s for every particle (the LSTM cells of all particles advance as one
// lock-step batch), the predictive sum_k pi_{s,k} phi_{k,w}, reweighting, a posterior draw of z per particle
// from stream(seed, 0x80000000 + t, firstSequence + d), and systematic resampling when the effective sample size is
// below S/2.
#include "likelihood.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "categorical.h"
#include "exponential.h"
#include "modes.h"
#include "pool.h"
#include "rng.h"

namespace lla {
namespace {

constexpr double kSmallestNotPrevious = 1e-12;

struct FilterShared {
  const FilterParams& params;
  std::vector<double> phiScale;            // [K]
  std::unique_ptr<PreparedCell> prepared;  // lla, word-lla (with all logits)
  FilterShared(const FilterParams& p) : params(p), phiScale(phiScales(p.counts, p.beta)) {
    if (p.mode != kModeLda) prepared = std::make_unique<PreparedCell>(p.cell, true);
  }
};

class Engine {
 public:
  explicit Engine(const FilterShared& shared)
      : shared_(shared), p_(shared.params), K_(shared.params.numTopics),
        S_(shared.params.mode == kModeWordLla ? 1 : shared.params.particles) {
    const int32_t H = p_.hasCell ? p_.cell.hidden : 0;
    phi_.resize(K_);
    previousPhi_.resize(K_);
    terms_.resize(K_);
    mixture_.resize(K_);
    drawn_.resize(S_);
    ancestors_.resize(S_);
    if (shared.prepared) {
      gates_.resize(static_cast<size_t>(S_) * shared.prepared->gateWidth);
      logits_.resize(static_cast<size_t>(S_) * shared.prepared->logitWidth);
      scratch_.resize(4 * H);
      hiddenCopy_.resize(static_cast<size_t>(S_) * H);
      cellCopy_.resize(static_cast<size_t>(S_) * H);
      hiddenOf_.resize(S_);
      gatesOf_.resize(S_);
      logitsOf_.resize(S_);
    }
    topicCopy_.resize(S_);
    if (p_.mode == kModeLda) countsCopy_.resize(static_cast<size_t>(S_) * K_);
  }

  int32_t particles() const { return S_; }

  // Consumes `action` at position state.position; returns log p(action | history).
  double advance(ParticleState& state, int32_t action, uint64_t sequenceIndex, float* mixtureBefore) {
    const int32_t t = *state.position;
    const int32_t previous = *state.previousAction;
    const bool blockStart = p_.hasRepeat && previous >= 0;
    // r(previous, L) with L the length of the run so far (blocks only)
    const double repeatProbability = blockStart ? repeatOf(previous, *state.runLength) : 0.0;
    if (blockStart && action == previous) {
      // the block goes on: the topic chain, the particles and the copy history stay where they are
      if (mixtureBefore) nextMixture(state, mixtureBefore);
      ++*state.runLength;
      return std::log(repeatProbability);
    }
    if (state.runLength) *state.runLength = previous >= 0 && action == previous ? *state.runLength + 1 : 1;
    if (t == 0) std::fill(state.weights, state.weights + S_, 1.0 / S_);
    if (shared_.prepared) stepCells(state, state.hidden, state.cellState);
    phiColumn(p_.counts, shared_.phiScale, p_.beta, action, phi_.data());
    if (p_.copy.enabled) mixCopy(p_.copy, state.copyHistory, t, action, phi_.data(), K_);
    if (blockStart) previousPhi(state, t, previous);
    Stream rng(p_.seed, kFilterIterationBase + static_cast<uint64_t>(t), sequenceIndex);
    if (mixtureBefore) std::fill(mixture_.begin(), mixture_.end(), 0.0);
    double total = 0, mixtureTotal = 0;
    for (int32_t s = 0; s < S_; ++s) {
      const double normaliser = unnormalisedPi(state, s, t);
      // a new block is not the previous action: each particle's predictive is renormalised without it
      const double stay = blockStart ? notPrevious(normaliser) : 1.0;
      if (mixtureBefore) addToMixture(state.weights[s] / (normaliser * stay));
      mixtureTotal += state.weights[s] / stay;
      double sum = 0;
      for (int32_t k = 0; k < K_; ++k) {
        terms_[k] *= phi_[k];
        sum += terms_[k];
      }
      const double predictive = sum / (normaliser * stay);
      if (p_.mode != kModeWordLla) drawn_[s] = drawCategorical(terms_.data(), K_, sum, rng);
      state.weights[s] *= predictive;
      total += state.weights[s];
    }
    if (mixtureBefore) {
      const double scale = blockStart ? 1.0 / mixtureTotal : 1.0;
      for (int32_t k = 0; k < K_; ++k) mixtureBefore[k] = static_cast<float>(mixture_[k] * scale);
    }
    for (int32_t s = 0; s < S_; ++s) state.weights[s] /= total;
    if (p_.mode != kModeWordLla) {
      for (int32_t s = 0; s < S_; ++s) {
        state.previousTopic[s] = drawn_[s];
        if (p_.mode == kModeLda) ++state.topicCounts[static_cast<size_t>(s) * K_ + drawn_[s]];
      }
      double squares = 0;
      for (int32_t s = 0; s < S_; ++s) squares += state.weights[s] * state.weights[s];
      if (1.0 / squares < 0.5 * S_) resample(state, rng);
    }
    if (p_.copy.enabled) recordCopy(p_.copy, state.copyHistory, t, action);
    *state.position = t + 1;
    *state.previousAction = action;
    return blockStart ? std::log(total) + std::log1p(-repeatProbability) : std::log(total);
  }

  // The predictive topic mixture of the next position, leaving the state untouched.
  void nextMixture(const ParticleState& state, float* out) {
    const int32_t t = *state.position;
    if (shared_.prepared) {
      const size_t size = static_cast<size_t>(S_) * p_.cell.hidden;
      std::copy(state.hidden, state.hidden + size, hiddenCopy_.begin());
      std::copy(state.cellState, state.cellState + size, cellCopy_.begin());
      stepCells(state, hiddenCopy_.data(), cellCopy_.data());
    }
    const int32_t previous = *state.previousAction;
    const bool blockStart = p_.hasRepeat && previous >= 0;
    if (blockStart) previousPhi(state, t, previous);
    std::fill(mixture_.begin(), mixture_.end(), 0.0);
    double mixtureTotal = 0;
    for (int32_t s = 0; s < S_; ++s) {
      const double weight = t == 0 ? 1.0 / S_ : state.weights[s];
      const double normaliser = unnormalisedPi(state, s, t);
      const double stay = blockStart ? notPrevious(normaliser) : 1.0;
      addToMixture(weight / (normaliser * stay));
      mixtureTotal += weight / stay;
    }
    const double scale = blockStart ? 1.0 / mixtureTotal : 1.0;
    for (int32_t k = 0; k < K_; ++k) out[k] = static_cast<float>(mixture_[k] * scale);
  }

 private:
  // r(w, L) = repeat[w * R + min(L, R) - 1]; a run has L >= 1 (a state that says 0 is read as 1)
  double repeatOf(int32_t w, int32_t runLength) const {
    const int32_t L = std::min(std::max(runLength, 1), p_.repeatRuns);
    return p_.repeatTable()[static_cast<size_t>(w) * p_.repeatRuns + (L - 1)];
  }

  // Advances every particle's cell on its next input (in the given buffers) and leaves its logits in logits_.
  void stepCells(const ParticleState& state, float* hidden, float* cellState) {
    const PreparedCell& prepared = *shared_.prepared;
    const int32_t H = p_.cell.hidden;
    for (int32_t s = 0; s < S_; ++s) {
      hiddenOf_[s] = hidden + static_cast<size_t>(s) * H;
      gatesOf_[s] = gates_.data() + static_cast<size_t>(s) * prepared.gateWidth;
      logitsOf_[s] = logits_.data() + static_cast<size_t>(s) * prepared.logitWidth;
    }
    batchedProduct(prepared.recurrentT.data(), H, prepared.gateWidth, hiddenOf_.data(), S_, gatesOf_.data());
    for (int32_t s = 0; s < S_; ++s) {
      int32_t input;
      if (p_.mode == kModeLla) input = state.previousTopic[s] < 0 ? K_ : state.previousTopic[s];
      else input = *state.previousAction < 0 ? p_.vocabularySize : *state.previousAction;
      cellUpdate(p_.cell, input, gatesOf_[s], hidden + static_cast<size_t>(s) * H,
                 cellState + static_cast<size_t>(s) * H, scratch_.data());
    }
    allLogits(prepared, hiddenOf_.data(), S_, logitsOf_.data());
  }

  // terms_ = pi_s up to the returned normaliser: softmax numerators (from logits_) or n_{s,k} + alpha.
  double unnormalisedPi(const ParticleState& state, int32_t s, int32_t t) {
    if (p_.mode == kModeLda) {
      const int32_t* counts = state.topicCounts + static_cast<size_t>(s) * K_;
      for (int32_t k = 0; k < K_; ++k) terms_[k] = counts[k] + p_.alpha;
      return t + K_ * p_.alpha;
    }
    const float* logits = logitsOf_[s];
    float largest = logits[0];
    for (int32_t k = 1; k < K_; ++k) largest = std::max(largest, logits[k]);
    double lanes[4] = {0, 0, 0, 0};
    int32_t k = 0;
    for (; k + 4 <= K_; k += 4) {
      for (int32_t l = 0; l < 4; ++l) {
        terms_[k + l] = exponential(logits[k + l] - largest);
        lanes[l] += terms_[k + l];
      }
    }
    double normaliser = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; k < K_; ++k) {
      terms_[k] = exponential(logits[k] - largest);
      normaliser += terms_[k];
    }
    return normaliser;
  }

  // previousPhi_ = p(previous | z = k) at position t (the copy mixture with copy), for a block's renormalisation.
  void previousPhi(const ParticleState& state, int32_t t, int32_t previous) {
    phiColumn(p_.counts, shared_.phiScale, p_.beta, previous, previousPhi_.data());
    if (p_.copy.enabled) mixCopy(p_.copy, state.copyHistory, t, previous, previousPhi_.data(), K_);
  }

  // 1 - p_s(previous) for the particle whose pi numerators are in terms_; kept off 0, where a model sure of a
  // repeat meets a new block.
  double notPrevious(double normaliser) const {
    double sum = 0;
    for (int32_t k = 0; k < K_; ++k) sum += terms_[k] * previousPhi_[k];
    return std::max(1.0 - sum / normaliser, kSmallestNotPrevious);
  }

  void addToMixture(double scale) {
    for (int32_t k = 0; k < K_; ++k) mixture_[k] += scale * terms_[k];
  }

  // Systematic resampling: one uniform offset, S evenly spaced points through the cumulative weights.
  void resample(ParticleState& state, Stream& rng) {
    const double start = rng.uniform() / S_;
    double cumulative = state.weights[0];
    int32_t source = 0;
    for (int32_t i = 0; i < S_; ++i) {
      const double point = start + static_cast<double>(i) / S_;
      while (point >= cumulative && source < S_ - 1) cumulative += state.weights[++source];
      ancestors_[i] = source;
    }
    const int32_t H = p_.hasCell ? p_.cell.hidden : 0;
    if (H > 0) {
      std::copy(state.hidden, state.hidden + static_cast<size_t>(S_) * H, hiddenCopy_.begin());
      std::copy(state.cellState, state.cellState + static_cast<size_t>(S_) * H, cellCopy_.begin());
      for (int32_t i = 0; i < S_; ++i) {
        const size_t from = static_cast<size_t>(ancestors_[i]) * H;
        std::copy(hiddenCopy_.begin() + from, hiddenCopy_.begin() + from + H,
                  state.hidden + static_cast<size_t>(i) * H);
        std::copy(cellCopy_.begin() + from, cellCopy_.begin() + from + H, state.cellState + static_cast<size_t>(i) * H);
      }
    }
    if (p_.mode == kModeLda) {
      std::copy(state.topicCounts, state.topicCounts + static_cast<size_t>(S_) * K_, countsCopy_.begin());
      for (int32_t i = 0; i < S_; ++i) {
        const size_t from = static_cast<size_t>(ancestors_[i]) * K_;
        std::copy(countsCopy_.begin() + from, countsCopy_.begin() + from + K_,
                  state.topicCounts + static_cast<size_t>(i) * K_);
      }
    }
    std::copy(state.previousTopic, state.previousTopic + S_, topicCopy_.begin());
    for (int32_t i = 0; i < S_; ++i) {
      state.previousTopic[i] = topicCopy_[ancestors_[i]];
      state.weights[i] = 1.0 / S_;
    }
  }

  const FilterShared& shared_;
  const FilterParams& p_;
  const int32_t K_;
  const int32_t S_;
  std::vector<double> phi_;                   // [K] phi_{k,w} of the current action (with copy: the copy mixture)
  std::vector<double> previousPhi_;           // [K] the same for the previous action (repeat blocks only)
  std::vector<double> terms_;                 // [K] pi numerators, then times phi
  std::vector<double> mixture_;               // [K]
  std::vector<int32_t> drawn_;                // [S] this step's topic per particle
  std::vector<int32_t> ancestors_;            // [S]
  std::vector<float> gates_;                  // [S][gateWidth]
  std::vector<float> logits_;                 // [S][logitWidth]
  std::vector<float> scratch_;                // [4H]
  std::vector<float> hiddenCopy_, cellCopy_;  // [S][H]
  std::vector<int32_t> topicCopy_;            // [S]
  std::vector<int32_t> countsCopy_;           // [S][K]
  std::vector<const float*> hiddenOf_;
  std::vector<float*> gatesOf_;
  std::vector<float*> logitsOf_;
};

}  // namespace

void runParticleFilter(const FilterParams& params, const int32_t* tokens, const int32_t* offsets, int32_t numSequences,
                       double* logLikelihood, const int32_t* mixturePositions, int32_t mixtureCount, float* mixtures,
                       int32_t threads) {
  const FilterShared shared(params);
  SequenceQueue queue(offsets, numSequences);
  const int32_t K = params.numTopics;
  runParallel(resolveThreads(threads, numSequences), [&](int32_t) {
    Engine engine(shared);
    const int32_t S = engine.particles();
    const int32_t H = params.hasCell ? params.cell.hidden : 0;
    // The sequence's particles: weights [S], previousTopic [S], hidden/cell [S][H], topicCounts [S][K] (lda).
    int32_t position = 0, previousAction = -1, runLength = 0;
    std::vector<double> weights(S);
    std::vector<int32_t> previousTopic(S);
    std::vector<float> hidden(static_cast<size_t>(S) * H), cellState(static_cast<size_t>(S) * H);
    std::vector<int32_t> topicCounts(params.mode == kModeLda ? static_cast<size_t>(S) * K : 0);
    // copyHistory: [window] the ring of recent actions (copy only); a sequence reads only what it wrote
    std::vector<int32_t> copyHistory(params.copy.enabled ? params.copy.window : 0);
    ParticleState state{&position,     &previousAction,  weights.data(),     previousTopic.data(),
                        hidden.data(), cellState.data(), topicCounts.data(), copyHistory.data(),
                        &runLength};
    for (int32_t d; (d = queue.take()) >= 0;) {
      position = 0;
      previousAction = -1;
      runLength = 0;
      std::fill(previousTopic.begin(), previousTopic.end(), -1);
      std::fill(hidden.begin(), hidden.end(), 0.0f);
      std::fill(cellState.begin(), cellState.end(), 0.0f);
      std::fill(topicCounts.begin(), topicCounts.end(), 0);
      const int32_t begin = offsets[d];
      const int32_t end = offsets[d + 1];
      int32_t mixtureIndex = static_cast<int32_t>(
          std::lower_bound(mixturePositions, mixturePositions + mixtureCount, begin) - mixturePositions);
      double total = 0;
      for (int32_t i = begin; i < end; ++i) {
        float* mixture = nullptr;
        if (mixtureIndex < mixtureCount && mixturePositions[mixtureIndex] == i) {
          mixture = mixtures + static_cast<size_t>(mixtureIndex++) * K;
        }
        total += engine.advance(state, tokens[i], params.firstSequence + static_cast<uint64_t>(d), mixture);
      }
      logLikelihood[d] = total;
    }
  });
}

double filterStep(const FilterParams& params, ParticleState& state, int32_t action, uint64_t sequenceIndex,
                  float* mixtureOut) {
  const FilterShared shared(params);
  Engine engine(shared);
  const double logProbability = engine.advance(state, action, sequenceIndex, nullptr);
  if (mixtureOut) engine.nextMixture(state, mixtureOut);
  return logProbability;
}

}  // namespace lla
