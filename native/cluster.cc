#include "cluster.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "categorical.h"
#include "lstm_cell.h"
#include "pool.h"
#include "rng.h"

namespace lla {

void transitionTable(const int32_t* offsets, int32_t sequences, const int32_t* topics, int32_t numTopics, int32_t order,
                     double smoothing, double* out) {
  const int32_t K = numTopics;
  const size_t rows = transitionCells(K, order) / K;
  std::vector<int64_t> counts(rows * K, 0);  // [rows][K] the contexts' successors
  for (int32_t d = 0; d < sequences; ++d) {
    int32_t previous = K;
    int32_t beforePrevious = K;
    for (int32_t t = offsets[d]; t < offsets[d + 1]; ++t) {
      const size_t row = order == 2 ? static_cast<size_t>(beforePrevious) * (K + 1) + previous : previous;
      ++counts[row * K + topics[t]];
      beforePrevious = previous;
      previous = topics[t];
    }
  }
  for (size_t j = 0; j < rows; ++j) {
    const int64_t* row = counts.data() + j * K;
    int64_t total = 0;
    for (int32_t k = 0; k < K; ++k) total += row[k];
    const double scale = 1.0 / (static_cast<double>(total) + K * smoothing);
    for (int32_t k = 0; k < K; ++k) out[j * K + k] = (row[k] + smoothing) * scale;
  }
}

void contextFeatures(const int32_t* tokens, int64_t tokenCount, const int32_t* offsets, int32_t sequences,
                     int32_t vocabularySize, int32_t dimensions, uint64_t seed, float* features, int32_t threads) {
  const int32_t V = vocabularySize;
  const int32_t words = (dimensions + 63) / 64;
  // neighbours: [2][T] the action after (side 0) and before (side 1) each position in its sequence, -1 at an end
  std::vector<int32_t> neighbours(2 * static_cast<size_t>(tokenCount), -1);
  for (int32_t d = 0; d < sequences; ++d) {
    for (int32_t t = offsets[d]; t + 1 < offsets[d + 1]; ++t) {
      neighbours[t] = tokens[t + 1];
      neighbours[tokenCount + t + 1] = tokens[t];
    }
  }
  // positions grouped by action (counting sort): positionOffsets [V+1], positions [T], ascending within an action
  std::vector<int64_t> positionOffsets(static_cast<size_t>(V) + 1, 0);
  for (int64_t t = 0; t < tokenCount; ++t) ++positionOffsets[tokens[t] + 1];
  for (int32_t w = 0; w < V; ++w) positionOffsets[w + 1] += positionOffsets[w];
  std::vector<int64_t> fill(positionOffsets.begin(), positionOffsets.end() - 1);
  std::vector<int64_t> positions(static_cast<size_t>(tokenCount));
  for (int64_t t = 0; t < tokenCount; ++t) positions[fill[tokens[t]]++] = t;
  // signs: [V][words] the random projection of action b, bit j of word j/64 set for +1
  std::vector<uint64_t> signs(static_cast<size_t>(V) * words);
  for (int32_t b = 0; b < V; ++b) {
    Stream stream(seed, kContextIteration, static_cast<uint64_t>(b));
    for (int32_t i = 0; i < words; ++i) signs[static_cast<size_t>(b) * words + i] = stream.next();
  }
  const int32_t participants = resolveThreads(threads, std::max<int64_t>(tokenCount / 65536, 1));
  // per participant: counts [V] of one action's neighbours (zero between actions) and the neighbours touched
  std::vector<std::vector<int32_t>> countScratch(participants), touchedScratch(participants);
  const int64_t chunks = std::min<int64_t>(V, static_cast<int64_t>(participants) * kRangesPerThread);
  runChunks(participants, chunks, [&](int64_t chunk, int32_t participant) {
    std::vector<int32_t>& counts = countScratch[participant];
    std::vector<int32_t>& touched = touchedScratch[participant];
    if (counts.empty()) counts.assign(V, 0);
    const int32_t first = static_cast<int32_t>(V * chunk / chunks);
    const int32_t last = static_cast<int32_t>(V * (chunk + 1) / chunks);
    for (int32_t a = first; a < last; ++a) {
      for (int32_t side = 0; side < 2; ++side) {
        float* out = features + (static_cast<size_t>(a) * 2 + side) * dimensions;
        std::fill(out, out + dimensions, 0.0f);
        const int32_t* neighbour = neighbours.data() + side * tokenCount;
        touched.clear();
        int64_t total = 0;
        for (int64_t i = positionOffsets[a]; i < positionOffsets[a + 1]; ++i) {
          const int32_t b = neighbour[positions[i]];
          if (b < 0) continue;
          if (counts[b]++ == 0) touched.push_back(b);
          ++total;
        }
        for (const int32_t b : touched) {
          const float weight =
              static_cast<float>(std::sqrt(static_cast<double>(counts[b]) / static_cast<double>(total)));
          counts[b] = 0;
          const uint64_t* bits = signs.data() + static_cast<size_t>(b) * words;
          for (int32_t j = 0; j < dimensions; ++j) out[j] += ((bits[j >> 6] >> (j & 63)) & 1) != 0 ? weight : -weight;
        }
      }
    }
  });
}

namespace {

// sum_j (x_j - c_j)^2 over n floats, in 8 lanes then pairwise (the order fixed by n alone)
float squaredDistance(const float* x, const float* c, int32_t n) {
  float lanes[8] = {};
  int32_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int32_t l = 0; l < 8; ++l) {
      const float difference = x[j + l] - c[j + l];
      lanes[l] += difference * difference;
    }
  }
  float tail = 0;
  for (; j < n; ++j) tail += (x[j] - c[j]) * (x[j] - c[j]);
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])) + tail;
}

// Points per block of the batched distance product: 64 rows of [K] products stay in L2.
constexpr int32_t kPointBlock = 64;

}  // namespace

double weightedKMeans(const float* points, int32_t n, int32_t dimensions, const double* weights, int32_t clusters,
                      int32_t iterations, uint64_t seed, int32_t* labels, int32_t threads) {
  const int32_t K = clusters;
  const size_t D = dimensions;
  std::vector<float> centres(static_cast<size_t>(K) * D);  // [K][D]
  // greedy k-means++: the first centre by weight; each next one the best of `candidates` points drawn by weight x
  // squared distance to the nearest centre so far, best meaning the least weighted sum of squared distances after
  // adding it. (Plain k-means++ left 4 clusterings in 5 of a generated corpus in poor optima, and the sampler does
  // not leave them.)
  const int32_t candidates = 2 + static_cast<int32_t>(std::log(static_cast<double>(K)));
  Stream rng(seed, kKMeansIteration, 0);
  std::vector<double> nearest(n);         // [n] squared distance to the nearest centre so far
  std::vector<double> mass(n);            // [n] weight x nearest: the candidates' draw
  std::vector<double> trial(n), best(n);  // [n] nearest with a candidate added: the one being tried, the best so far
  double totalWeight = 0;
  for (int32_t i = 0; i < n; ++i) totalWeight += weights[i];
  int32_t chosen = drawCategorical(weights, n, totalWeight, rng);
  std::copy(points + chosen * D, points + (chosen + 1) * D, centres.begin());
  for (int32_t i = 0; i < n; ++i) nearest[i] = squaredDistance(points + i * D, centres.data(), dimensions);
  for (int32_t k = 1; k < K; ++k) {
    double total = 0;
    for (int32_t i = 0; i < n; ++i) {
      mass[i] = weights[i] * nearest[i];
      total += mass[i];
    }
    double bestPotential = std::numeric_limits<double>::infinity();
    for (int32_t c = 0; c < candidates; ++c) {
      // every point sits on a centre (more clusters than distinct points): draw by weight
      const int32_t candidate =
          total > 0 ? drawCategorical(mass.data(), n, total, rng) : drawCategorical(weights, n, totalWeight, rng);
      double potential = 0;
      for (int32_t i = 0; i < n; ++i) {
        trial[i] = std::min(nearest[i],
                            static_cast<double>(squaredDistance(points + i * D, points + candidate * D, dimensions)));
        potential += weights[i] * trial[i];
      }
      if (potential < bestPotential) {
        bestPotential = potential;
        chosen = candidate;
        best.swap(trial);
      }
    }
    std::copy(points + chosen * D, points + (chosen + 1) * D, centres.begin() + k * D);
    nearest.swap(best);
  }
  // Lloyd rounds: the nearest centre by |c|^2 - 2 x.c (|x|^2 is the same for every centre), the products batched
  const int32_t width = paddedWidth(K);
  std::vector<float> centresT(D * width, 0.0f);          // [D][width] the centres transposed for batchedProduct
  std::vector<float> norms(K);                           // [K] |c|^2
  std::vector<double> sums(static_cast<size_t>(K) * D);  // [K][D] weighted sums of the members
  std::vector<double> members(K);                        // [K] their weights
  std::fill(labels, labels + n, -1);
  const int32_t blocks = (n + kPointBlock - 1) / kPointBlock;
  const int32_t participants =
      resolveThreads(threads, std::max<int64_t>(static_cast<int64_t>(n) * K * dimensions / (1 << 22), 1));
  // per participant: the block's products [kPointBlock][width]
  std::vector<std::vector<float>> productScratch(participants);
  for (int32_t round = 0; round < iterations; ++round) {
    for (int32_t k = 0; k < K; ++k) {
      norms[k] = 0;
      for (size_t j = 0; j < D; ++j) {
        const float value = centres[k * D + j];
        centresT[j * width + k] = value;
        norms[k] += value * value;
      }
    }
    std::vector<int64_t> changedOf(participants, 0);
    runChunks(participants, blocks, [&](int64_t block, int32_t participant) {
      std::vector<float>& products = productScratch[participant];
      if (products.empty()) products.resize(static_cast<size_t>(kPointBlock) * width);
      const int32_t first = static_cast<int32_t>(block) * kPointBlock;
      const int32_t count = std::min(kPointBlock, n - first);
      const float* inputs[kPointBlock];
      float* outputs[kPointBlock];
      for (int32_t b = 0; b < count; ++b) {
        inputs[b] = points + (first + b) * D;
        outputs[b] = products.data() + static_cast<size_t>(b) * width;
      }
      batchedProduct(centresT.data(), dimensions, width, inputs, count, outputs);
      for (int32_t b = 0; b < count; ++b) {
        int32_t best = 0;
        float bestScore = norms[0] - 2 * outputs[b][0];
        for (int32_t k = 1; k < K; ++k) {
          const float score = norms[k] - 2 * outputs[b][k];
          if (score < bestScore) {
            bestScore = score;
            best = k;
          }
        }
        if (labels[first + b] != best) ++changedOf[participant];
        labels[first + b] = best;
      }
    });
    int64_t changed = 0;
    for (const int64_t value : changedOf) changed += value;
    if (changed == 0) break;
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(members.begin(), members.end(), 0.0);
    for (int32_t i = 0; i < n; ++i) {
      double* sum = sums.data() + labels[i] * D;
      for (size_t j = 0; j < D; ++j) sum[j] += weights[i] * points[i * D + j];
      members[labels[i]] += weights[i];
    }
    for (int32_t k = 0; k < K; ++k) {
      if (members[k] <= 0) continue;  // an empty cluster keeps its centre
      for (size_t j = 0; j < D; ++j) centres[k * D + j] = static_cast<float>(sums[k * D + j] / members[k]);
    }
  }
  double objective = 0;
  for (int32_t i = 0; i < n; ++i) {
    objective += weights[i] * squaredDistance(points + i * D, centres.data() + labels[i] * D, dimensions);
  }
  return objective;
}

}  // namespace lla
