// Argument checking for the Node-API entry points: every typed array's type and length and every id that is
// used as an index is checked before a kernel runs, and a bad one throws a JS Error that names the entry
// point, the argument, the problem and the fix. Kernels below this layer trust their inputs.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "alias.h"
#include "counts.h"
#include "limits.h"
#include "lstm_cell.h"
#include "snapshot.h"

namespace lla {

template <typename T>
struct Typed {
  T* data = nullptr;
  size_t length = 0;
};

class Arguments {
 public:
  Arguments(Napi::Env env, std::string where) : env_(env), where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& name, const std::string& problem, const std::string& fix) const;

  Napi::Object object(Napi::Value value, const std::string& name);
  Typed<int32_t> int32s(Napi::Value value, const std::string& name);
  Typed<uint32_t> uint32s(Napi::Value value, const std::string& name);
  Typed<float> float32s(Napi::Value value, const std::string& name);
  Typed<double> float64s(Napi::Value value, const std::string& name);
  int32_t integer(Napi::Value value, const std::string& name, int64_t low, int64_t high);
  // a whole number inside one of the kernel limits (limits.h)
  int32_t integer(Napi::Value value, const std::string& name, IntegerLimit limit) {
    return integer(value, name, limit.min, limit.max);
  }
  // a number inside one of the kernel limits (limits.h)
  double number(Napi::Value value, const std::string& name, RealLimit limit);
  // a whole number inside kSeedLimit read as u64 (seeds, iterations, stream indices)
  uint64_t unsignedInteger(Napi::Value value, const std::string& name);
  // a size taken from an array's length (tokens, sequences, actions) inside its kernel limit
  void size(const std::string& name, size_t value, IntegerLimit limit) const;
  bool boolean(Napi::Value value, const std::string& name);
  // one of the allowed strings; returns its index
  int32_t choice(Napi::Value value, const std::string& name, const std::vector<std::string>& allowed);

  void length(const std::string& name, size_t actual, size_t expected) const;
  void minimumLength(const std::string& name, size_t actual, size_t minimum) const;
  // every values[i] in [low, high); checked on `threads` threads (0 = all cores) when count is large
  void range(const std::string& name, const int32_t* values, size_t count, int64_t low, int64_t high,
             int32_t threads = 1) const;
  // offsets [D+1]: starts at 0, never decreases, ends at tokenCount; returns D. D and tokenCount must be inside
  // their kernel limits: countLimit for D (sequences, or actions for a word index), kTokensLimit for tokenCount.
  int32_t offsets(const std::string& name, const Typed<int32_t>& offsets, size_t tokenCount,
                  IntegerLimit countLimit = kSequencesLimit) const;

  // with a snapshot, the id arrays are copied into it first and the checks run on the copies, which the
  // returned view points to (for async kernels: see snapshot.h)
  CountView counts(Napi::Value value, int32_t numTopics, int32_t vocabularySize, Snapshot* snapshot = nullptr);
  AliasView alias(Napi::Value value, const CountView& counts, Snapshot* snapshot = nullptr);
  // range() of values[0 .. count), on a copy in the snapshot when one is given; returns what was checked
  const int32_t* checkedRange(Snapshot* snapshot, const std::string& name, const int32_t* values, size_t count,
                              int64_t low, int64_t high) const;
  // rows: the input symbols (K+1 for lla, V+1 for word-lla)
  CellView cell(Napi::Value value, int32_t numTopics, int32_t rows);
  // hmm: a Float64Array of transitionCells(K, order) probabilities, every entry finite and > 0
  const double* transitionTable(Napi::Value value, int32_t numTopics, int32_t order);

  // Throws unless each named output array shares no memory with any other typed array of the call: a kernel that
  // writes an array while it reads ids or offsets from the same memory would index with values never checked.
  void outputsApart(const std::vector<std::string>& outputs) const;

  // Every typed array seen, so that an async worker can keep them alive.
  const std::vector<Napi::Object>& held() const { return held_; }
  Napi::Env env() const { return env_; }

 private:
  Napi::Value typed(Napi::Value value, const std::string& name, napi_typedarray_type type, const char* typeName,
                    const char* allocator);
  Napi::Env env_;
  std::string where_;
  std::vector<Napi::Object> held_;
  // the memory of every typed array seen: [begin, end) byte addresses, by argument name
  struct Extent {
    std::string name;
    uintptr_t begin;
    uintptr_t end;
  };
  std::vector<Extent> extents_;
};

}  // namespace lla
