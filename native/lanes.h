// 8 floats: one AVX2 register (two SSE registers on older ISAs); GCC's vector extension keeps the code portable.
// Shared by the kernels that write their vector loops by hand (lstm_cell.cc, dense.cc, lstm_train.cc). Everything
// here is inlined into its callers, so the vector ABI warning of pre-AVX builds (-Wpsabi) concerns no real call
// boundary: callers that pass Lanes between their own functions silence it around them, as this file does.
#pragma once
#include <cstdint>
#include <cstring>

namespace lla {

typedef float Lanes __attribute__((vector_size(32)));
constexpr int32_t kLanes = 8;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
inline Lanes loadLanes(const float* source) {
  Lanes value;
  std::memcpy(&value, source, sizeof value);
  return value;
}
inline void storeLanes(float* target, const Lanes& value) { std::memcpy(target, &value, sizeof value); }
#pragma GCC diagnostic pop

}  // namespace lla
