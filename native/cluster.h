// The initialisation that sees dynamics (`--init hmm:N`, contract in src/kernels/types.ts): the smoothed
// first-order transition table of sampled topics (the hmm sweep's stand-in for the LSTM), and the
// context-clustering start, which describes every action by the actions next to it and clusters those
// descriptions with weighted k-means.
#pragma once
#include <cstddef>
#include <cstdint>

namespace lla {

// Cells of a transition table of `order` (1 or 2): (K+1)^order rows of K.
inline size_t transitionCells(int32_t numTopics, int32_t order) {
  return (order == 2 ? (static_cast<size_t>(numTopics) + 1) * (numTopics + 1) : static_cast<size_t>(numTopics) + 1) *
         numTopics;
}

// out: [transitionCells(K, order)] (count of the row's context followed by k + smoothing) / (row total + K smoothing);
// a row's context is z_{t-1} (order 1) or (z_{t-2}, z_{t-1}) (order 2, row z_{t-2} (K+1) + z_{t-1}), K standing for
// the begin symbol before a sequence's first topic. topics: [T] in [0, K); offsets: [sequences+1].
void transitionTable(const int32_t* offsets, int32_t sequences, const int32_t* topics, int32_t numTopics, int32_t order,
                     double smoothing, double* out);

// features: [V][2 dimensions] per action a, the Hellinger-normalised distribution of the action after it
// (sqrt(n(a -> b) / n(a -> .))) and of the action before it, each projected on `dimensions` random signs per
// action b (stream(seed, kContextIteration, b)); zero where an action has no neighbour on that side.
void contextFeatures(const int32_t* tokens, int64_t tokenCount, const int32_t* offsets, int32_t sequences,
                     int32_t vocabularySize, int32_t dimensions, uint64_t seed, float* features, int32_t threads);

// Weighted k-means: k-means++ seeding (stream(seed, kKMeansIteration, 0)), then up to `iterations` Lloyd rounds
// (at least 1; fewer when no label changes). points: [n][dimensions]; weights: [n] > 0; labels: [n] output. Returns the
// weighted sum of squared distances to the final centres.
double weightedKMeans(const float* points, int32_t n, int32_t dimensions, const double* weights, int32_t clusters,
                      int32_t iterations, uint64_t seed, int32_t* labels, int32_t threads);

}  // namespace lla
