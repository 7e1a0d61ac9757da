// SplitMix64 random streams, bit-identical to src/kernels/rng.ts and assembly/rng.ts (contract in
// src/kernels/types.ts). Every sequence draws from its own stream so results do not depend on threads.
#pragma once
#include <cstdint>

namespace lla {

constexpr uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ULL;

// The two xor-shift-multiply rounds and the final xor-shift shared by mix() and next().
inline uint64_t scramble(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline uint64_t mix(uint64_t x) { return scramble(x + kGoldenGamma); }

// Stream offsets of the contract: randomTopics and the particle filter use their own "iterations".
constexpr uint64_t kRandomTopicsIteration = 0xFFFFFFFFULL;
constexpr uint64_t kFilterIterationBase = 0x80000000ULL;
// The context-clustering start: the random signs of action b, and the k-means++ draws.
constexpr uint64_t kContextIteration = 0xFFFFFFFEULL;
constexpr uint64_t kKMeansIteration = 0xFFFFFFFDULL;

class Stream {
 public:
  Stream() : state_(0) {}
  Stream(uint64_t seed, uint64_t iteration, uint64_t index) : state_(mix(mix(mix(seed) ^ iteration) ^ index)) {}
  uint64_t next() {
    state_ += kGoldenGamma;
    return scramble(state_);
  }
  // f64 in [0, 1) from the top 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // integer in [0, n) by the multiply-shift of the high 32 bits (no modulo bias worth a loop).
  uint32_t below(uint32_t n) {
    const uint64_t high = next() >> 32;
    return static_cast<uint32_t>((high * n) >> 32);
  }

 private:
  uint64_t state_;
};

}  // namespace lla
