#include "args.h"

#include <cmath>
#include <sstream>

#include "cluster.h"

namespace lla {
namespace {

const char* typedArrayName(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: break;
  }
  return "typed array";
}

std::string describe(Napi::Value value) {
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (value.IsTypedArray()) return typedArrayName(value.As<Napi::TypedArray>().TypedArrayType());
  if (value.IsArray()) return "an Array";
  if (value.IsNumber()) return "the number " + value.ToString().Utf8Value();
  if (value.IsString()) return "the string '" + value.As<Napi::String>().Utf8Value() + "'";
  if (value.IsBoolean()) return value.As<Napi::Boolean>().Value() ? "true" : "false";
  if (value.IsFunction()) return "a function";
  return "an object";
}

}  // namespace

void Arguments::fail(const std::string& name, const std::string& problem, const std::string& fix) const {
  throw Napi::Error::New(env_, "lla native " + where_ + ": " + name + " " + problem + "; " + fix);
}

Napi::Object Arguments::object(Napi::Value value, const std::string& name) {
  if (!value.IsObject() || value.IsTypedArray() || value.IsArray() || value.IsFunction()) {
    fail(name, "must be an object (got " + describe(value) + ")",
         "pass the argument object the Kernel interface defines");
  }
  return value.As<Napi::Object>();
}

Napi::Value Arguments::typed(Napi::Value value, const std::string& name, napi_typedarray_type type,
                             const char* typeName, const char* allocator) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    fail(name, std::string("must be a ") + typeName + " (got " + describe(value) + ")",
         std::string("allocate it with ") + allocator);
  }
  held_.push_back(value.As<Napi::Object>());
  auto array = value.As<Napi::TypedArray>();
  const auto begin = reinterpret_cast<uintptr_t>(array.ArrayBuffer().Data()) + array.ByteOffset();
  extents_.push_back({name, begin, begin + array.ByteLength()});
  return value;
}

void Arguments::outputsApart(const std::vector<std::string>& outputs) const {
  for (const auto& output : outputs) {
    for (const auto& mine : extents_) {
      if (mine.name != output || mine.begin == mine.end) continue;
      for (const auto& other : extents_) {
        if (&other == &mine || other.begin == other.end) continue;
        if (mine.begin < other.end && other.begin < mine.end) {
          fail(output, "shares memory with " + other.name, "pass a separate array for each output");
        }
      }
    }
  }
}

Typed<int32_t> Arguments::int32s(Napi::Value value, const std::string& name) {
  auto array = typed(value, name, napi_int32_array, "Int32Array", "kernel.allocInt32(n)").As<Napi::Int32Array>();
  return {array.Data(), array.ElementLength()};
}

Typed<uint32_t> Arguments::uint32s(Napi::Value value, const std::string& name) {
  auto array = typed(value, name, napi_uint32_array, "Uint32Array", "new Uint32Array(n)").As<Napi::Uint32Array>();
  return {array.Data(), array.ElementLength()};
}

Typed<float> Arguments::float32s(Napi::Value value, const std::string& name) {
  auto array =
      typed(value, name, napi_float32_array, "Float32Array", "kernel.allocFloat32(n)").As<Napi::Float32Array>();
  return {array.Data(), array.ElementLength()};
}

Typed<double> Arguments::float64s(Napi::Value value, const std::string& name) {
  auto array =
      typed(value, name, napi_float64_array, "Float64Array", "kernel.allocFloat64(n)").As<Napi::Float64Array>();
  return {array.Data(), array.ElementLength()};
}

int32_t Arguments::integer(Napi::Value value, const std::string& name, int64_t low, int64_t high) {
  if (!value.IsNumber()) fail(name, "must be a number (got " + describe(value) + ")", "pass a whole number");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::floor(number) != number || number < static_cast<double>(low) ||
      number > static_cast<double>(high)) {
    fail(
        name,
        "is " + describe(value) + ", not a whole number in [" + std::to_string(low) + ", " + std::to_string(high) + "]",
        "pass a value in that range");
  }
  return static_cast<int32_t>(number);
}

double Arguments::number(Napi::Value value, const std::string& name, RealLimit limit) {
  if (!value.IsNumber()) fail(name, "must be a number (got " + describe(value) + ")", "pass a finite number");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= limit.min && number <= limit.max)) {
    std::ostringstream range;
    range << "[" << limit.min << ", " << limit.max << "]";
    fail(name, "is " + describe(value) + ", outside its kernel limit " + range.str(), "pass a value in that range");
  }
  return number;
}

uint64_t Arguments::unsignedInteger(Napi::Value value, const std::string& name) {
  if (!value.IsNumber()) fail(name, "must be a number (got " + describe(value) + ")", "pass a whole number >= 0");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::floor(number) != number || number < static_cast<double>(kSeedLimit.min) ||
      number > static_cast<double>(kSeedLimit.max)) {
    fail(name, "is " + describe(value) + ", not a whole number in [0, 2^53 - 1]", "pass a whole number >= 0");
  }
  return static_cast<uint64_t>(number);
}

void Arguments::size(const std::string& name, size_t value, IntegerLimit limit) const {
  if (value < static_cast<uint64_t>(limit.min) || value > static_cast<uint64_t>(limit.max)) {
    fail(name,
         "is " + std::to_string(value) + ", outside its kernel limit [" + std::to_string(limit.min) + ", " +
             std::to_string(limit.max) + "]",
         "split the input or use fewer actions");
  }
}

bool Arguments::boolean(Napi::Value value, const std::string& name) {
  if (!value.IsBoolean()) fail(name, "must be a boolean (got " + describe(value) + ")", "pass true or false");
  return value.As<Napi::Boolean>().Value();
}

int32_t Arguments::choice(Napi::Value value, const std::string& name, const std::vector<std::string>& allowed) {
  std::string list;
  for (const auto& option : allowed) list += (list.empty() ? "'" : ", '") + option + "'";
  if (value.IsString()) {
    const std::string text = value.As<Napi::String>().Utf8Value();
    for (size_t i = 0; i < allowed.size(); ++i) {
      if (allowed[i] == text) return static_cast<int32_t>(i);
    }
  }
  fail(name, "is " + describe(value) + ", not one of " + list, "pass one of those strings");
}

void Arguments::length(const std::string& name, size_t actual, size_t expected) const {
  if (actual != expected) {
    fail(name, "has length " + std::to_string(actual) + " but must have length " + std::to_string(expected),
         "allocate it with the documented shape");
  }
}

void Arguments::minimumLength(const std::string& name, size_t actual, size_t minimum) const {
  if (actual < minimum) {
    fail(name, "has length " + std::to_string(actual) + " but needs at least " + std::to_string(minimum),
         "allocate it with the documented shape");
  }
}

void Arguments::range(const std::string& name, const int32_t* values, size_t count, int64_t low, int64_t high,
                      int32_t threads) const {
  const size_t i = firstOutsideRange(values, count, low, high, threads);
  if (i < count) {
    fail(name,
         "[" + std::to_string(i) + "] = " + std::to_string(values[i]) + " is outside [" + std::to_string(low) + ", " +
             std::to_string(high) + ")",
         "ids must be below the declared size (numTopics / vocabularySize)");
  }
}

int32_t Arguments::offsets(const std::string& name, const Typed<int32_t>& offsets, size_t tokenCount,
                           IntegerLimit countLimit) const {
  if (offsets.length < 1) fail(name, "is empty", "pass D+1 sequence offsets starting at 0");
  size("the token count", tokenCount, kTokensLimit);
  size(name + ".length - 1", offsets.length - 1, countLimit);
  if (offsets.data[0] != 0)
    fail(name, "[0] is " + std::to_string(offsets.data[0]) + ", not 0", "start the offsets at 0");
  for (size_t d = 1; d < offsets.length; ++d) {
    if (offsets.data[d] < offsets.data[d - 1]) {
      fail(name, "decreases at index " + std::to_string(d), "offsets must be non-decreasing sequence starts");
    }
  }
  if (static_cast<size_t>(offsets.data[offsets.length - 1]) != tokenCount) {
    fail(name,
         "ends at " + std::to_string(offsets.data[offsets.length - 1]) + " but there are " +
             std::to_string(tokenCount) + " tokens",
         "the last offset must equal tokens.length");
  }
  return static_cast<int32_t>(offsets.length - 1);
}

const int32_t* Arguments::checkedRange(Snapshot* snapshot, const std::string& name, const int32_t* values, size_t count,
                                       int64_t low, int64_t high) const {
  if (snapshot == nullptr) {
    range(name, values, count, low, high);
    return values;
  }
  size_t firstOutside = count;
  const int32_t* copy = snapshot->keepChecked(values, count, low, high, firstOutside);
  // the copy holds the same values up to the first bad one: range() reports it as it would on the source
  if (firstOutside < count) range(name, copy, count, low, high);
  return copy;
}

CountView Arguments::counts(Napi::Value value, int32_t numTopics, int32_t vocabularySize, Snapshot* snapshot) {
  Napi::Object tables = object(value, "counts");
  CountView view;
  view.numTopics = numTopics;
  view.vocabularySize = vocabularySize;
  const auto rowOffsets = int32s(tables.Get("rowOffsets"), "counts.rowOffsets");
  const auto rowTopics = int32s(tables.Get("rowTopics"), "counts.rowTopics");
  const auto rowCounts = int32s(tables.Get("rowCounts"), "counts.rowCounts");
  const auto topicTotals = int32s(tables.Get("topicTotals"), "counts.topicTotals");
  length("counts.rowOffsets", rowOffsets.length, static_cast<size_t>(vocabularySize) + 1);
  length("counts.topicTotals", topicTotals.length, numTopics);
  const int32_t* offsets =
      snapshot == nullptr ? rowOffsets.data : snapshot->keep(rowOffsets.data, static_cast<size_t>(vocabularySize) + 1);
  if (offsets[0] != 0) fail("counts.rowOffsets", "[0] is not 0", "rebuild the tables with kernel.buildCounts");
  for (int32_t w = 0; w < vocabularySize; ++w) {
    if (offsets[w + 1] < offsets[w]) {
      fail("counts.rowOffsets", "decreases at index " + std::to_string(w + 1),
           "rebuild the tables with kernel.buildCounts");
    }
  }
  const size_t nnz = static_cast<size_t>(offsets[vocabularySize]);
  minimumLength("counts.rowTopics", rowTopics.length, nnz);
  minimumLength("counts.rowCounts", rowCounts.length, nnz);
  const int32_t* topics = checkedRange(snapshot, "counts.rowTopics", rowTopics.data, nnz, 0, numTopics);
  const int32_t* counts = checkedRange(snapshot, "counts.rowCounts", rowCounts.data, nnz, 1, INT32_MAX);
  const int32_t* totals = checkedRange(snapshot, "counts.topicTotals", topicTotals.data, numTopics, 0, INT32_MAX);
  for (int32_t w = 0; w < vocabularySize; ++w) {
    for (int32_t e = offsets[w] + 1; e < offsets[w + 1]; ++e) {
      if (topics[e] <= topics[e - 1]) {
        fail("counts.rowTopics", "is not strictly ascending within row " + std::to_string(w),
             "rebuild the tables with kernel.buildCounts");
      }
    }
  }
  view.rowOffsets = offsets;
  view.rowTopics = topics;
  view.rowCounts = counts;
  view.topicTotals = totals;
  return view;
}

AliasView Arguments::alias(Napi::Value value, const CountView& counts, Snapshot* snapshot) {
  Napi::Object tables = object(value, "alias");
  const size_t nnz = static_cast<size_t>(counts.rowOffsets[counts.vocabularySize]);
  const auto sparseProb = float32s(tables.Get("sparseProb"), "alias.sparseProb");
  const auto sparseAlias = int32s(tables.Get("sparseAlias"), "alias.sparseAlias");
  const auto sparseMass = float64s(tables.Get("sparseMass"), "alias.sparseMass");
  const auto denseProb = float32s(tables.Get("denseProb"), "alias.denseProb");
  const auto denseAlias = int32s(tables.Get("denseAlias"), "alias.denseAlias");
  const auto denseMass = float64s(tables.Get("denseMass"), "alias.denseMass");
  minimumLength("alias.sparseProb", sparseProb.length, nnz);
  minimumLength("alias.sparseAlias", sparseAlias.length, nnz);
  length("alias.sparseMass", sparseMass.length, counts.vocabularySize);
  length("alias.denseProb", denseProb.length, counts.numTopics);
  length("alias.denseAlias", denseAlias.length, counts.numTopics);
  minimumLength("alias.denseMass", denseMass.length, 1);
  const int32_t* sparseIds = checkedRange(snapshot, "alias.sparseAlias", sparseAlias.data, nnz, 0, counts.numTopics);
  const int32_t* denseIds =
      checkedRange(snapshot, "alias.denseAlias", denseAlias.data, counts.numTopics, 0, counts.numTopics);
  if (!(denseMass.data[0] > 0) || !std::isfinite(denseMass.data[0])) {
    fail("alias.denseMass", "[0] is not a positive finite number", "rebuild the tables with kernel.buildAlias");
  }
  AliasView view;
  view.sparseProb = sparseProb.data;
  view.sparseAlias = sparseIds;
  view.sparseMass = sparseMass.data;
  view.denseProb = denseProb.data;
  view.denseAlias = denseIds;
  view.denseMass = denseMass.data[0];
  return view;
}

CellView Arguments::cell(Napi::Value value, int32_t numTopics, int32_t rows) {
  if (value.IsUndefined() || value.IsNull()) {
    fail("weights", "are missing", "pass the LSTM weights (CellWeights) for lla and word-lla");
  }
  Napi::Object weights = object(value, "weights");
  CellView view;
  view.hidden = integer(weights.Get("hidden"), "weights.hidden", kHiddenLimit);
  view.inputRows = rows;
  view.numTopics = numTopics;
  const size_t H = view.hidden;
  const auto inputTable = float32s(weights.Get("inputTable"), "weights.inputTable");
  const auto recurrent = float32s(weights.Get("recurrent"), "weights.recurrent");
  const auto gateBias = float32s(weights.Get("gateBias"), "weights.gateBias");
  const auto outputWeights = float32s(weights.Get("outputWeights"), "weights.outputWeights");
  const auto outputBias = float32s(weights.Get("outputBias"), "weights.outputBias");
  length("weights.inputTable", inputTable.length, static_cast<size_t>(rows) * 4 * H);
  length("weights.recurrent", recurrent.length, 4 * H * H);
  length("weights.gateBias", gateBias.length, 4 * H);
  length("weights.outputWeights", outputWeights.length, static_cast<size_t>(numTopics) * H);
  length("weights.outputBias", outputBias.length, numTopics);
  view.inputTable = inputTable.data;
  view.recurrent = recurrent.data;
  view.gateBias = gateBias.data;
  view.outputWeights = outputWeights.data;
  view.outputBias = outputBias.data;
  return view;
}

Napi::Object limitsObject(Napi::Env env) {
  Napi::Object limits = Napi::Object::New(env);
  const auto add = [&](const char* name, double min, double max) {
    Napi::Object bounds = Napi::Object::New(env);
    bounds.Set("min", min);
    bounds.Set("max", max);
    limits.Set(name, bounds);
  };
  add("topics", kTopicsLimit.min, kTopicsLimit.max);
  add("vocabulary", kVocabularyLimit.min, kVocabularyLimit.max);
  add("tokens", kTokensLimit.min, kTokensLimit.max);
  add("sequences", kSequencesLimit.min, kSequencesLimit.max);
  add("hidden", kHiddenLimit.min, kHiddenLimit.max);
  add("embedding", kEmbeddingLimit.min, kEmbeddingLimit.max);
  add("lanes", kLanesLimit.min, kLanesLimit.max);
  add("steps", kStepsLimit.min, kStepsLimit.max);
  add("learningRate", kLearningRateLimit.min, kLearningRateLimit.max);
  add("particles", kParticlesLimit.min, kParticlesLimit.max);
  add("mhSteps", kMhStepsLimit.min, kMhStepsLimit.max);
  add("threads", kThreadsLimit.min, kThreadsLimit.max);
  add("beta", kBetaLimit.min, kBetaLimit.max);
  add("alpha", kAlphaLimit.min, kAlphaLimit.max);
  add("sequenceSmoothing", kSequenceSmoothingLimit.min, kSequenceSmoothingLimit.max);
  add("copyWindow", kCopyWindowLimit.min, kCopyWindowLimit.max);
  add("copyDecay", kCopyDecayLimit.min, kCopyDecayLimit.max);
  add("seed", static_cast<double>(kSeedLimit.min), static_cast<double>(kSeedLimit.max));
  return limits;
}

const double* Arguments::transitionTable(Napi::Value value, int32_t numTopics, int32_t order) {
  if (value.IsUndefined() || value.IsNull()) {
    fail("transitions", "are missing", "pass the transition table (Float64Array, (K+1)^order x K) for hmm mode");
  }
  const auto table = float64s(value, "transitions");
  length("transitions", table.length, transitionCells(numTopics, order));
  for (size_t i = 0; i < table.length; ++i) {
    if (!(table.data[i] > 0) || !std::isfinite(table.data[i])) {
      fail("transitions", "[" + std::to_string(i) + "] is not a finite number > 0",
           "smooth the transition counts before normalising them (no zero entries)");
    }
  }
  return table.data;
}

}  // namespace lla
