// Node-API entry points of the kernel interface (src/kernels/types.ts). This file and args.cc are compiled for
// the baseline instruction set, so the module loads anywhere and cpuSupported() can refuse a CPU that lacks
// what the compute kernels were built for. Long kernels run on std::threads behind an AsyncWorker (a Promise);
// the typed arrays they use are held by persistent references until the worker finishes.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "alias.h"
#include "args.h"
#include "cluster.h"
#include "counts.h"
#include "likelihood.h"
#include "limits.h"
#include "lstm_cell.h"
#include "lstm_train.h"
#include "modes.h"
#include "pool.h"
#include "rng.h"
#include "sweep.h"
#include "transitions.h"

namespace lla {
namespace {

const std::vector<std::string> kModeNames = {"lda", "lla", "word-lla", "hmm"};  // index = mode code
const std::vector<std::string> kProposalNames = {"word", "sequence", "cycle"};  // index + 1 = code

bool cpuSupportsBuild() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const std::string isa = LLA_ISA_NAME;
  if (isa == "x86-64-v3") {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx") &&
           __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("sse4.2") &&
           __builtin_cpu_supports("popcnt");
  }
  if (isa == "x86-64-v2") {
    return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3") &&
           __builtin_cpu_supports("popcnt");
  }
#endif
  return true;
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("backend", "native");
  result.Set("version", LLA_VERSION);
  result.Set("napiVersion", NAPI_VERSION);
  result.Set("instructionSet", LLA_ISA_LABEL);
  result.Set("threads", true);
  result.Set("maxThreads", hardwareThreads());
  return result;
}

Napi::Value CpuSupported(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), cpuSupportsBuild()); }

Napi::Value Checksum(const Napi::CallbackInfo& info) {
  Arguments a(info.Env(), "checksum");
  const auto values = a.int32s(info[0], "values");
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < values.length; ++i) hash = (hash ^ static_cast<uint32_t>(values.data[i])) * 16777619u;
  return Napi::Number::New(info.Env(), hash);
}

Napi::Value RandomStream(const Napi::CallbackInfo& info) {
  Arguments a(info.Env(), "randomStream");
  const uint64_t seed = a.unsignedInteger(info[0], "seed");
  const uint64_t iteration = a.unsignedInteger(info[1], "iteration");
  const uint64_t index = a.unsignedInteger(info[2], "index");
  const auto out = a.uint32s(info[3], "out");
  Stream stream(seed, iteration, index);
  for (size_t i = 0; i < out.length; ++i) out.data[i] = static_cast<uint32_t>(stream.next() >> 32);
  return info.Env().Undefined();
}

Napi::Value RandomTopics(const Napi::CallbackInfo& info) {
  Arguments a(info.Env(), "randomTopics");
  const auto offsets = a.int32s(info[0], "offsets");
  const auto topics = a.int32s(info[1], "topics");
  const int32_t numTopics = a.integer(info[2], "numTopics", kTopicsLimit);
  const uint64_t seed = a.unsignedInteger(info[3], "seed");
  const int32_t sequences = a.offsets("offsets", offsets, topics.length);
  a.outputsApart({"topics"});
  for (int32_t d = 0; d < sequences; ++d) {
    Stream stream(seed, kRandomTopicsIteration, static_cast<uint64_t>(d));
    for (int32_t i = offsets.data[d]; i < offsets.data[d + 1]; ++i) {
      topics.data[i] = static_cast<int32_t>(stream.below(static_cast<uint32_t>(numTopics)));
    }
  }
  return info.Env().Undefined();
}

Napi::Value BuildCounts(const Napi::CallbackInfo& info) {
  Arguments a(info.Env(), "buildCounts");
  const auto tokens = a.int32s(info[0], "tokens");
  const auto wordOffsets = a.int32s(info[1], "wordOffsets");
  const auto wordTokens = a.int32s(info[2], "wordTokens");
  const auto topics = a.int32s(info[3], "topics");
  const int32_t numTopics = a.integer(info[4], "numTopics", kTopicsLimit);
  Napi::Object out = a.object(info[5], "out");
  // optional: threads for the rebuild (0 = all cores; default 1); the tables do not depend on it
  const int32_t threads = info[6].IsUndefined() ? 1 : a.integer(info[6], "threads", kThreadsLimit);
  a.length("topics", topics.length, tokens.length);
  a.length("wordTokens", wordTokens.length, tokens.length);
  if (wordOffsets.length < 1)
    a.fail("wordOffsets", "is empty", "pass V+1 offsets of the token positions of each action");
  const int32_t vocabularySize = a.offsets("wordOffsets", wordOffsets, wordTokens.length, kVocabularyLimit);
  a.range("wordTokens", wordTokens.data, wordTokens.length, 0, static_cast<int64_t>(tokens.length), threads);
  a.range("topics", topics.data, topics.length, 0, numTopics, threads);
  const auto rowOffsets = a.int32s(out.Get("rowOffsets"), "out.rowOffsets");
  const auto rowTopics = a.int32s(out.Get("rowTopics"), "out.rowTopics");
  const auto rowCounts = a.int32s(out.Get("rowCounts"), "out.rowCounts");
  const auto topicTotals = a.int32s(out.Get("topicTotals"), "out.topicTotals");
  a.length("out.rowOffsets", rowOffsets.length, static_cast<size_t>(vocabularySize) + 1);
  a.length("out.topicTotals", topicTotals.length, numTopics);
  a.length("out.rowCounts", rowCounts.length, rowTopics.length);
  a.outputsApart({"out.rowOffsets", "out.rowTopics", "out.rowCounts", "out.topicTotals"});
  CountOutput output{rowOffsets.data, rowTopics.data, rowCounts.data, topicTotals.data,
                     static_cast<int64_t>(rowTopics.length)};
  int64_t misgrouped = -1;
  const int64_t nnz = buildCounts(tokens.data, wordOffsets.data, wordTokens.data, vocabularySize, topics.data,
                                  numTopics, output, misgrouped, threads);
  if (misgrouped >= 0) {
    const size_t i = static_cast<size_t>(misgrouped);
    // the action whose range holds index i (the last offset <= i)
    const int32_t w = static_cast<int32_t>(std::upper_bound(wordOffsets.data, wordOffsets.data + vocabularySize + 1,
                                                            static_cast<int32_t>(i)) -
                                           wordOffsets.data) -
                      1;
    const int32_t position = wordTokens.data[i];
    if (tokens.data[position] != w) {
      a.fail("wordTokens",
             "[" + std::to_string(i) + "] is position " + std::to_string(position) + " whose action is " +
                 std::to_string(tokens.data[position]) + ", not " + std::to_string(w),
             "group the token positions by action (wordOffsets[w] .. wordOffsets[w+1] hold action w)");
    }
    a.fail("wordTokens",
           "[" + std::to_string(i) + "] is position " + std::to_string(position) +
               ", not above the previous position " + std::to_string(wordTokens.data[i - 1]) + " of action " +
               std::to_string(w),
           "list each action's token positions once, in ascending order");
  }
  if (nnz < 0) {
    a.fail("out.rowTopics", "(capacity " + std::to_string(rowTopics.length) + ") is too small for the non-zero counts",
           "allocate rowTopics and rowCounts with capacity T (the token count)");
  }
  return Napi::Number::New(info.Env(), static_cast<double>(nnz));
}

Napi::Value BuildAlias(const Napi::CallbackInfo& info) {
  Arguments a(info.Env(), "buildAlias");
  Napi::Object countsObject = a.object(info[0], "counts");
  const int32_t numTopics = a.integer(info[1], "numTopics", kTopicsLimit);
  const double beta = a.number(info[2], "beta", kBetaLimit);
  Napi::Object out = a.object(info[3], "out");
  // optional: threads for the rebuild (0 = all cores; default 1); the tables do not depend on it
  const int32_t threads = info[4].IsUndefined() ? 1 : a.integer(info[4], "threads", kThreadsLimit);
  const auto rowOffsets = a.int32s(countsObject.Get("rowOffsets"), "counts.rowOffsets");
  if (rowOffsets.length < 1) a.fail("counts.rowOffsets", "is empty", "pass V+1 row offsets");
  a.size("counts.rowOffsets.length - 1", rowOffsets.length - 1, kVocabularyLimit);
  const CountView counts = a.counts(countsObject, numTopics, static_cast<int32_t>(rowOffsets.length - 1));
  const size_t nnz = static_cast<size_t>(counts.rowOffsets[counts.vocabularySize]);
  const auto sparseProb = a.float32s(out.Get("sparseProb"), "out.sparseProb");
  const auto sparseAlias = a.int32s(out.Get("sparseAlias"), "out.sparseAlias");
  const auto sparseMass = a.float64s(out.Get("sparseMass"), "out.sparseMass");
  const auto denseProb = a.float32s(out.Get("denseProb"), "out.denseProb");
  const auto denseAlias = a.int32s(out.Get("denseAlias"), "out.denseAlias");
  const auto denseMass = a.float64s(out.Get("denseMass"), "out.denseMass");
  a.minimumLength("out.sparseProb", sparseProb.length, nnz);
  a.minimumLength("out.sparseAlias", sparseAlias.length, nnz);
  a.length("out.sparseMass", sparseMass.length, counts.vocabularySize);
  a.length("out.denseProb", denseProb.length, numTopics);
  a.length("out.denseAlias", denseAlias.length, numTopics);
  a.minimumLength("out.denseMass", denseMass.length, 1);
  a.outputsApart(
      {"out.sparseProb", "out.sparseAlias", "out.sparseMass", "out.denseProb", "out.denseAlias", "out.denseMass"});
  AliasOutput output{sparseProb.data, sparseAlias.data, sparseMass.data,
                     denseProb.data,  denseAlias.data,  denseMass.data};
  buildAlias(counts, beta, output, threads);
  return info.Env().Undefined();
}

// Holds the typed arrays of an asynchronous call alive, keeps its snapshot (snapshot.h) and settles its Promise.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* name, const std::vector<Napi::Object>& held, Snapshot&& snapshot)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), snapshot_(std::move(snapshot)),
        name_(name) {
    for (const auto& object : held) references_.push_back(Napi::Persistent(object));
  }
  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      run();
    } catch (const std::exception& error) {
      SetError(std::string("lla native ") + name_ + " failed: " + error.what() +
               " (out of memory? reduce the corpus, particles or threads)");
    } catch (...) {
      SetError(std::string("lla native ") + name_ + " failed with an unknown native exception");
    }
  }
  virtual void run() = 0;
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }
  Napi::Promise::Deferred deferred_;
  Snapshot snapshot_;

 private:
  const char* name_;
  std::vector<Napi::ObjectReference> references_;
};

class SweepWorker : public PromiseWorker {
 public:
  // params: its id arrays already point into the snapshot
  SweepWorker(Napi::Env env, const SweepParams& params, const std::vector<Napi::Object>& held, Snapshot&& snapshot)
      : PromiseWorker(env, "sweep", held, std::move(snapshot)), params_(params) {}

 protected:
  void run() override { totals_ = runSweep(params_); }
  void OnOK() override {
    Napi::Object result = Napi::Object::New(Env());
    result.Set("logPhi", totals_.logPhi);
    result.Set("proposalsMade", static_cast<double>(totals_.proposalsMade));
    result.Set("proposalsAccepted", static_cast<double>(totals_.proposalsAccepted));
    deferred_.Resolve(result);
  }

 private:
  SweepParams params_;
  SweepTotals totals_;
};

// `firstSequence` of sweep and particleFilter: absent means 0; else a stream index like `seed` (args.h).
uint64_t optionalFirstSequence(Arguments& a, Napi::Object o) {
  const Napi::Value value = o.Get("firstSequence");
  return value.IsUndefined() ? 0 : a.unsignedInteger(value, "firstSequence");
}

Napi::Value Sweep(const Napi::CallbackInfo& info) {
  Arguments a(info.Env(), "sweep");
  Napi::Object o = a.object(info[0], "args");
  SweepParams p;
  p.mode = a.choice(o.Get("mode"), "mode", kModeNames);
  p.exact = a.boolean(o.Get("exact"), "exact");
  p.mhSteps = p.exact && o.Get("mhSteps").IsUndefined() ? 0 : a.integer(o.Get("mhSteps"), "mhSteps", kMhStepsLimit);
  p.proposals = a.choice(o.Get("proposals"), "proposals", kProposalNames) + 1;
  p.numTopics = a.integer(o.Get("numTopics"), "numTopics", kTopicsLimit);
  p.vocabularySize = a.integer(o.Get("vocabularySize"), "vocabularySize", kVocabularyLimit);
  p.threads = a.integer(o.Get("threads"), "threads", kThreadsLimit);
  const auto tokens = a.int32s(o.Get("tokens"), "tokens");
  const auto offsets = a.int32s(o.Get("offsets"), "offsets");
  const auto topicsPrev = a.int32s(o.Get("topicsPrev"), "topicsPrev");
  const auto topicsNext = a.int32s(o.Get("topicsNext"), "topicsNext");
  // the id arrays are copied, and checked as copied, on the sweep's threads (snapshot.h)
  Snapshot snapshot(p.threads);
  const Typed<int32_t> offsetsCopy{const_cast<int32_t*>(snapshot.keep(offsets.data, offsets.length)), offsets.length};
  p.numSequences = a.offsets("offsets", offsetsCopy, tokens.length);
  p.offsets = offsetsCopy.data;
  p.tokens = a.checkedRange(&snapshot, "tokens", tokens.data, tokens.length, 0, p.vocabularySize);
  a.length("topicsPrev", topicsPrev.length, tokens.length);
  a.length("topicsNext", topicsNext.length, tokens.length);
  p.topicsPrev = a.checkedRange(&snapshot, "topicsPrev", topicsPrev.data, topicsPrev.length, 0, p.numTopics);
  if (tokens.length > 0 && topicsPrev.data == topicsNext.data) {
    a.fail("topicsNext", "is the same buffer as topicsPrev", "pass a second buffer (the sweep is double-buffered)");
  }
  p.topicsNext = topicsNext.data;
  p.counts = a.counts(o.Get("counts"), p.numTopics, p.vocabularySize, &snapshot);
  p.alias = a.alias(o.Get("alias"), p.counts, &snapshot);
  p.beta = a.number(o.Get("beta"), "beta", kBetaLimit);
  p.alpha = p.mode == kModeLda ? a.number(o.Get("alpha"), "alpha", kAlphaLimit) : 0;  // lda's prior alone
  p.sequenceSmoothing = a.number(o.Get("sequenceSmoothing"), "sequenceSmoothing", kSequenceSmoothingLimit);
  p.lookahead = !o.Get("lookahead").IsUndefined() && a.boolean(o.Get("lookahead"), "lookahead");
  if (p.lookahead && p.mode != kModeLla && p.mode != kModeHmm) {
    a.fail("lookahead", "is set in " + kModeNames[p.mode] + " mode",
           "lookahead applies to lla and hmm only (lda's and word-lla's conditionals need none): pass false");
  }
  if (p.mode == kModeLla || p.mode == kModeWordLla) {
    p.hasCell = true;
    p.cell = a.cell(o.Get("weights"), p.numTopics, (p.mode == kModeLla ? p.numTopics : p.vocabularySize) + 1);
  }
  if (p.mode == kModeHmm) {
    p.transitionOrder =
        o.Get("transitionOrder").IsUndefined() ? 1 : a.integer(o.Get("transitionOrder"), "transitionOrder", 1, 2);
    p.transitions = a.transitionTable(o.Get("transitions"), p.numTopics, p.transitionOrder);
  }
  p.seed = a.unsignedInteger(o.Get("seed"), "seed");
  p.iteration = a.unsignedInteger(o.Get("iteration"), "iteration");
  p.firstSequence = optionalFirstSequence(a, o);
  auto* worker = new SweepWorker(info.Env(), p, a.held(), std::move(snapshot));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// The copy component (copy.h): decay and window inside their limits, rate [K] in [0, 1], mass [K] finite >= 0;
// the arrays are copied, so an asynchronous filter never reads memory the caller may change meanwhile.
CopyParams copyParams(Arguments& a, Napi::Object o, int32_t numTopics) {
  CopyParams copy;
  copy.enabled = true;
  copy.decay = a.number(o.Get("decay"), "copy.decay", kCopyDecayLimit);
  copy.window = a.integer(o.Get("window"), "copy.window", kCopyWindowLimit);
  const auto rate = a.float64s(o.Get("rate"), "copy.rate");
  const auto mass = a.float64s(o.Get("mass"), "copy.mass");
  a.length("copy.rate", rate.length, numTopics);
  a.length("copy.mass", mass.length, numTopics);
  for (int32_t k = 0; k < numTopics; ++k) {
    if (!(rate.data[k] >= 0 && rate.data[k] <= 1)) {
      a.fail("copy.rate", "[" + std::to_string(k) + "] is not in [0, 1]",
             "pass each topic's copy rate rho_k in [0, 1]");
    }
    if (!(mass.data[k] >= 0 && std::isfinite(mass.data[k]))) {
      a.fail("copy.mass", "[" + std::to_string(k) + "] is not a finite number >= 0",
             "pass each topic's history mass mu_k >= 0");
    }
  }
  copy.rate.assign(rate.data, rate.data + numTopics);
  copy.mass.assign(mass.data, mass.data + numTopics);
  return copy;
}

// Checks r(w, L) of repeat[from .. to): each strictly inside (0, 1), or a repeat (or a new block) would score log 0.
void checkRepeatValues(Arguments& a, const double* repeat, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    if (!(repeat[i] > 0 && repeat[i] < 1)) {
      a.fail("repeat", "[" + std::to_string(i) + "] is not in (0, 1)",
             "pass each repeat probability r(w, L) strictly between 0 and 1 (smoothed counts)");
    }
  }
}

// Fields shared by particleFilter and filterStep.
// snapshot: for the asynchronous particleFilter, where the count tables are copied as they are checked (snapshot.h);
// without it (filterStep) the repeat table is read in place and only its shape is checked here: the step reads one
// row, which FilterStep checks once it knows the previous action
FilterParams filterParams(Arguments& a, Napi::Object o, Snapshot* snapshot = nullptr) {
  FilterParams p;
  p.mode = a.choice(o.Get("mode"), "mode", kModeNames);
  if (p.mode == kModeHmm) {
    a.fail("mode", "is hmm, an initialisation mode of the sweep only", "evaluate with lda, lla or word-lla");
  }
  p.numTopics = a.integer(o.Get("numTopics"), "numTopics", kTopicsLimit);
  p.vocabularySize = a.integer(o.Get("vocabularySize"), "vocabularySize", kVocabularyLimit);
  p.counts = a.counts(o.Get("counts"), p.numTopics, p.vocabularySize, snapshot);
  p.beta = a.number(o.Get("beta"), "beta", kBetaLimit);
  p.alpha = p.mode == kModeLda ? a.number(o.Get("alpha"), "alpha", kAlphaLimit) : 0;  // lda's prior alone
  if (p.mode != kModeLda) {
    p.hasCell = true;
    p.cell = a.cell(o.Get("weights"), p.numTopics, (p.mode == kModeLla ? p.numTopics : p.vocabularySize) + 1);
  }
  p.particles = a.integer(o.Get("particles"), "particles", kParticlesLimit);
  if (p.mode == kModeWordLla) p.particles = 1;  // exact: one deterministic "particle"
  p.seed = a.unsignedInteger(o.Get("seed"), "seed");
  const Napi::Value copyValue = o.Get("copy");
  if (!copyValue.IsUndefined() && !copyValue.IsNull()) p.copy = copyParams(a, a.object(copyValue, "copy"), p.numTopics);
  const Napi::Value repeatValue = o.Get("repeat");
  if (!repeatValue.IsUndefined() && !repeatValue.IsNull()) {
    // repeat blocks: [V][R], r(w, L) strictly inside (0, 1), or a repeat (or a new block) would score log 0
    const auto repeat = a.float64s(repeatValue, "repeat");
    const size_t V = static_cast<size_t>(p.vocabularySize);
    if (repeat.length == 0 || repeat.length % V != 0 || repeat.length / V > static_cast<size_t>(kMaxRepeatRuns)) {
      a.fail("repeat",
             "has length " + std::to_string(repeat.length) + ", not V * R with V = " + std::to_string(V) +
                 " and R in [1, " + std::to_string(kMaxRepeatRuns) + "]",
             "pass [V][R] repeat probabilities r(w, L), L = 1 .. R (R = 1: one per action)");
    }
    p.hasRepeat = true;
    p.repeatRuns = static_cast<int32_t>(repeat.length / V);
    if (snapshot != nullptr) {
      checkRepeatValues(a, repeat.data, 0, repeat.length);
      p.repeat.assign(repeat.data, repeat.data + repeat.length);
    } else {
      p.repeatView = repeat.data;
    }
  }
  return p;
}

class FilterWorker : public PromiseWorker {
 public:
  // params, tokens, offsets, mixturePositions: their id arrays already point into the snapshot
  FilterWorker(Napi::Env env, const FilterParams& params, const int32_t* tokens, const int32_t* offsets,
               int32_t sequences, double* logLikelihood, const int32_t* mixturePositions, int32_t mixtureCount,
               float* mixtures, int32_t threads, const std::vector<Napi::Object>& held, Snapshot&& snapshot)
      : PromiseWorker(env, "particleFilter", held, std::move(snapshot)), params_(params), tokens_(tokens),
        offsets_(offsets), sequences_(sequences), logLikelihood_(logLikelihood), mixturePositions_(mixturePositions),
        mixtureCount_(mixtureCount), mixtures_(mixtures), threads_(threads) {}

 protected:
  void run() override {
    runParticleFilter(params_, tokens_, offsets_, sequences_, logLikelihood_, mixturePositions_, mixtureCount_,
                      mixtures_, threads_);
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

 private:
  FilterParams params_;
  const int32_t* tokens_;
  const int32_t* offsets_;
  int32_t sequences_;
  double* logLikelihood_;
  const int32_t* mixturePositions_;
  int32_t mixtureCount_;
  float* mixtures_;
  int32_t threads_;
};

Napi::Value ParticleFilter(const Napi::CallbackInfo& info) {
  Arguments a(info.Env(), "particleFilter");
  Napi::Object o = a.object(info[0], "args");
  const int32_t threads = a.integer(o.Get("threads"), "threads", kThreadsLimit);
  // the id arrays are copied, and checked as copied, as for the sweep (snapshot.h)
  Snapshot snapshot(threads);
  FilterParams p = filterParams(a, o, &snapshot);
  p.firstSequence = optionalFirstSequence(a, o);
  const auto tokens = a.int32s(o.Get("tokens"), "tokens");
  const auto offsets = a.int32s(o.Get("offsets"), "offsets");
  const Typed<int32_t> offsetsCopy{const_cast<int32_t*>(snapshot.keep(offsets.data, offsets.length)), offsets.length};
  const int32_t sequences = a.offsets("offsets", offsetsCopy, tokens.length);
  const int32_t* tokensCopy = a.checkedRange(&snapshot, "tokens", tokens.data, tokens.length, 0, p.vocabularySize);
  const auto logLikelihood = a.float64s(o.Get("logLikelihood"), "logLikelihood");
  a.length("logLikelihood", logLikelihood.length, sequences);
  Typed<int32_t> positions;
  Typed<float> mixtures;
  const Napi::Value positionsValue = o.Get("mixturePositions");
  if (!positionsValue.IsUndefined() && !positionsValue.IsNull()) {
    positions = a.int32s(positionsValue, "mixturePositions");
    mixtures = a.float32s(o.Get("mixtures"), "mixtures");
    positions.data = const_cast<int32_t*>(a.checkedRange(&snapshot, "mixturePositions", positions.data,
                                                         positions.length, 0, static_cast<int64_t>(tokens.length)));
    for (size_t i = 1; i < positions.length; ++i) {
      if (positions.data[i] <= positions.data[i - 1]) {
        a.fail("mixturePositions", "is not strictly ascending at index " + std::to_string(i),
               "sort the positions and drop duplicates");
      }
    }
    a.minimumLength("mixtures", mixtures.length, positions.length * static_cast<size_t>(p.numTopics));
  }
  auto* worker =
      new FilterWorker(info.Env(), p, tokensCopy, offsetsCopy.data, sequences, logLikelihood.data, positions.data,
                       static_cast<int32_t>(positions.length), mixtures.data, threads, a.held(), std::move(snapshot));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value FilterStep(const Napi::CallbackInfo& info) {
  Arguments a(info.Env(), "filterStep");
  Napi::Object o = a.object(info[0], "args");
  const FilterParams p = filterParams(a, o);
  const int32_t action = a.integer(o.Get("action"), "action", 0, p.vocabularySize - 1);
  const uint64_t sequenceIndex = a.unsignedInteger(o.Get("sequenceIndex"), "sequenceIndex");
  Napi::Object stateObject = a.object(o.Get("state"), "state");
  const size_t S = p.particles;
  const auto position = a.int32s(stateObject.Get("position"), "state.position");
  const auto previousAction = a.int32s(stateObject.Get("previousAction"), "state.previousAction");
  const auto weights = a.float64s(stateObject.Get("weights"), "state.weights");
  const auto previousTopic = a.int32s(stateObject.Get("previousTopic"), "state.previousTopic");
  a.minimumLength("state.position", position.length, 1);
  a.minimumLength("state.previousAction", previousAction.length, 1);
  a.minimumLength("state.weights", weights.length, S);
  a.minimumLength("state.previousTopic", previousTopic.length, S);
  a.range("state.position", position.data, 1, 0, kTokensLimit.max + 1);  // tokens consumed so far
  a.range("state.previousAction", previousAction.data, 1, -1, p.vocabularySize);
  a.range("state.previousTopic", previousTopic.data, S, -1, p.numTopics);
  ParticleState state{
      position.data, previousAction.data, weights.data, previousTopic.data, nullptr, nullptr, nullptr, nullptr,
      nullptr};
  // runLength: required with repeat blocks (it picks r(w, L)); without them kept up to date when given
  const Napi::Value runLengthValue = stateObject.Get("runLength");
  if (p.hasRepeat && previousAction.data[0] >= 0) {
    const size_t row = static_cast<size_t>(previousAction.data[0]) * p.repeatRuns;
    checkRepeatValues(a, p.repeatView, row, row + p.repeatRuns);
  }
  if (p.hasRepeat || (!runLengthValue.IsUndefined() && !runLengthValue.IsNull())) {
    if (runLengthValue.IsUndefined() || runLengthValue.IsNull()) {
      a.fail("state.runLength", "is missing, and repeat blocks read it",
             "allocate it with kernel.allocInt32(1), 0 at a session's start, and keep what filterStep writes");
    }
    const auto runLength = a.int32s(runLengthValue, "state.runLength");
    a.minimumLength("state.runLength", runLength.length, 1);
    a.range("state.runLength", runLength.data, 1, 0, kTokensLimit.max + 1);  // a run is at most the tokens so far
    state.runLength = runLength.data;
  }
  if (p.copy.enabled) {
    const auto copyHistory = a.int32s(stateObject.Get("copyHistory"), "state.copyHistory");
    a.minimumLength("state.copyHistory", copyHistory.length, static_cast<size_t>(p.copy.window));
    // -1 marks a slot not written yet (the session's start); a slot is read only once written
    a.range("state.copyHistory", copyHistory.data, static_cast<size_t>(p.copy.window), -1, p.vocabularySize);
    state.copyHistory = copyHistory.data;
  }
  if (p.hasCell) {
    const auto hidden = a.float32s(stateObject.Get("hiddenState"), "state.hiddenState");
    const auto cellState = a.float32s(stateObject.Get("cellState"), "state.cellState");
    a.minimumLength("state.hiddenState", hidden.length, S * p.cell.hidden);
    a.minimumLength("state.cellState", cellState.length, S * p.cell.hidden);
    state.hidden = hidden.data;
    state.cellState = cellState.data;
  }
  if (p.mode == kModeLda) {
    const auto topicCounts = a.int32s(stateObject.Get("topicCounts"), "state.topicCounts");
    a.minimumLength("state.topicCounts", topicCounts.length, S * p.numTopics);
    a.range("state.topicCounts", topicCounts.data, S * p.numTopics, 0, INT32_MAX);
    state.topicCounts = topicCounts.data;
  }
  if (position.data[0] > 0) {
    for (size_t s = 0; s < S; ++s) {
      if (!(weights.data[s] >= 0) || !std::isfinite(weights.data[s])) {
        a.fail("state.weights", "[" + std::to_string(s) + "] is not a finite number >= 0",
               "keep the state that filterStep wrote, or start a new one (position 0)");
      }
    }
  }
  float* mixtureOut = nullptr;
  const Napi::Value mixtureValue = o.Get("mixtureOut");
  if (!mixtureValue.IsUndefined() && !mixtureValue.IsNull()) {
    const auto mixture = a.float32s(mixtureValue, "mixtureOut");
    a.length("mixtureOut", mixture.length, p.numTopics);
    mixtureOut = mixture.data;
  }
  a.outputsApart({"state.position", "state.previousAction", "state.weights", "state.previousTopic", "state.hiddenState",
                  "state.cellState", "state.topicCounts", "state.copyHistory", "state.runLength", "mixtureOut"});
  const double logProbability = filterStep(p, state, action, sequenceIndex, mixtureOut);
  return Napi::Number::New(info.Env(), logProbability);
}

Napi::Value LstmSteps(const Napi::CallbackInfo& info) {
  Arguments a(info.Env(), "lstmSteps");
  Napi::Object weights = a.object(info[0], "weights");
  const auto inputs = a.int32s(info[1], "inputs");
  const auto hiddenOut = a.float32s(info[2], "hiddenOut");
  const auto cellOut = a.float32s(info[3], "cellOut");
  // The table's row count is free here (lla or word-lla): derive it from inputTable and outputBias.
  const int32_t hidden = a.integer(weights.Get("hidden"), "weights.hidden", kHiddenLimit);
  const auto inputTable = a.float32s(weights.Get("inputTable"), "weights.inputTable");
  const auto outputBias = a.float32s(weights.Get("outputBias"), "weights.outputBias");
  if (inputTable.length == 0 || inputTable.length % (4 * static_cast<size_t>(hidden)) != 0) {
    a.fail("weights.inputTable",
           "has length " + std::to_string(inputTable.length) + ", not a positive multiple of 4 * hidden",
           "pass the [R][4H] input table");
  }
  if (outputBias.length == 0) a.fail("weights.outputBias", "is empty", "pass the [K] output bias");
  const int32_t rows = static_cast<int32_t>(inputTable.length / (4 * static_cast<size_t>(hidden)));
  a.size("the input count", inputs.length, kTokensLimit);
  const CellView cell = a.cell(weights, static_cast<int32_t>(outputBias.length), rows);
  a.range("inputs", inputs.data, inputs.length, 0, rows);
  a.length("hiddenOut", hiddenOut.length, inputs.length * hidden);
  a.length("cellOut", cellOut.length, inputs.length * hidden);
  a.outputsApart({"hiddenOut", "cellOut"});
  runCellSteps(cell, inputs.data, static_cast<int32_t>(inputs.length), hiddenOut.data, cellOut.data);
  return info.Env().Undefined();
}

Napi::Value TopicTransitions(const Napi::CallbackInfo& info) {
  Arguments a(info.Env(), "topicTransitions");
  const auto offsets = a.int32s(info[0], "offsets");
  const auto topics = a.int32s(info[1], "topics");
  const int32_t numTopics = a.integer(info[3], "numTopics", kTopicsLimit);
  const CellView cell = a.cell(info[2], numTopics, numTopics + 1);
  const auto sums = a.float64s(info[4], "sums");
  const auto rowCounts = a.float64s(info[5], "rowCounts");
  const int32_t sequences = a.offsets("offsets", offsets, topics.length);
  a.range("topics", topics.data, topics.length, 0, numTopics);
  a.length("sums", sums.length, static_cast<size_t>(numTopics) * numTopics);
  a.length("rowCounts", rowCounts.length, numTopics);
  a.outputsApart({"sums", "rowCounts"});
  topicTransitions(cell, offsets.data, sequences, topics.data, sums.data, rowCounts.data);
  return info.Env().Undefined();
}

// lstmTrain: the fused LSTM trainer (lstm_train.h), on the pool's threads behind a Promise. The ids are copied and
// checked as copied (snapshot.h); the float arrays are trained in place and held until the worker finishes.
Napi::Value LstmTrain(const Napi::CallbackInfo& info) {
  class TrainWorker : public PromiseWorker {
   public:
    TrainWorker(Napi::Env env, const TrainParams& params, const std::vector<Napi::Object>& held, Snapshot&& snapshot)
        : PromiseWorker(env, "lstmTrain", held, std::move(snapshot)), params_(params) {}

   protected:
    void run() override { runLstmTraining(params_); }
    void OnOK() override { deferred_.Resolve(Env().Undefined()); }

   private:
    TrainParams params_;
  };
  Arguments a(info.Env(), "lstmTrain");
  Napi::Object o = a.object(info[0], "args");
  Napi::Object shape = a.object(o.Get("shape"), "shape");
  TrainParams p;
  TrainShape& s = p.shape;
  // R - 1 is K (lla) or V (word-lla): at most the vocabulary limit; the outputs are the K topics
  s.inputSymbols = a.integer(shape.Get("inputSymbols"), "shape.inputSymbols", 2, kVocabularyLimit.max + 1);
  s.embedding = a.integer(shape.Get("embedding"), "shape.embedding", kEmbeddingLimit);
  s.hidden = a.integer(shape.Get("hidden"), "shape.hidden", kHiddenLimit);
  s.outputs = a.integer(shape.Get("outputs"), "shape.outputs", kTopicsLimit);
  s.table = a.choice(o.Get("inputPath"), "inputPath", {"table", "gather"}) == 0;
  s.lanes = a.integer(o.Get("lanes"), "lanes", kLanesLimit);
  s.steps = a.integer(o.Get("steps"), "steps", kStepsLimit);
  p.windows = a.integer(o.Get("windows"), "windows", 0, kMaxTrainPositions);
  p.threads = a.integer(o.Get("threads"), "threads", kThreadsLimit);
  p.learningRate = static_cast<float>(a.number(o.Get("learningRate"), "learningRate", kLearningRateLimit));
  const int64_t positions = static_cast<int64_t>(p.windows) * s.steps * s.lanes;
  const int64_t parameters = trainParameterCount(s);
  if (positions > kMaxTrainPositions || parameters > kMaxTrainPositions) {
    a.fail("args",
           "describe " + std::to_string(positions) + " window positions and " + std::to_string(parameters) +
               " parameters, more than 2^30",
           "train fewer windows per call or a smaller network");
  }
  const auto inputs = a.int32s(o.Get("inputs"), "inputs");
  const auto targets = a.int32s(o.Get("targets"), "targets");
  a.length("inputs", inputs.length, positions);
  a.length("targets", targets.length, positions);
  Snapshot snapshot(p.threads);
  p.inputs = a.checkedRange(&snapshot, "inputs", inputs.data, inputs.length, 0, s.inputSymbols);
  p.targets = a.checkedRange(&snapshot, "targets", targets.data, targets.length, -1, s.outputs);
  const auto weights = a.float32s(o.Get("parameters"), "parameters");
  const auto moments = a.float32s(o.Get("moments"), "moments");
  const auto adam = a.float64s(o.Get("adam"), "adam");
  const auto hidden = a.float32s(o.Get("hiddenState"), "hiddenState");
  const auto cell = a.float32s(o.Get("cellState"), "cellState");
  const auto losses = a.float64s(o.Get("losses"), "losses");
  a.length("parameters", weights.length, parameters);
  a.length("moments", moments.length, 2 * parameters);
  a.length("adam", adam.length, 3);
  a.length("hiddenState", hidden.length, static_cast<size_t>(s.lanes) * s.hidden);
  a.length("cellState", cell.length, static_cast<size_t>(s.lanes) * s.hidden);
  a.length("losses", losses.length, p.windows);
  const double steps = adam.data[0];
  if (!(steps >= 0) || std::floor(steps) != steps || steps > 9007199254740992.0) {
    a.fail("adam", "[0] (steps taken) is " + std::to_string(steps) + ", not a whole number >= 0",
           "pass [0, 0.9, 0.999] for a new trainer, or the array a previous call updated");
  }
  for (int i = 1; i <= 2; ++i) {
    if (!(adam.data[i] > 0 && adam.data[i] < 1)) {
      a.fail("adam",
             "[" + std::to_string(i) + "] (a bias-correction power) is " + std::to_string(adam.data[i]) +
                 ", not in (0, 1)",
             "pass [0, 0.9, 0.999] for a new trainer, or the array a previous call updated");
    }
  }
  const Napi::Value gradient = o.Get("gradient");
  if (!gradient.IsUndefined() && !gradient.IsNull()) {
    const auto out = a.float32s(gradient, "gradient");
    a.length("gradient", out.length, parameters);
    p.gradient = out.data;
  }
  a.outputsApart({"parameters", "moments", "adam", "hiddenState", "cellState", "losses", "gradient"});
  p.parameters = weights.data;
  p.moments = moments.data;
  p.adam = adam.data;
  p.hiddenState = hidden.data;
  p.cellState = cell.data;
  p.losses = losses.data;
  auto* worker = new TrainWorker(info.Env(), p, a.held(), std::move(snapshot));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value TransitionTable(const Napi::CallbackInfo& info) {
  Arguments a(info.Env(), "transitionTable");
  const auto offsets = a.int32s(info[0], "offsets");
  const auto topics = a.int32s(info[1], "topics");
  const int32_t numTopics = a.integer(info[2], "numTopics", kTopicsLimit);
  // the pseudo-count of every cell: any positive finite number (it keeps the hmm targets > 0)
  const double smoothing = a.number(info[3], "smoothing", RealLimit{1e-100, 1e100});
  const auto out = a.float64s(info[4], "out");
  const int32_t order = info[5].IsUndefined() ? 1 : a.integer(info[5], "order", 1, 2);
  const int32_t sequences = a.offsets("offsets", offsets, topics.length);
  a.range("topics", topics.data, topics.length, 0, numTopics);
  a.length("out", out.length, transitionCells(numTopics, order));
  a.outputsApart({"out"});
  transitionTable(offsets.data, sequences, topics.data, numTopics, order, smoothing, out.data);
  return info.Env().Undefined();
}

Napi::Value ContextFeatures(const Napi::CallbackInfo& info) {
  Arguments a(info.Env(), "contextFeatures");
  const auto tokens = a.int32s(info[0], "tokens");
  const auto offsets = a.int32s(info[1], "offsets");
  const int32_t vocabularySize = a.integer(info[2], "vocabularySize", kVocabularyLimit);
  // the projection per side: up to 4096 signs (features [V][2 dimensions])
  const int32_t dimensions = a.integer(info[3], "dimensions", 1, 1 << 12);
  const uint64_t seed = a.unsignedInteger(info[4], "seed");
  const auto features = a.float32s(info[5], "features");
  const int32_t threads = info[6].IsUndefined() ? 1 : a.integer(info[6], "threads", kThreadsLimit);
  const int32_t sequences = a.offsets("offsets", offsets, tokens.length);
  a.range("tokens", tokens.data, tokens.length, 0, vocabularySize);
  a.length("features", features.length, static_cast<size_t>(vocabularySize) * 2 * dimensions);
  a.outputsApart({"features"});
  contextFeatures(tokens.data, static_cast<int64_t>(tokens.length), offsets.data, sequences, vocabularySize, dimensions,
                  seed, features.data, threads);
  return info.Env().Undefined();
}

Napi::Value KMeans(const Napi::CallbackInfo& info) {
  Arguments a(info.Env(), "kmeans");
  const auto points = a.float32s(info[0], "points");
  const int32_t dimensions = a.integer(info[1], "dimensions", 1, 1 << 13);  // 2 x contextFeatures' 4096
  const auto weights = a.float64s(info[2], "weights");
  const int32_t clusters = a.integer(info[3], "clusters", kTopicsLimit);
  const int32_t iterations = a.integer(info[4], "iterations", 1, 1 << 20);
  const uint64_t seed = a.unsignedInteger(info[5], "seed");
  const auto labels = a.int32s(info[6], "labels");
  const int32_t threads = info[7].IsUndefined() ? 1 : a.integer(info[7], "threads", kThreadsLimit);
  if (points.length % dimensions != 0) {
    a.fail(
        "points",
        "has length " + std::to_string(points.length) + ", not a multiple of dimensions " + std::to_string(dimensions),
        "pass [n][dimensions] points");
  }
  const size_t n = points.length / dimensions;
  if (n < 1 || n > static_cast<size_t>(kVocabularyLimit.max)) {
    a.fail("points", "holds " + std::to_string(n) + " points",
           "pass 1 to " + std::to_string(kVocabularyLimit.max) + " (one per action)");
  }
  a.length("weights", weights.length, n);
  a.length("labels", labels.length, n);
  for (size_t i = 0; i < n; ++i) {
    if (!(weights.data[i] > 0) || !std::isfinite(weights.data[i])) {
      a.fail("weights", "[" + std::to_string(i) + "] is not a finite number > 0",
             "weigh every point, e.g. by its count + 1");
    }
  }
  for (size_t i = 0; i < points.length; ++i) {
    if (!std::isfinite(points.data[i]))
      a.fail("points", "[" + std::to_string(i) + "] is not finite", "pass finite coordinates");
  }
  a.outputsApart({"labels"});
  const double objective = weightedKMeans(points.data, static_cast<int32_t>(n), dimensions, weights.data, clusters,
                                          iterations, seed, labels.data, threads);
  return Napi::Number::New(info.Env(), objective);
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("cpuSupported", Napi::Function::New(env, CpuSupported, "cpuSupported"));
  exports.Set("limits", Napi::Function::New(
                            env, [](const Napi::CallbackInfo& info) -> Napi::Value { return limitsObject(info.Env()); },
                            "limits"));
  exports.Set("checksum", Napi::Function::New(env, Checksum, "checksum"));
  exports.Set("randomStream", Napi::Function::New(env, RandomStream, "randomStream"));
  exports.Set("randomTopics", Napi::Function::New(env, RandomTopics, "randomTopics"));
  exports.Set("buildCounts", Napi::Function::New(env, BuildCounts, "buildCounts"));
  exports.Set("buildAlias", Napi::Function::New(env, BuildAlias, "buildAlias"));
  exports.Set("sweep", Napi::Function::New(env, Sweep, "sweep"));
  exports.Set("particleFilter", Napi::Function::New(env, ParticleFilter, "particleFilter"));
  exports.Set("filterStep", Napi::Function::New(env, FilterStep, "filterStep"));
  exports.Set("lstmSteps", Napi::Function::New(env, LstmSteps, "lstmSteps"));
  exports.Set("topicTransitions", Napi::Function::New(env, TopicTransitions, "topicTransitions"));
  exports.Set("lstmTrain", Napi::Function::New(env, LstmTrain, "lstmTrain"));
  exports.Set("transitionTable", Napi::Function::New(env, TransitionTable, "transitionTable"));
  exports.Set("contextFeatures", Napi::Function::New(env, ContextFeatures, "contextFeatures"));
  exports.Set("kmeans", Napi::Function::New(env, KMeans, "kmeans"));
  return exports;
}

}  // namespace lla

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return lla::Init(env, exports); }

NODE_API_MODULE(lla_native, InitModule)
