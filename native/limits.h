// The kernel limits of src/kernels/limits-table.ts (KERNEL_LIMITS, where each bound's reason is given), for the checks
// of the entry points (binding.cc, args.cc). The TypeScript wrapper checks the same table before every call;
// these checks stay for any other caller of the addon. limits() exports them and test/limits.test.ts compares
// them with the TypeScript table: change a bound there and here together.
#pragma once
#include <napi.h>

#include <cstdint>

namespace lla {

// [min, max] of a whole-number argument
struct IntegerLimit {
  int64_t min;
  int64_t max;
};

// [min, max] of a real argument
struct RealLimit {
  double min;
  double max;
};

constexpr IntegerLimit kTopicsLimit{1, int64_t{1} << 20};
constexpr IntegerLimit kVocabularyLimit{1, int64_t{1} << 24};
constexpr IntegerLimit kTokensLimit{0, (int64_t{1} << 31) - 2};
constexpr IntegerLimit kSequencesLimit{0, (int64_t{1} << 31) - 2};
constexpr IntegerLimit kHiddenLimit{1, 4096};
constexpr IntegerLimit kEmbeddingLimit{1, 4096};
constexpr IntegerLimit kLanesLimit{1, int64_t{1} << 16};
constexpr IntegerLimit kStepsLimit{1, int64_t{1} << 16};
constexpr RealLimit kLearningRateLimit{1e-30, 1e30};
constexpr IntegerLimit kParticlesLimit{1, int64_t{1} << 16};
constexpr IntegerLimit kMhStepsLimit{1, 1000};
constexpr IntegerLimit kThreadsLimit{0, 1024};
constexpr RealLimit kBetaLimit{1e-100, 1e100};
constexpr RealLimit kAlphaLimit{1e-100, 1e100};
constexpr RealLimit kSequenceSmoothingLimit{1e-100, 1e100};
constexpr IntegerLimit kCopyWindowLimit{1, int64_t{1} << 16};
constexpr RealLimit kCopyDecayLimit{0, 1};
// seeds, iterations and stream indices
constexpr IntegerLimit kSeedLimit{0, (int64_t{1} << 53) - 1};

// { topics: { min, max }, ... } with the names of KERNEL_LIMITS
Napi::Object limitsObject(Napi::Env env);

}  // namespace lla
