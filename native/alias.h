// Vose alias tables for the word proposal q_w(k) = phi_{k,w} / sum_j phi_{j,w} (SPEC 3.1): one table per
// action over its sparse part n_{k,w} / (n_k + V beta), one shared table over the dense part beta / (n_k + V beta).
#pragma once
#include <cstdint>

#include "counts.h"
#include "rng.h"

namespace lla {

struct AliasView {
  const float* sparseProb = nullptr;     // [nnz] aligned with CountView::rowTopics
  const int32_t* sparseAlias = nullptr;  // [nnz] topic ids
  const double* sparseMass = nullptr;    // [V] sum of the row's sparse weights
  const float* denseProb = nullptr;      // [K]
  const int32_t* denseAlias = nullptr;   // [K] topic ids
  double denseMass = 0;                  // sum_k beta / (n_k + V beta)
};

struct AliasOutput {
  float* sparseProb;
  int32_t* sparseAlias;
  double* sparseMass;
  float* denseProb;
  int32_t* denseAlias;
  double* denseMass;
};

// Builds every table from validated counts. threads: 0 = all cores; the tables do not depend on it.
void buildAlias(const CountView& counts, double beta, AliasOutput& out, int32_t threads = 1);

// One draw from a table of n slots; ownTopics maps slot -> topic (nullptr: the slot is its topic).
inline int32_t aliasDraw(const float* prob, const int32_t* alias, const int32_t* ownTopics, int32_t n, Stream& rng) {
  const double u = rng.uniform() * n;
  int32_t slot = static_cast<int32_t>(u);
  if (slot >= n) slot = n - 1;
  if (u - slot < prob[slot]) return ownTopics ? ownTopics[slot] : slot;
  return alias[slot];
}

// A draw from q_w: the sparse row or the dense table, chosen by their masses.
inline int32_t wordProposal(const CountView& counts, const AliasView& alias, int32_t w, Stream& rng) {
  const int32_t begin = counts.rowOffsets[w];
  const int32_t length = counts.rowOffsets[w + 1] - begin;
  const double sparse = alias.sparseMass[w];
  if (length > 0 && rng.uniform() * (sparse + alias.denseMass) < sparse) {
    return aliasDraw(alias.sparseProb + begin, alias.sparseAlias + begin, counts.rowTopics + begin, length, rng);
  }
  return aliasDraw(alias.denseProb, alias.denseAlias, nullptr, counts.numTopics, rng);
}

}  // namespace lla
