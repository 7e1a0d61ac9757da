// Sweep kernels. Metropolis-Hastings lda and hmm interleave kChains sequences per thread step by step so that
// their cache misses overlap; lla and word-lla keep kBatch sequences per thread in lock step so that the
// recurrent matrix is read once per step for all of them. A slot is refilled from the shared queue as soon as its
// sequence ends. Exact lda and hmm run one sequence at a time.
#include "sweep.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "categorical.h"
#include "exponential.h"
#include "modes.h"
#include "pool.h"
#include "rng.h"

namespace lla {
namespace {

constexpr int32_t kBatch = 8;

// The word proposal and phi lookups of one action touch one 32-byte header, one 12-byte entry and one 8-byte
// hash slot instead of five separate arrays: the tables of the contract are re-packed once per sweep
// (O(V + nnz)).
struct alignas(32) WordRow {
  int32_t begin;      // first entry of the row in PackedEntry order
  int32_t length;     // non-zero topics of the action
  int32_t hashBegin;  // first slot of the row's CountSlot table
  int32_t hashShift;  // 32 - log2(slots of the row's table)
  double sparseMass;  // sum over the row of n_{k,w} / (n_k + V beta)
  double totalMass;   // sparseMass + the dense table's mass (the word proposal's normaliser)
};
struct PackedEntry {
  float prob;     // Vose probability of the slot's own topic
  int32_t alias;  // the slot's alias topic
  int32_t topic;  // the slot's own topic k (ascending within the row)
};
// n_{k,w} lookups (phi of the chain's states) by open addressing with linear probing: one cache line per lookup
// on average, where a binary search over a 1000-entry row took ~10 dependent, badly predicted loads.
struct CountSlot {
  int32_t topic;  // -1: empty
  int32_t count;  // n_{k,w}
};

// Multiplicative (Fibonacci) hash of a topic to a slot of a 2^(32 - shift)-slot table.
inline uint32_t hashSlot(int32_t topic, int32_t shift) { return (static_cast<uint32_t>(topic) * 0x9E3779B1u) >> shift; }

// The packed tables' storage, kept between sweeps: re-allocating ~10 MB per sweep cost page faults on every
// call (the kernel zero-fills fresh pages, and the faults serialise the threads that pack the tables).
struct TableBuffers {
  std::vector<WordRow> wordRows;            // [V] (every used header is rewritten by each sweep)
  std::unique_ptr<PackedEntry[]> entries;   // [entryCapacity >= nnz] (filled by the threads each sweep)
  std::unique_ptr<CountSlot[]> countSlots;  // [slotCapacity >= sum over rows of 2^ceil(log2(2 length))]
  size_t entryCapacity = 0;
  size_t slotCapacity = 0;

  void reserve(size_t entriesNeeded, size_t slotsNeeded) {
    if (entriesNeeded > entryCapacity) {
      entries.reset();  // free the old storage before taking the new
      entries.reset(new PackedEntry[entriesNeeded]);
      entryCapacity = entriesNeeded;
    }
    if (slotsNeeded > slotCapacity) {
      countSlots.reset();
      countSlots.reset(new CountSlot[slotsNeeded]);
      slotCapacity = slotsNeeded;
    }
  }
};

// One set of buffers is parked between sweeps; a sweep running while another holds it allocates its own (so
// concurrent sweeps never share tables), and the set returned last is the one kept.
std::mutex parkedLock;
std::unique_ptr<TableBuffers> parked;

std::unique_ptr<TableBuffers> takeBuffers() {
  std::lock_guard<std::mutex> lock(parkedLock);
  if (parked) return std::move(parked);
  return std::make_unique<TableBuffers>();
}

void parkBuffers(std::unique_ptr<TableBuffers> buffers) {
  std::lock_guard<std::mutex> lock(parkedLock);
  parked = std::move(buffers);
}

// Returns the buffers to the parking place however the sweep ends (an exception included).
struct ParkOnExit {
  std::unique_ptr<TableBuffers> buffers;
  ~ParkOnExit() {
    if (buffers) parkBuffers(std::move(buffers));
  }
};

struct Shared {
  const SweepParams& params;
  std::vector<WordRow>& wordRows;          // [V]
  PackedEntry* entries;                    // [nnz] (uninitialised until packed: filled by the threads)
  CountSlot* countSlots;                   // [sum over rows of 2^ceil(log2(2 length))] row hash tables
  std::vector<double> phiScale;            // [K] 1 / (n_k + V beta)
  std::unique_ptr<PreparedCell> prepared;  // lla, word-lla
  std::vector<double> logPhiOfSequence;    // [D] summed in index order at the end (thread-count independent)
};

// Sum of logs as a running product, with one log per ~30 tokens instead of one per token (phi >= ~1e-9, so
// the product is folded into the sum long before it could underflow).
class LogProduct {
 public:
  void add(double value) {
    product_ *= value;
    if (product_ < 1e-200) fold();
  }
  double value() {
    fold();
    return sum_;
  }

 private:
  void fold() {
    sum_ += std::log(product_);
    product_ = 1.0;
  }
  double sum_ = 0;
  double product_ = 1.0;
};

// How a sampler scores topic k apart from phi (the target is this prior times phi_{k,w}).
constexpr int kPriorCounts = 0;       // lda: n_{d,k}^{-t} + alpha
constexpr int kPriorTransitions = 1;  // hmm: A[z_{t-1}][k], times A[k][z_{t+1}] with lookahead
constexpr int kPriorLogits = 2;       // lla, word-lla: in log space, the logit l_k (plus log f(k) with lookahead)

// One sequence in progress in an interleaved worker: its random stream, its counts and the Metropolis-Hastings
// chain of its current token, paused between drawing a step's proposal (prefetching what evaluating it reads)
// and evaluating it. Every chain only ever touches its own state, so results do not depend on which chains
// share a worker. lda uses inSequence, hmm previousTopic and nextTopic, the cell modes hidden.
struct Chain {
  int32_t sequence = -1;  // -1: the slot is free
  int32_t length = 0;
  int32_t offset = 0;                 // position of the current token in the sequence
  const int32_t* tokens = nullptr;    // [length] the sequence's actions
  const int32_t* previous = nullptr;  // [length] previous-sweep topics
  int32_t* next = nullptr;            // [length] this sweep's topics
  int32_t* histogram = nullptr;       // [K] c_{d,k}: previous-sweep topics of the sequence
  int32_t* inSequence = nullptr;      // [K] n_{d,k}: current topics of the sequence (minus the current token)
  const float* hidden = nullptr;      // [H] the LSTM state after reading the token's input
  int32_t previousTopic = 0;          // hmm: z_{t-1} of this sweep (K, the begin symbol, before the first token)
  int32_t beforePrevious = 0;         // hmm of order 2: z_{t-2} of this sweep (K before the first token)
  int32_t nextTopic = -1;             // hmm, lla with lookahead: z_{t+1} of the previous sweep (-1: no factor)
  int32_t afterNext = -1;             // hmm of order 2 with lookahead: z_{t+2} of the previous sweep (-1: none)
  Stream rng;
  LogProduct logPhi;
  // the current token's chain
  int32_t word = 0;
  int32_t own = 0;  // the token's previous-sweep topic (the chain's start)
  int32_t current = 0;
  int32_t step = 0;
  double currentPrior = 0;
  double currentPhi = -1;  // -1: not computed yet
  // the pending proposal of `step`
  bool wordStep = false;
  int32_t proposal = 0;                // -1 while a sparse word draw waits for its entry
  const PackedEntry* entry = nullptr;  // that entry: its prob decides between its own topic and its alias
  double slotFraction = 0;             // u - slot of that draw
};

// A cell-mode sequence in a lock-step batch: its LSTM state and its chain. Each state buffer is [2H], h then c.
struct Slot {
  int32_t sequence = -1;
  int32_t begin = 0;
  int32_t length = 0;
  int32_t position = 0;
  int32_t previousTopic = 0;
  double logPhi = 0;
  float* hidden = nullptr;     // [H] s_t's h (the first half of its state buffer)
  float* cellState = nullptr;  // [H] s_t's c (the second half)
  float* gates = nullptr;      // [gateWidth] recurrent . hidden
  // lookahead: the candidate states s_{t+1}(k) of the chain's current topic and of the pending proposal, and
  // the K logits of the last candidate evaluated
  float* currentState = nullptr;   // [2H]
  float* proposalState = nullptr;  // [2H]
  float* logits = nullptr;         // [logitWidth]
  bool looking = false;            // lookahead at this position (not the sequence's last)
  double currentFactor = 0;        // log f of the chain's current topic
  int32_t spareTopic = -1;         // the topic whose candidate proposalState holds (-1: none), and its log f
  double spareFactor = 0;
  // the pending MH step of a looking slot, decided once its candidate's factor is known
  double pendingLogit = 0;     // the proposal's logit
  double pendingSequence = 1;  // the sequence step's part of the ratio (1 for a word step)
  double pendingRest = 0;      // the ratio but for f (its bound, f <= 1): exp(logit - current prior) x that part
  double pendingPhi = -1;      // the proposal's phi (sequence steps)
  double pendingUniform = -1;  // the step's uniform when it was drawn before the factor, else -1
  Chain chain;                 // rng, histogram ([K] previous-sweep topics of the sequence) and the MH state
};

// Chains per lda worker: enough independent cache misses in flight to hide memory latency; their [K] count
// arrays still fit in L2.
constexpr int32_t kChains = 8;

// log p(next | logits) = l_next - log sum_j exp(l_j) over logits [K]: the lookahead factor of one candidate.
double logSoftmaxAt(const float* logits, int32_t K, int32_t next) {
  // the largest logit in 8 lanes (value selects, so that GCC vectorises the loop; a scalar loop took a quarter of
  // this function's time at K=100)
  float largest = logits[0];
  int32_t k = 0;
  if (K >= 8) {
    float tops[8];
    for (int32_t l = 0; l < 8; ++l) tops[l] = logits[l];
    for (k = 8; k + 8 <= K; k += 8) {
      for (int32_t l = 0; l < 8; ++l) tops[l] = logits[k + l] > tops[l] ? logits[k + l] : tops[l];
    }
    for (int32_t l = 0; l < 8; ++l) largest = tops[l] > largest ? tops[l] : largest;
  }
  for (; k < K; ++k) largest = logits[k] > largest ? logits[k] : largest;
  float lanes[8] = {};
  k = 0;
  for (; k + 8 <= K; k += 8) {
    for (int32_t l = 0; l < 8; ++l) lanes[l] += exponential(logits[k + l] - largest);
  }
  double total = ((static_cast<double>(lanes[0]) + lanes[1]) + (static_cast<double>(lanes[2]) + lanes[3])) +
                 ((static_cast<double>(lanes[4]) + lanes[5]) + (static_cast<double>(lanes[6]) + lanes[7]));
  for (; k < K; ++k) total += exponential(logits[k] - largest);
  return static_cast<double>(logits[next] - largest) - std::log(total);
}

class Worker {
 public:
  Worker(Shared& shared, SequenceQueue& queue)
      : shared_(shared), p_(shared.params), queue_(queue), K_(shared.params.numTopics) {
    if (p_.exact) {
      weights_.resize(K_);
      phi_.resize(K_);
      if (shared.prepared) logits_.resize(shared.prepared->logitWidth);
    }
  }

  int64_t made = 0;
  int64_t accepted = 0;

  // Exact lda and hmm: all K terms per token, one sequence at a time.
  template <int kKind>
  void runExactSequences() {
    std::vector<int32_t> inSequence(K_, 0);  // [K] n_{d,k}: current topics of the sequence
    Chain chain;
    chain.inSequence = inSequence.data();
    for (int32_t d; (d = queue_.take()) >= 0;) {
      const int32_t begin = p_.offsets[d];
      const int32_t length = p_.offsets[d + 1] - begin;
      const int32_t* previous = p_.topicsPrev + begin;
      int32_t* next = p_.topicsNext + begin;
      const int32_t* tokens = p_.tokens + begin;
      Stream rng(p_.seed, p_.iteration, p_.firstSequence + static_cast<uint64_t>(d));
      if constexpr (kKind == kPriorCounts) {
        for (int32_t t = 0; t < length; ++t) ++inSequence[previous[t]];
      }
      LogProduct logPhi;
      for (int32_t t = 0; t < length; ++t) {
        const int32_t w = tokens[t];
        if constexpr (kKind == kPriorCounts) {
          --inSequence[previous[t]];  // n_{d,k}^{-t}
        } else {
          transitionContext(chain, t, length, previous, next);
        }
        double phi;
        const int32_t z = exactDraw<kKind>(rng, w, chain, nullptr, phi);
        if constexpr (kKind == kPriorCounts) ++inSequence[z];
        next[t] = z;
        logPhi.add(phi);
      }
      shared_.logPhiOfSequence[d] = logPhi.value();
      if constexpr (kKind == kPriorCounts) {
        for (int32_t t = 0; t < length; ++t) inSequence[next[t]] = 0;
      }
    }
  }

  // Metropolis-Hastings lda and hmm with kChains sequences interleaved step by step: each step's proposal is
  // drawn and the memory its evaluation reads is prefetched, then the other chains take a step each before it is
  // evaluated. Each chain makes exactly the draws of a sequence run alone.
  template <int kKind>
  void runInterleaved() {
    // counts: [kChains][2][K] histogram and inSequence of each chain
    std::vector<int32_t> counts(static_cast<size_t>(kChains) * 2 * K_, 0);
    Chain chains[kChains];
    for (int32_t b = 0; b < kChains; ++b) {
      chains[b].histogram = counts.data() + static_cast<size_t>(b) * 2 * K_;
      chains[b].inSequence = chains[b].histogram + K_;
    }
    int32_t running = 0;
    for (Chain& chain : chains) running += startSequence<kKind>(chain) ? 1 : 0;
    while (running > 0) {
      for (Chain& chain : chains) {
        if (chain.sequence < 0) continue;
        if (!evaluateStep<kKind>(chain)) continue;  // the chain's next step was drawn; it waits for the next round
        // the token is done: record it, then start the next token, or the next sequence
        const int32_t z = chain.current;
        ++chain.inSequence[z];
        chain.next[chain.offset] = z;
        chain.logPhi.add(chain.currentPhi < 0 ? phiOf(chain.word, z) : chain.currentPhi);
        if (++chain.offset < chain.length) {
          beginToken<kKind>(chain);
          continue;
        }
        shared_.logPhiOfSequence[chain.sequence] = chain.logPhi.value();
        for (int32_t t = 0; t < chain.length; ++t) {
          chain.histogram[chain.previous[t]] = 0;
          chain.inSequence[chain.next[t]] = 0;
        }
        if (!startSequence<kKind>(chain)) --running;
      }
    }
  }

  // lla and word-lla: kBatch sequences in lock step through the cell. Each round: draw every slot's first MH
  // proposal and prefetch what it reads, run the batched recurrent product (which hides those misses), then
  // take the MH steps slot by slot, one step of every slot before the next step of any, so that each step's
  // memory is prefetched while the other slots step.
  void runCell() {
    const PreparedCell& prepared = *shared_.prepared;
    const int32_t H = p_.cell.hidden;
    const int32_t gateWidth = prepared.gateWidth;
    // stateBuffer: [kBatch][2H + gateWidth] hidden, cell and gates of each slot; histograms: [kBatch][K].
    std::vector<float> stateBuffer(static_cast<size_t>(kBatch) * (2 * H + gateWidth), 0.0f);
    std::vector<int32_t> histograms(static_cast<size_t>(kBatch) * K_, 0);
    std::vector<float> scratch(4 * H);
    Slot slots[kBatch];
    for (int32_t b = 0; b < kBatch; ++b) {
      float* base = stateBuffer.data() + static_cast<size_t>(b) * (2 * H + gateWidth);
      slots[b].hidden = base;
      slots[b].cellState = base + H;
      slots[b].gates = base + 2 * H;
      slots[b].chain.histogram = histograms.data() + static_cast<size_t>(b) * K_;
      slots[b].chain.hidden = slots[b].hidden;
    }
    const float* hiddenOf[kBatch];
    float* gatesOf[kBatch];
    int32_t active[kBatch];
    bool tokenDone[kBatch];
    bool queueOpen = true;
    for (;;) {
      for (int32_t b = 0; b < kBatch && queueOpen; ++b) {
        if (slots[b].sequence < 0) queueOpen = startSlot(slots[b]);
      }
      int32_t count = 0;
      for (int32_t b = 0; b < kBatch; ++b) {
        if (slots[b].sequence < 0) continue;
        hiddenOf[count] = slots[b].hidden;
        gatesOf[count] = slots[b].gates;
        active[count++] = b;
        if (!p_.exact) beginCellToken(slots[b]);
        // word-lla: the input row (4H floats) is read right after the batched product, which is long enough to
        // hide its misses; the table holds a row per action (41 MB for Brown at H=64), far beyond the caches.
        // (lla's table of K+1 rows stays in cache, and the prefetches only cost it time.)
        if (p_.mode != kModeLla) {
          const float* row = p_.cell.inputTable + static_cast<size_t>(inputOf(slots[b])) * 4 * H;
          for (int32_t r = 0; r < 4 * H; r += 16) __builtin_prefetch(row + r);
        }
      }
      if (count == 0) break;
      batchedProduct(prepared.recurrentT.data(), H, gateWidth, hiddenOf, count, gatesOf);
      bool stepping = false;
      for (int32_t i = 0; i < count; ++i) {
        Slot& slot = slots[active[i]];
        const int32_t position = slot.begin + slot.position;
        cellUpdate(p_.cell, inputOf(slot), slot.gates, slot.hidden, slot.cellState, scratch.data());
        if (p_.exact) {
          slot.chain.current =
              exactDraw<kPriorLogits>(slot.chain.rng, p_.tokens[position], slot.chain, nullptr, slot.chain.currentPhi);
          tokenDone[i] = true;
        } else {
          slot.chain.currentPrior = prior<kPriorLogits>(slot.chain, slot.chain.current);
          tokenDone[i] = evaluateStep<kPriorLogits>(slot.chain);
          stepping = stepping || !tokenDone[i];
        }
      }
      while (stepping) {
        stepping = false;
        for (int32_t i = 0; i < count; ++i) {
          if (tokenDone[i]) continue;
          tokenDone[i] = evaluateStep<kPriorLogits>(slots[active[i]].chain);
          stepping = stepping || !tokenDone[i];
        }
      }
      for (int32_t i = 0; i < count; ++i) finishCellToken(slots[active[i]]);
    }
  }

  // lla with lookahead: as runCell, but each token's target also holds f(k) = p(z_{t+1} | s_{t+1}(k)), the
  // previous sweep's next topic after the cell consumes candidate k (no factor at a sequence's last position).
  // recurrent . h_t is computed once per token, batched over the slots: every candidate's gates need it, and so
  // does the next position, which steps from the accepted topic's candidate state (kept, not recomputed). The
  // candidates' K logits are batched over the slots that evaluate one in the same MH step. MH keeps f of the
  // chain's current topic in its prior, so each step evaluates one candidate, the proposal, when it differs.
  void runCellLookahead() {
    const PreparedCell& prepared = *shared_.prepared;  // built with all logits
    const int32_t H = p_.cell.hidden;
    const int32_t gateWidth = prepared.gateWidth;
    const int32_t logitWidth = prepared.logitWidth;
    // buffer: [kBatch][3 x 2H + gateWidth + logitWidth] each slot's state, current and proposal candidates, gates
    // and candidate logits; histograms: [kBatch][K]
    const size_t slotFloats = 6 * static_cast<size_t>(H) + gateWidth + logitWidth;
    std::vector<float> buffer(kBatch * slotFloats, 0.0f);
    std::vector<int32_t> histograms(static_cast<size_t>(kBatch) * K_, 0);
    std::vector<float> scratch(4 * H);
    // exact mode, per slot in turn: candidates [K][2H] every topic's candidate state, their logits [K][logitWidth]
    // and factors logFactor [K]
    std::vector<float> candidates(p_.exact ? static_cast<size_t>(K_) * 2 * H : 0);
    std::vector<float> candidateLogits(p_.exact ? static_cast<size_t>(K_) * logitWidth : 0);
    std::vector<double> logFactor(p_.exact ? K_ : 0);
    std::vector<const float*> candidateOf(p_.exact ? K_ : 0);
    std::vector<float*> candidateLogitsOf(p_.exact ? K_ : 0);
    for (int32_t k = 0; k < static_cast<int32_t>(candidateOf.size()); ++k) {
      candidateOf[k] = candidates.data() + static_cast<size_t>(k) * 2 * H;
      candidateLogitsOf[k] = candidateLogits.data() + static_cast<size_t>(k) * logitWidth;
    }
    Slot slots[kBatch];
    for (int32_t b = 0; b < kBatch; ++b) {
      float* base = buffer.data() + b * slotFloats;
      slots[b].hidden = base;
      slots[b].cellState = base + H;
      slots[b].currentState = base + 2 * H;
      slots[b].proposalState = base + 4 * H;
      slots[b].gates = base + 6 * H;
      slots[b].logits = slots[b].gates + gateWidth;
      slots[b].chain.histogram = histograms.data() + static_cast<size_t>(b) * K_;
      slots[b].chain.hidden = slots[b].hidden;
    }
    const float* hiddenOf[kBatch];
    float* outputOf[kBatch];
    int32_t active[kBatch];
    int32_t evaluated[kBatch];  // slots whose candidate is in this batch of logits
    bool tokenDone[kBatch];
    bool queueOpen = true;
    // the candidate state s_{t+1}(k) of a slot into target [2H] (h then c), from its s_t and recurrent . h_t
    auto candidateState = [&](const Slot& slot, int32_t k, float* target) {
      std::copy(slot.hidden, slot.hidden + 2 * H, target);
      cellUpdate(p_.cell, k, slot.gates, target, target + H, scratch.data());
    };
    for (;;) {
      for (int32_t b = 0; b < kBatch && queueOpen; ++b) {
        if (slots[b].sequence < 0) queueOpen = startSlot(slots[b]);
      }
      int32_t count = 0;
      int32_t looking = 0;
      for (int32_t b = 0; b < kBatch; ++b) {
        Slot& slot = slots[b];
        if (slot.sequence < 0) continue;
        active[count++] = b;
        if (!p_.exact) beginCellToken(slot);
        // s_t: the first position steps from the zero state (recurrent . 0 = 0) on the begin symbol; later ones
        // already hold the accepted candidate's state
        if (slot.position == 0) {
          std::fill(slot.gates, slot.gates + gateWidth, 0.0f);
          cellUpdate(p_.cell, K_, slot.gates, slot.hidden, slot.cellState, scratch.data());
        }
        slot.looking = slot.position + 1 < slot.length;
        slot.chain.nextTopic = slot.looking ? p_.topicsPrev[slot.begin + slot.position + 1] : -1;
        if (slot.looking) {
          hiddenOf[looking] = slot.hidden;
          outputOf[looking++] = slot.gates;
        }
      }
      if (count == 0) break;
      batchedProduct(prepared.recurrentT.data(), H, gateWidth, hiddenOf, looking, outputOf);
      if (p_.exact) {
        for (int32_t i = 0; i < count; ++i) {
          Slot& slot = slots[active[i]];
          const int32_t w = p_.tokens[slot.begin + slot.position];
          if (!slot.looking) {
            slot.chain.current = exactDraw<kPriorLogits>(slot.chain.rng, w, slot.chain, nullptr, slot.chain.currentPhi);
            continue;
          }
          for (int32_t k = 0; k < K_; ++k) candidateState(slot, k, candidates.data() + static_cast<size_t>(k) * 2 * H);
          allLogits(prepared, candidateOf.data(), K_, candidateLogitsOf.data());
          for (int32_t k = 0; k < K_; ++k) logFactor[k] = logSoftmaxAt(candidateLogitsOf[k], K_, slot.chain.nextTopic);
          const int32_t z =
              exactDraw<kPriorLogits>(slot.chain.rng, w, slot.chain, logFactor.data(), slot.chain.currentPhi);
          slot.chain.current = z;
          std::copy(candidateOf[z], candidateOf[z] + 2 * H, slot.currentState);
        }
      } else {
        // the current topic's prior: its logit, and for a looking slot its candidate state (the next position's, if
        // the chain stays); log f(current) joins the prior when a step first proposes another topic (with every
        // proposal equal to the current topic it is never needed)
        int32_t batch = 0;
        bool factorKnown[kBatch];
        for (int32_t i = 0; i < count; ++i) {
          Slot& slot = slots[active[i]];
          slot.chain.currentPrior = logitOf(p_.cell, slot.hidden, slot.chain.current);
          slot.spareTopic = -1;
          factorKnown[i] = !slot.looking;
          if (slot.looking) candidateState(slot, slot.chain.current, slot.currentState);
        }
        // the MH steps: one step of every slot per pass. f <= 1 bounds a looking step's ratio by the rest of it, so
        // a step whose uniform already exceeds that bound is rejected without its candidate (the draws and the
        // decision are those of evaluating it); the candidates still needed are batched, the one kept from an
        // earlier step of the token reused.
        bool needsFactor[kBatch];
        std::fill(tokenDone, tokenDone + count, false);
        for (bool stepping = true; stepping;) {
          batch = 0;
          for (int32_t i = 0; i < count; ++i) {
            if (tokenDone[i] || factorKnown[i]) continue;
            Slot& slot = slots[active[i]];
            if (resolveProposal(slot.chain) == slot.chain.current) continue;
            hiddenOf[batch] = slot.currentState;
            outputOf[batch] = slot.logits;
            evaluated[batch++] = i;
          }
          allLogits(prepared, hiddenOf, batch, outputOf);
          for (int32_t j = 0; j < batch; ++j) {
            Slot& slot = slots[active[evaluated[j]]];
            slot.currentFactor = logSoftmaxAt(slot.logits, K_, slot.chain.nextTopic);
            slot.chain.currentPrior += slot.currentFactor;
            factorKnown[evaluated[j]] = true;
          }
          batch = 0;
          stepping = false;
          for (int32_t i = 0; i < count; ++i) {
            needsFactor[i] = false;
            if (tokenDone[i]) continue;
            Slot& slot = slots[active[i]];
            Chain& chain = slot.chain;
            const int32_t proposal = resolveProposal(chain);
            if (!slot.looking || proposal == chain.current) {
              tokenDone[i] = completeStep<kPriorLogits>(
                  chain, proposal == chain.current ? 0 : logitOf(p_.cell, slot.hidden, proposal));
            } else {
              slot.pendingLogit = logitOf(p_.cell, slot.hidden, proposal);
              slot.pendingSequence = sequenceRatio(chain, slot.pendingPhi);
              slot.pendingRest = std::exp(slot.pendingLogit - chain.currentPrior) * slot.pendingSequence;
              slot.pendingUniform = -1;
              if (slot.pendingRest < 1.0) {
                slot.pendingUniform = chain.rng.uniform();
                if (slot.pendingUniform >= slot.pendingRest) {
                  tokenDone[i] = decideStep(chain, false, 0, -1);
                  stepping = stepping || !tokenDone[i];
                  continue;
                }
              }
              needsFactor[i] = true;
              if (proposal == slot.spareTopic) continue;  // its candidate and factor are at hand
              candidateState(slot, proposal, slot.proposalState);
              hiddenOf[batch] = slot.proposalState;
              outputOf[batch] = slot.logits;
              evaluated[batch++] = active[i];
              slot.spareTopic = -1;
              continue;
            }
            stepping = stepping || !tokenDone[i];
          }
          allLogits(prepared, hiddenOf, batch, outputOf);
          for (int32_t j = 0; j < batch; ++j) {
            Slot& slot = slots[evaluated[j]];
            slot.spareTopic = slot.chain.proposal;
            slot.spareFactor = logSoftmaxAt(slot.logits, K_, slot.chain.nextTopic);
          }
          for (int32_t i = 0; i < count; ++i) {
            if (!needsFactor[i]) continue;
            Slot& slot = slots[active[i]];
            Chain& chain = slot.chain;
            // the ratio as evaluateStep computes it, the uniform drawn now unless it was drawn above
            const double proposedPrior = slot.pendingLogit + slot.spareFactor;
            const double ratio = std::exp(proposedPrior - chain.currentPrior) * slot.pendingSequence;
            const bool accept =
                slot.pendingUniform >= 0 ? slot.pendingUniform < ratio : (ratio >= 1.0 || chain.rng.uniform() < ratio);
            if (accept) {
              // the old current's candidate becomes the spare one
              std::swap(slot.currentState, slot.proposalState);
              std::swap(slot.currentFactor, slot.spareFactor);
              slot.spareTopic = chain.current;
            }
            tokenDone[i] = decideStep(chain, accept, proposedPrior, slot.pendingPhi);
            stepping = stepping || !tokenDone[i];
          }
        }
      }
      for (int32_t i = 0; i < count; ++i) {
        Slot& slot = slots[active[i]];
        // the next position steps from the accepted topic's candidate state
        if (slot.looking) {
          std::swap(slot.hidden, slot.currentState);
          slot.cellState = slot.hidden + H;
          slot.chain.hidden = slot.hidden;
        }
        finishCellToken(slot);
      }
    }
  }

 private:
  // n_{k,w} from the row's hash table (0 when absent). Tables are at most half full, so probes end quickly.
  int32_t countOf(int32_t w, int32_t k) const {
    const WordRow& row = shared_.wordRows[w];
    if (row.length == 0) return 0;
    const CountSlot* table = shared_.countSlots + row.hashBegin;
    const uint32_t mask = (0xFFFFFFFFu >> row.hashShift);
    for (uint32_t slot = hashSlot(k, row.hashShift);; slot = (slot + 1) & mask) {
      const CountSlot& entry = table[slot];
      if (entry.topic == k) return entry.count;
      if (entry.topic < 0) return 0;
    }
  }

  double phiOf(int32_t w, int32_t k) const { return (countOf(w, k) + p_.beta) * shared_.phiScale[k]; }

  void prefetchCount(int32_t w, int32_t k) const {
    const WordRow& row = shared_.wordRows[w];
    if (row.length > 0) __builtin_prefetch(shared_.countSlots + row.hashBegin + hashSlot(k, row.hashShift));
  }

  // the cell's input at a slot's position: the begin symbol, else the previous topic (lla) or action (word-lla)
  int32_t inputOf(const Slot& slot) const {
    return slot.position == 0    ? (p_.mode == kModeLla ? K_ : p_.vocabularySize)
           : p_.mode == kModeLla ? slot.previousTopic
                                 : p_.tokens[slot.begin + slot.position - 1];
  }

  // The next non-empty sequence of the queue (an empty one is recorded as done), or -1 when none is left.
  int32_t takeSequence() {
    for (int32_t d; (d = queue_.take()) >= 0;) {
      if (p_.offsets[d + 1] > p_.offsets[d]) return d;
      shared_.logPhiOfSequence[d] = 0;
    }
    return -1;
  }

  // Takes the next non-empty sequence from the queue into a cell-mode slot (zero LSTM state); false when the
  // queue is empty (the slot stays free).
  bool startSlot(Slot& slot) {
    const int32_t d = takeSequence();
    if (d < 0) return false;
    const int32_t begin = p_.offsets[d];
    const int32_t length = p_.offsets[d + 1] - begin;
    slot.sequence = d;
    slot.begin = begin;
    slot.length = length;
    slot.position = 0;
    slot.logPhi = 0;
    slot.chain.rng = Stream(p_.seed, p_.iteration, p_.firstSequence + static_cast<uint64_t>(d));
    slot.chain.length = length;
    slot.chain.tokens = p_.tokens + begin;
    slot.chain.previous = p_.topicsPrev + begin;
    slot.chain.next = p_.topicsNext + begin;
    std::fill(slot.hidden, slot.hidden + 2 * p_.cell.hidden, 0.0f);
    for (int32_t t = 0; t < length; ++t) ++slot.chain.histogram[p_.topicsPrev[begin + t]];
    return true;
  }

  // Records a cell-mode slot's token (its chain's final topic) and moves on; frees the slot at the sequence's end.
  void finishCellToken(Slot& slot) {
    const Chain& chain = slot.chain;
    const int32_t position = slot.begin + slot.position;
    const int32_t w = p_.tokens[position];
    const int32_t z = chain.current;
    p_.topicsNext[position] = z;
    slot.previousTopic = z;
    slot.logPhi += std::log(chain.currentPhi < 0 ? phiOf(w, z) : chain.currentPhi);
    if (++slot.position == slot.length) {
      shared_.logPhiOfSequence[slot.sequence] = slot.logPhi;
      for (int32_t t = 0; t < slot.length; ++t) slot.chain.histogram[p_.topicsPrev[slot.begin + t]] = 0;
      slot.sequence = -1;
    } else {
      __builtin_prefetch(&shared_.wordRows[p_.tokens[position + 1]]);
    }
  }

  // Takes the next non-empty sequence from the queue into `chain` and draws its first step; false when the queue
  // is empty (the chain is then free).
  template <int kKind>
  bool startSequence(Chain& chain) {
    const int32_t d = takeSequence();
    chain.sequence = d;
    if (d < 0) return false;
    const int32_t begin = p_.offsets[d];
    const int32_t length = p_.offsets[d + 1] - begin;
    chain.length = length;
    chain.offset = 0;
    chain.tokens = p_.tokens + begin;
    chain.previous = p_.topicsPrev + begin;
    chain.next = p_.topicsNext + begin;
    chain.rng = Stream(p_.seed, p_.iteration, p_.firstSequence + static_cast<uint64_t>(d));
    chain.logPhi = LogProduct();
    for (int32_t t = 0; t < length; ++t) {
      ++chain.histogram[chain.previous[t]];
      ++chain.inSequence[chain.previous[t]];
    }
    beginToken<kKind>(chain);
    return true;
  }

  // hmm: the topics around position t of a sequence of `length` that its target reads: this sweep's before it
  // (K, the begin symbol, before the first), the previous sweep's after it with lookahead (-1 past the end).
  void transitionContext(Chain& chain, int32_t t, int32_t length, const int32_t* previous, const int32_t* next) const {
    chain.previousTopic = t >= 1 ? next[t - 1] : K_;
    chain.beforePrevious = t >= 2 ? next[t - 2] : K_;
    chain.nextTopic = p_.lookahead && t + 1 < length ? previous[t + 1] : -1;
    chain.afterNext = p_.lookahead && p_.transitionOrder == 2 && t + 2 < length ? previous[t + 2] : -1;
  }

  // Starts the chain of the token at chain.offset from its previous-sweep topic and draws its first proposal.
  template <int kKind>
  void beginToken(Chain& chain) {
    const int32_t t = chain.offset;
    chain.word = chain.tokens[t];
    if (t + 1 < chain.length) __builtin_prefetch(&shared_.wordRows[chain.tokens[t + 1]]);
    chain.own = chain.previous[t];
    --chain.inSequence[chain.own];  // n_{d,k}^{-t}
    chain.current = chain.own;
    if constexpr (kKind == kPriorTransitions) transitionContext(chain, t, chain.length, chain.previous, chain.next);
    chain.currentPrior = prior<kKind>(chain, chain.current);
    chain.currentPhi = -1;
    chain.step = 0;
    drawStep(chain);
  }

  // Starts the chain of a cell-mode slot's token from its previous-sweep topic and draws its first proposal; its
  // prior (a logit) waits for the cell update.
  void beginCellToken(Slot& slot) {
    Chain& chain = slot.chain;
    chain.offset = slot.position;
    chain.word = chain.tokens[chain.offset];
    chain.own = chain.previous[chain.offset];
    chain.current = chain.own;
    chain.currentPhi = -1;
    chain.step = 0;
    prefetchCount(chain.word, chain.own);
    drawStep(chain);
  }

  // Draws the proposal of chain.step (the same draws, in the same order, as metropolis()) and prefetches what
  // evaluating it will read.
  void drawStep(Chain& chain) {
    chain.wordStep = p_.proposals == kProposalWord || (p_.proposals == kProposalCycle && (chain.step & 1) == 0);
    ++made;
    if (chain.wordStep) {
      const WordRow& row = shared_.wordRows[chain.word];
      if (row.length > 0 && chain.rng.uniform() * row.totalMass < row.sparseMass) {
        const double u = chain.rng.uniform() * row.length;
        int32_t slot = static_cast<int32_t>(u);
        if (slot >= row.length) slot = row.length - 1;
        chain.entry = shared_.entries + row.begin + slot;
        chain.slotFraction = u - slot;
        chain.proposal = -1;
        __builtin_prefetch(chain.entry);
      } else {
        chain.proposal = aliasDraw(p_.alias.denseProb, p_.alias.denseAlias, nullptr, K_, chain.rng);
      }
      return;
    }
    const int32_t others = chain.length - 1;
    const double u = chain.rng.uniform() * (static_cast<double>(others) + K_ * p_.sequenceSmoothing);
    if (u < others) {
      int32_t position = std::min(static_cast<int32_t>(u), chain.length - 2);
      if (position >= chain.offset) ++position;
      chain.proposal = chain.previous[position];
    } else {
      chain.proposal = std::min(static_cast<int32_t>((u - others) / p_.sequenceSmoothing), K_ - 1);
    }
    if (chain.proposal != chain.current) prefetchCount(chain.word, chain.proposal);
    // phi of the current topic: read by the ratio, or by logPhi when this step ends the token
    if (chain.currentPhi < 0) prefetchCount(chain.word, chain.current);
  }

  // The pending proposal's topic (a sparse word draw reads its alias entry now).
  static int32_t resolveProposal(Chain& chain) {
    if (chain.proposal < 0)
      chain.proposal = chain.slotFraction < chain.entry->prob ? chain.entry->topic : chain.entry->alias;
    return chain.proposal;
  }

  // Evaluates the pending proposal (acceptance ratios of SPEC 3.2 as in metropolis()). Returns true when that
  // was the token's last step; otherwise draws the next step and returns false.
  template <int kKind>
  bool evaluateStep(Chain& chain) {
    const int32_t proposal = resolveProposal(chain);
    return completeStep<kKind>(chain, proposal == chain.current ? 0 : prior<kKind>(chain, proposal));
  }

  // The rest of evaluateStep, given the resolved proposal's prior (unused when it equals the current topic).
  template <int kKind>
  bool completeStep(Chain& chain, double proposedPrior) {
    if (chain.proposal == chain.current) return decideStep(chain, true, chain.currentPrior, chain.currentPhi);
    double proposedPhi;
    const double ratio = priorRatio<kKind>(proposedPrior, chain.currentPrior) * sequenceRatio(chain, proposedPhi);
    return decideStep(chain, ratio >= 1.0 || chain.rng.uniform() < ratio, proposedPrior, proposedPhi);
  }

  // The sequence proposal's part of the acceptance ratio (SPEC 3.2: the phi ratio times the proposal masses'; 1 for
  // a word step, whose phi cancels). proposedPhi: phi of the proposal (-1 for a word step).
  double sequenceRatio(Chain& chain, double& proposedPhi) {
    proposedPhi = -1;
    if (chain.wordStep) return 1.0;
    const double smoothing = p_.sequenceSmoothing;
    if (chain.currentPhi < 0) chain.currentPhi = phiOf(chain.word, chain.current);
    proposedPhi = phiOf(chain.word, chain.proposal);
    const double currentMass = chain.histogram[chain.current] - (chain.current == chain.own ? 1 : 0) + smoothing;
    const double proposedMass = chain.histogram[chain.proposal] - (chain.proposal == chain.own ? 1 : 0) + smoothing;
    return (proposedPhi / chain.currentPhi) * (currentMass / proposedMass);
  }

  // Records the step's decision (a proposal equal to the current topic counts as accepted), then draws the next
  // step (false) or ends the token (true).
  bool decideStep(Chain& chain, bool accept, double proposedPrior, double proposedPhi) {
    if (accept) {
      chain.current = chain.proposal;
      chain.currentPrior = proposedPrior;
      chain.currentPhi = proposedPhi;
      ++accepted;
    }
    if (++chain.step < p_.mhSteps) {
      drawStep(chain);
      return false;
    }
    return true;
  }

  // The target without phi (kPrior* above). The cell's lookahead factor is added by runCellLookahead.
  template <int kKind>
  double prior(const Chain& chain, int32_t k) const {
    if constexpr (kKind == kPriorCounts) {
      return chain.inSequence[k] + p_.alpha;
    } else if constexpr (kKind == kPriorTransitions) {
      if (p_.transitionOrder == 1) {
        const double into = p_.transitions[static_cast<size_t>(chain.previousTopic) * K_ + k];
        return chain.nextTopic < 0 ? into : into * p_.transitions[static_cast<size_t>(k) * K_ + chain.nextTopic];
      }
      // order 2: row (a, b) of the table holds p(. | z_{t-2} = a, z_{t-1} = b)
      const auto row = [this](int32_t a, int32_t b) { return (static_cast<size_t>(a) * (K_ + 1) + b) * K_; };
      double value = p_.transitions[row(chain.beforePrevious, chain.previousTopic) + k];
      if (chain.nextTopic >= 0) value *= p_.transitions[row(chain.previousTopic, k) + chain.nextTopic];
      if (chain.afterNext >= 0) value *= p_.transitions[row(k, chain.nextTopic) + chain.afterNext];
      return value;
    } else {
      return logitOf(p_.cell, chain.hidden, k);
    }
  }

  template <int kKind>
  static double priorRatio(double proposed, double current) {
    if constexpr (kKind == kPriorLogits) return std::exp(proposed - current);
    else return proposed / current;
  }

  // All K terms of the target, then inverse CDF. logFactor: [K] the cell's lookahead log f(k), or null.
  template <int kKind>
  int32_t exactDraw(Stream& rng, int32_t w, const Chain& chain, const double* logFactor, double& finalPhi) {
    phiColumn(p_.counts, shared_.phiScale, p_.beta, w, phi_.data());
    double total = 0;
    if constexpr (kKind != kPriorLogits) {
      for (int32_t k = 0; k < K_; ++k) {
        weights_[k] = prior<kKind>(chain, k) * phi_[k];
        total += weights_[k];
      }
    } else {
      float* logits = logits_.data();
      allLogits(*shared_.prepared, &chain.hidden, 1, &logits);
      if (logFactor == nullptr) {
        float largest = logits[0];
        for (int32_t k = 1; k < K_; ++k) largest = std::max(largest, logits[k]);
        for (int32_t k = 0; k < K_; ++k) {
          weights_[k] = std::exp(static_cast<double>(logits[k]) - largest) * phi_[k];
          total += weights_[k];
        }
      } else {
        double largest = -INFINITY;
        for (int32_t k = 0; k < K_; ++k) largest = std::max(largest, logits[k] + logFactor[k]);
        for (int32_t k = 0; k < K_; ++k) {
          weights_[k] = std::exp(logits[k] + logFactor[k] - largest) * phi_[k];
          total += weights_[k];
        }
      }
    }
    const int32_t z = drawCategorical(weights_.data(), K_, total, rng);
    finalPhi = phi_[z];
    return z;
  }

  Shared& shared_;
  const SweepParams& p_;
  SequenceQueue& queue_;
  const int32_t K_;
  std::vector<double> weights_;  // [K] exact mode
  std::vector<double> phi_;      // [K] exact mode
  std::vector<float> logits_;    // [logitWidth] exact mode
};

}  // namespace

SweepTotals runSweep(const SweepParams& params) {
  ParkOnExit buffers{takeBuffers()};
  const CountView& counts = params.counts;
  const int32_t V = params.vocabularySize;
  const int64_t nonZeros = counts.rowOffsets[V];
  buffers.buffers->wordRows.resize(V);
  Shared shared{params,
                buffers.buffers->wordRows,
                nullptr,
                nullptr,
                phiScales(params.counts, params.beta),
                nullptr,
                std::vector<double>(params.numSequences, 0.0)};
  // Row headers and the hash tables' places (O(V)); then the entries and hash tables, by ranges of actions
  // holding about equal numbers of entries, on the sweep's threads.
  int64_t hashSlots = 0;
  for (int32_t w = 0; w < V; ++w) {
    const int32_t begin = counts.rowOffsets[w];
    const int32_t end = counts.rowOffsets[w + 1];
    // slots: the smallest power of two >= 2 length, and at least 2
    const int32_t bits = end - begin <= 1 ? 1 : 64 - __builtin_clzll(2 * static_cast<uint64_t>(end - begin) - 1);
    if (hashSlots > INT32_MAX)
      throw std::length_error("sweep: the count hash tables exceed 2^31 slots; use fewer topics or a smaller corpus");
    shared.wordRows[w] = {begin,
                          end - begin,
                          static_cast<int32_t>(hashSlots),
                          32 - bits,
                          params.alias.sparseMass[w],
                          params.alias.sparseMass[w] + params.alias.denseMass};
    if (end > begin) hashSlots += int64_t{1} << bits;
  }
  buffers.buffers->reserve(static_cast<size_t>(nonZeros), static_cast<size_t>(hashSlots));
  shared.entries = buffers.buffers->entries.get();
  shared.countSlots = buffers.buffers->countSlots.get();
  // Static ranges with every thread waited for (runParallel), not ranges taken by runChunks: with the latter the
  // LSTM-mode sampling that follows ran ~20% slower on 2 threads (bench lla Brown K=100: 3.0 against 3.7 M tokens/s,
  // alternating builds), for a reason we did not find; lda was the same either way.
  const int32_t packThreads = resolveThreads(params.threads, std::max<int64_t>(nonZeros / 65536, 1));
  runParallel(packThreads, [&](int32_t index) {
    // actions [first, last): the first row whose entries start at or after index/packThreads of all entries
    auto rowAt = [&](int32_t part) {
      const int64_t target = nonZeros * part / packThreads;
      return static_cast<int32_t>(std::lower_bound(counts.rowOffsets, counts.rowOffsets + V, target) -
                                  counts.rowOffsets);
    };
    const int32_t first = index == 0 ? 0 : rowAt(index);
    const int32_t last = index + 1 == packThreads ? V : rowAt(index + 1);
    for (int32_t w = first; w < last; ++w) {
      const WordRow& row = shared.wordRows[w];
      if (row.length == 0) continue;
      const int32_t* topics = counts.rowTopics + row.begin;
      const int32_t* rowCounts = counts.rowCounts + row.begin;
      PackedEntry* entries = shared.entries + row.begin;
      for (int32_t i = 0; i < row.length; ++i) {
        entries[i] = {params.alias.sparseProb[row.begin + i], params.alias.sparseAlias[row.begin + i], topics[i]};
      }
      CountSlot* table = shared.countSlots + row.hashBegin;
      const uint32_t mask = 0xFFFFFFFFu >> row.hashShift;
      std::fill(table, table + mask + 1, CountSlot{-1, 0});
      for (int32_t i = 0; i < row.length; ++i) {
        uint32_t slot = hashSlot(topics[i], row.hashShift);
        while (table[slot].topic >= 0) slot = (slot + 1) & mask;
        table[slot] = {topics[i], rowCounts[i]};
      }
    }
  });
  const bool cellLookahead = params.lookahead && params.mode == kModeLla;
  if (params.hasCell) shared.prepared = std::make_unique<PreparedCell>(params.cell, params.exact || cellLookahead);
  SequenceQueue queue(params.offsets, params.numSequences);
  const int32_t threads = resolveThreads(params.threads, params.numSequences);
  std::vector<int64_t> made(threads, 0), accepted(threads, 0);
  runParallel(threads, [&](int32_t index) {
    Worker worker(shared, queue);
    if (params.mode == kModeLda) {
      if (params.exact) worker.runExactSequences<kPriorCounts>();
      else worker.runInterleaved<kPriorCounts>();
    } else if (params.mode == kModeHmm) {
      if (params.exact) worker.runExactSequences<kPriorTransitions>();
      else worker.runInterleaved<kPriorTransitions>();
    } else if (cellLookahead) {
      worker.runCellLookahead();
    } else {
      worker.runCell();
    }
    made[index] = worker.made;
    accepted[index] = worker.accepted;
  });
  SweepTotals totals;
  for (double value : shared.logPhiOfSequence) totals.logPhi += value;
  for (int32_t t = 0; t < threads; ++t) {
    totals.proposalsMade += made[t];
    totals.proposalsAccepted += accepted[t];
  }
  return totals;
}

}  // namespace lla
