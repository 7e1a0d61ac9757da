// One window, in three phases: prepare (one thread: padded and transposed copies of the matrices, lla's folded
// input table), blocks (any thread takes whole blocks of lanes: forward, output layer, backward through time, the
// block's weight gradients), finish (one thread: the blocks' gradients summed in block order, the input side's
// gradient scattered by token, lla's table gradient pushed back through the fold, Adam). Rows of a block are
// step-major (row n = t * lanes + lane), so the lanes of one step are consecutive rows of every product.
#include "lstm_train.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "adam.h"
#include "block_tickets.h"
#include "dense.h"
#include "exponential.h"
#include "lanes.h"
#include "pool.h"

namespace lla {
namespace {

// Where each tensor starts in the packed parameters.
struct ParameterOffsets {
  int64_t embedding, inputKernel, recurrentKernel, gateBias, outputKernel, outputBias, total;
};

ParameterOffsets parameterOffsets(const TrainShape& s) {
  const int64_t R = s.inputSymbols, E = s.embedding, H = s.hidden, K = s.outputs, G = 4 * H;
  ParameterOffsets at;
  at.embedding = 0;
  at.inputKernel = at.embedding + R * E;
  at.recurrentKernel = at.inputKernel + E * G;
  at.gateBias = at.recurrentKernel + H * G;
  at.outputKernel = at.gateBias + G;
  at.outputBias = at.outputKernel + H * K;
  at.total = at.outputBias + K;
  return at;
}

// [rows][paddedColumns] copy of a row-major [rows][columns] matrix (pads stay zero).
void padRows(const float* source, int32_t rows, int32_t columns, float* target, int32_t paddedColumns) {
  for (int32_t r = 0; r < rows; ++r) {
    std::memcpy(target + static_cast<int64_t>(r) * paddedColumns, source + static_cast<int64_t>(r) * columns,
                sizeof(float) * columns);
  }
}

// out[c] (+)= sum over rows of in[r][c], rows in order.
void columnSums(const float* in, int32_t stride, int32_t rows, int32_t columns, float* out) {
  std::fill(out, out + columns, 0.0f);
  for (int32_t r = 0; r < rows; ++r) {
    const float* row = in + static_cast<int64_t>(r) * stride;
    for (int32_t c = 0; c < columns; ++c) out[c] += row[c];
  }
}

// Gate activations of one row of pre-activations (i, f, cand, o: in place), the new cell state and its tanh and
// the hidden state: c = f c_before + i cand; h = o tanh(c).
void activate(float* gates, const float* cellBefore, float* cellNow, float* tanhCell, float* hidden, int32_t H) {
  for (int32_t r = 0; r < 2 * H; ++r) gates[r] = sigmoid(gates[r]);
  for (int32_t r = 2 * H; r < 3 * H; ++r) gates[r] = hyperbolicTangent(gates[r]);
  for (int32_t r = 3 * H; r < 4 * H; ++r) gates[r] = sigmoid(gates[r]);
  for (int32_t j = 0; j < H; ++j) cellNow[j] = gates[H + j] * cellBefore[j] + gates[j] * gates[2 * H + j];
  for (int32_t j = 0; j < H; ++j) tanhCell[j] = hyperbolicTangent(cellNow[j]);
  for (int32_t j = 0; j < H; ++j) hidden[j] = gates[3 * H + j] * tanhCell[j];
}

// One step of one lane backwards: from the gradient reaching h (from the softmax and from the next step) and c
// (cellCarry), the gradients of the four pre-activations; cellCarry becomes the gradient of c_before.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
void backwardStep(const float* gates, const float* tanhCell, const float* cellBefore, const float* hiddenFromOutput,
                  const float* hiddenCarry, float* cellCarry, float* gateGradients, int32_t H) {
  // in vector registers by hand: GCC 12 does not vectorise this loop of nine streams by itself
  int32_t j = 0;
  for (; j + kLanes <= H; j += kLanes) {
    const Lanes i = loadLanes(gates + j), f = loadLanes(gates + H + j), candidate = loadLanes(gates + 2 * H + j);
    const Lanes o = loadLanes(gates + 3 * H + j), tc = loadLanes(tanhCell + j);
    const Lanes dh = loadLanes(hiddenFromOutput + j) + loadLanes(hiddenCarry + j);
    const Lanes dc = loadLanes(cellCarry + j) + dh * o * (1.0f - tc * tc);
    storeLanes(gateGradients + j, dc * candidate * i * (1.0f - i));
    storeLanes(gateGradients + H + j, dc * loadLanes(cellBefore + j) * f * (1.0f - f));
    storeLanes(gateGradients + 2 * H + j, dc * i * (1.0f - candidate * candidate));
    storeLanes(gateGradients + 3 * H + j, dh * tc * o * (1.0f - o));
    storeLanes(cellCarry + j, dc * f);
  }
  for (; j < H; ++j) {
    const float i = gates[j], f = gates[H + j], candidate = gates[2 * H + j], o = gates[3 * H + j];
    const float tc = tanhCell[j];
    const float dh = hiddenFromOutput[j] + hiddenCarry[j];
    const float dc = cellCarry[j] + dh * o * (1.0f - tc * tc);
    gateGradients[j] = dc * candidate * i * (1.0f - i);
    gateGradients[H + j] = dc * cellBefore[j] * f * (1.0f - f);
    gateGradients[2 * H + j] = dc * i * (1.0f - candidate * candidate);
    gateGradients[3 * H + j] = dh * tc * o * (1.0f - o);
    cellCarry[j] = dc * f;
  }
}
#pragma GCC diagnostic pop

// Softmax cross-entropy of one row: logits (without bias) become d(loss)/d(logits) = (p - onehot) * scale; returns
// -log p(target). A padding row (target < 0) contributes nothing.
double softmaxGradient(float* logits, const float* bias, int32_t K, int32_t target, float scale) {
  if (target < 0) {
    std::fill(logits, logits + K, 0.0f);
    return 0.0;
  }
  float maximum = -INFINITY;
  for (int32_t k = 0; k < K; ++k) {
    logits[k] += bias[k];
    maximum = std::max(maximum, logits[k]);
  }
  const float targetLogit = logits[target];
  // two loops: the exponentials vectorise, the ordered sum would keep the first from doing so
  for (int32_t k = 0; k < K; ++k) logits[k] = exponential(logits[k] - maximum);
  float total = 0.0f;
  for (int32_t k = 0; k < K; ++k) total += logits[k];
  const float factor = scale / total;
  for (int32_t k = 0; k < K; ++k) logits[k] *= factor;
  logits[target] -= scale;
  return -(static_cast<double>(targetLogit - maximum) - std::log(static_cast<double>(total)));
}

// A block's working memory (floats, rows padded: Hp, Gp, Kp, Ep), reused window after window.
struct BlockSpace {
  std::vector<float> storage;
  float* hiddenBefore;        // [n][Hp] h entering each step (zero after a reset)
  float* cellBefore;          // [n][Hp]
  float* hidden;              // [n][Hp] h after each step
  float* tanhCell;            // [n][Hp] tanh(c) after each step
  float* gates;               // [n][Gp] activations i, f, cand, o
  float* gateGradients;       // [n][Gp] d(loss)/d(pre-activations), read by finish()
  float* logits;              // [n][Kp] logits, then their gradient
  float* hiddenFromOutput;    // [n][Hp] d(loss)/dh through the softmax
  float* transposed;          // [max(H, E)][n] a transposed operand of the weight gradients
  float* cellNow;             // [lanes][Hp] the running cell state
  float* hiddenCarry;         // [lanes][Hp] d(loss)/dh from the next step
  float* cellCarry;           // [lanes][Hp]
  float* embedded;            // gather: [n][Ep] each token's embedding row
  float* embeddedGradients;   // gather: [n][Ep] d(loss)/d(embedding row), read by finish()
  float* recurrentGradient;   // [H][Gp]
  float* outputGradient;      // [H][Kp]
  float* outputBiasGradient;  // [Kp]
  float* inputGradient;       // gather: [E][Gp]
  float* biasGradient;        // gather: [Gp]
  float* tableGradient;       // table: [R][Gp] the block's tokens' gate gradients added by input symbol
  double loss = 0;            // sum of -log p over the block's real tokens
};

class Trainer {
 public:
  explicit Trainer(const TrainParams& params)
      : p_(params), s_(params.shape), at_(parameterOffsets(params.shape)), R_(s_.inputSymbols), E_(s_.embedding),
        H_(s_.hidden), K_(s_.outputs), G_(4 * s_.hidden), B_(s_.lanes), L_(s_.steps), Hp_(paddedFloats(H_)),
        Gp_(paddedFloats(G_)), Kp_(paddedFloats(K_)), Ep_(paddedFloats(E_)), rows_(L_ * kLanesPerBlock),
        recurrentPadded_(static_cast<size_t>(H_) * Gp_), recurrentTransposed_(static_cast<size_t>(G_) * Hp_),
        outputPadded_(static_cast<size_t>(H_) * Kp_), outputTransposed_(static_cast<size_t>(K_) * Hp_),
        inputPadded_(static_cast<size_t>(E_) * Gp_), inputTransposed_(static_cast<size_t>(G_) * Ep_),
        gradient_(static_cast<size_t>(at_.total)) {
    if (s_.table) {
      table_.assign(static_cast<size_t>(R_) * Gp_, 0.0f);
      tableGradient_.assign(static_cast<size_t>(R_) * Gp_, 0.0f);
      foldRows_.assign(static_cast<size_t>(R_) * Ep_, 0.0f);
      embeddingTransposed_.assign(static_cast<size_t>(E_) * R_, 0.0f);
      foldInput_.assign(static_cast<size_t>(E_) * Gp_, 0.0f);
    }
    blocks_.resize((B_ + kLanesPerBlock - 1) / kLanesPerBlock);
    for (auto& block : blocks_) allocate(block);
  }

  int32_t blocks() const { return static_cast<int32_t>(blocks_.size()); }

  void prepare(int32_t window) {
    const float* w = p_.parameters;
    const int32_t* targets = p_.targets + static_cast<int64_t>(window) * L_ * B_;
    int64_t tokens = 0;
    for (int64_t i = 0; i < static_cast<int64_t>(L_) * B_; ++i) tokens += targets[i] >= 0 ? 1 : 0;
    tokens_ = tokens;
    // the loss is the mean over the window's real tokens, as the TF.js path divides by max(1, tokens)
    scale_ = 1.0f / static_cast<float>(std::max<int64_t>(1, tokens));
    padRows(w + at_.recurrentKernel, H_, G_, recurrentPadded_.data(), Gp_);
    transpose(w + at_.recurrentKernel, G_, H_, G_, recurrentTransposed_.data(), Hp_);
    padRows(w + at_.outputKernel, H_, K_, outputPadded_.data(), Kp_);
    transpose(w + at_.outputKernel, K_, H_, K_, outputTransposed_.data(), Hp_);
    padRows(w + at_.inputKernel, E_, G_, inputPadded_.data(), Gp_);
    transpose(w + at_.inputKernel, G_, E_, G_, inputTransposed_.data(), Ep_);
    if (s_.table) {
      multiplyRows(w + at_.embedding, E_, R_, inputPadded_.data(), Gp_, E_, Gp_, table_.data(), Gp_, false);
      for (int32_t r = 0; r < R_; ++r) {
        float* row = table_.data() + static_cast<int64_t>(r) * Gp_;
        for (int32_t g = 0; g < G_; ++g) row[g] += w[at_.gateBias + g];
      }
    }
  }

  void runBlock(int32_t window, int32_t block) {
    BlockSpace& b = blocks_[block];
    const int32_t first = block * kLanesPerBlock;
    const int32_t lanes = std::min(kLanesPerBlock, B_ - first);
    const int32_t rows = L_ * lanes;
    const int32_t begin = R_ - 1;
    const int64_t windowStart = static_cast<int64_t>(window) * L_ * B_;
    const int32_t* inputs = p_.inputs + windowStart;
    const int32_t* targets = p_.targets + windowStart;
    const float* w = p_.parameters;
    auto inputOf = [&](int32_t n) { return inputs[static_cast<int64_t>(n / lanes) * B_ + first + n % lanes]; };
    auto row = [](float* base, int32_t n, int32_t stride) { return base + static_cast<int64_t>(n) * stride; };

    if (!s_.table) {
      // gather: the window's embedding rows times inputKernel, plus the bias, in one product
      for (int32_t n = 0; n < rows; ++n) {
        std::memcpy(row(b.embedded, n, Ep_), w + at_.embedding + static_cast<int64_t>(inputOf(n)) * E_,
                    sizeof(float) * E_);
      }
      multiplyRows(b.embedded, Ep_, rows, inputPadded_.data(), Gp_, E_, Gp_, b.gates, Gp_, false);
      for (int32_t n = 0; n < rows; ++n) {
        float* gates = row(b.gates, n, Gp_);
        for (int32_t g = 0; g < G_; ++g) gates[g] += w[at_.gateBias + g];
      }
    }
    // forward through the window
    for (int32_t t = 0; t < L_; ++t) {
      for (int32_t lane = 0; lane < lanes; ++lane) {
        const int32_t n = t * lanes + lane;
        const int32_t x = inputOf(n);
        float* hiddenBefore = row(b.hiddenBefore, n, Hp_);
        float* cellBefore = row(b.cellBefore, n, Hp_);
        if (x == begin) {
          std::fill(hiddenBefore, hiddenBefore + H_, 0.0f);
          std::fill(cellBefore, cellBefore + H_, 0.0f);
        } else if (t == 0) {
          std::memcpy(hiddenBefore, p_.hiddenState + static_cast<int64_t>(first + lane) * H_, sizeof(float) * H_);
          std::memcpy(cellBefore, p_.cellState + static_cast<int64_t>(first + lane) * H_, sizeof(float) * H_);
        } else {
          std::memcpy(hiddenBefore, row(b.hidden, n - lanes, Hp_), sizeof(float) * H_);
          std::memcpy(cellBefore, row(b.cellNow, lane, Hp_), sizeof(float) * H_);
        }
        if (s_.table)
          std::memcpy(row(b.gates, n, Gp_), table_.data() + static_cast<int64_t>(x) * Gp_, sizeof(float) * Gp_);
      }
      multiplyRows(row(b.hiddenBefore, t * lanes, Hp_), Hp_, lanes, recurrentPadded_.data(), Gp_, H_, Gp_,
                   row(b.gates, t * lanes, Gp_), Gp_, true);
      for (int32_t lane = 0; lane < lanes; ++lane) {
        const int32_t n = t * lanes + lane;
        activate(row(b.gates, n, Gp_), row(b.cellBefore, n, Hp_), row(b.cellNow, lane, Hp_), row(b.tanhCell, n, Hp_),
                 row(b.hidden, n, Hp_), H_);
      }
    }
    // the states carried into the next window
    for (int32_t lane = 0; lane < lanes; ++lane) {
      std::memcpy(p_.hiddenState + static_cast<int64_t>(first + lane) * H_, row(b.hidden, (L_ - 1) * lanes + lane, Hp_),
                  sizeof(float) * H_);
      std::memcpy(p_.cellState + static_cast<int64_t>(first + lane) * H_, row(b.cellNow, lane, Hp_),
                  sizeof(float) * H_);
    }
    // the softmax over all the block's steps at once
    multiplyRows(b.hidden, Hp_, rows, outputPadded_.data(), Kp_, H_, Kp_, b.logits, Kp_, false);
    double loss = 0;
    for (int32_t n = 0; n < rows; ++n) {
      const int32_t target = targets[static_cast<int64_t>(n / lanes) * B_ + first + n % lanes];
      loss += softmaxGradient(row(b.logits, n, Kp_), w + at_.outputBias, K_, target, scale_);
    }
    b.loss = loss;
    transpose(b.hidden, Hp_, rows, H_, b.transposed, rows);
    multiplyRows(b.transposed, rows, H_, b.logits, Kp_, rows, Kp_, b.outputGradient, Kp_, false);
    columnSums(b.logits, Kp_, rows, K_, b.outputBiasGradient);
    multiplyRows(b.logits, Kp_, rows, outputTransposed_.data(), Hp_, K_, Hp_, b.hiddenFromOutput, Hp_, false);
    // backward through time; a lane's state was zeroed where it read the begin symbol, so nothing flows past it
    std::fill(b.hiddenCarry, b.hiddenCarry + static_cast<size_t>(lanes) * Hp_, 0.0f);
    std::fill(b.cellCarry, b.cellCarry + static_cast<size_t>(lanes) * Hp_, 0.0f);
    for (int32_t t = L_ - 1; t >= 0; --t) {
      for (int32_t lane = 0; lane < lanes; ++lane) {
        const int32_t n = t * lanes + lane;
        backwardStep(row(b.gates, n, Gp_), row(b.tanhCell, n, Hp_), row(b.cellBefore, n, Hp_),
                     row(b.hiddenFromOutput, n, Hp_), row(b.hiddenCarry, lane, Hp_), row(b.cellCarry, lane, Hp_),
                     row(b.gateGradients, n, Gp_), H_);
      }
      if (t == 0) break;  // the carried-in state is detached: nothing flows into the previous window
      multiplyRows(row(b.gateGradients, t * lanes, Gp_), Gp_, lanes, recurrentTransposed_.data(), Hp_, G_, Hp_,
                   b.hiddenCarry, Hp_, false);
      for (int32_t lane = 0; lane < lanes; ++lane) {
        if (inputOf(t * lanes + lane) != begin) continue;
        std::fill(row(b.hiddenCarry, lane, Hp_), row(b.hiddenCarry, lane, Hp_) + Hp_, 0.0f);
        std::fill(row(b.cellCarry, lane, Hp_), row(b.cellCarry, lane, Hp_) + Hp_, 0.0f);
      }
    }
    transpose(b.hiddenBefore, Hp_, rows, H_, b.transposed, rows);
    multiplyRows(b.transposed, rows, H_, b.gateGradients, Gp_, rows, Gp_, b.recurrentGradient, Gp_, false);
    if (s_.table) {
      // the table's gradient: each token's gate gradients added to its input symbol's row, rows in order
      std::fill(b.tableGradient, b.tableGradient + static_cast<size_t>(R_) * Gp_, 0.0f);
      for (int32_t n = 0; n < rows; ++n) {
        float* target = row(b.tableGradient, inputOf(n), Gp_);
        const float* source = row(b.gateGradients, n, Gp_);
        for (int32_t g = 0; g < G_; ++g) target[g] += source[g];
      }
    } else {
      transpose(b.embedded, Ep_, rows, E_, b.transposed, rows);
      multiplyRows(b.transposed, rows, E_, b.gateGradients, Gp_, rows, Gp_, b.inputGradient, Gp_, false);
      columnSums(b.gateGradients, Gp_, rows, G_, b.biasGradient);
      multiplyRows(b.gateGradients, Gp_, rows, inputTransposed_.data(), Ep_, G_, Ep_, b.embeddedGradients, Ep_, false);
    }
  }

  void finish(int32_t window) {
    float* g = gradient_.data();
    const float* w = p_.parameters;
    const int64_t windowStart = static_cast<int64_t>(window) * L_ * B_;
    sumBlocks(&BlockSpace::recurrentGradient, H_, G_, Gp_, g + at_.recurrentKernel);
    sumBlocks(&BlockSpace::outputGradient, H_, K_, Kp_, g + at_.outputKernel);
    sumBlocks(&BlockSpace::outputBiasGradient, 1, K_, Kp_, g + at_.outputBias);
    if (s_.table) {
      // table = embedding . inputKernel + gateBias: d embedding = dT . inputKernel^T, d inputKernel = embedding^T . dT
      sumBlocks(&BlockSpace::tableGradient, R_, Gp_, Gp_, tableGradient_.data());
      multiplyRows(tableGradient_.data(), Gp_, R_, inputTransposed_.data(), Ep_, G_, Ep_, foldRows_.data(), Ep_, false);
      for (int32_t r = 0; r < R_; ++r) {
        std::memcpy(g + at_.embedding + static_cast<int64_t>(r) * E_, foldRows_.data() + static_cast<int64_t>(r) * Ep_,
                    sizeof(float) * E_);
      }
      transpose(w + at_.embedding, E_, R_, E_, embeddingTransposed_.data(), R_);
      multiplyRows(embeddingTransposed_.data(), R_, E_, tableGradient_.data(), Gp_, R_, Gp_, foldInput_.data(), Gp_,
                   false);
      for (int32_t e = 0; e < E_; ++e) {
        std::memcpy(g + at_.inputKernel + static_cast<int64_t>(e) * G_,
                    foldInput_.data() + static_cast<int64_t>(e) * Gp_, sizeof(float) * G_);
      }
      columnSums(tableGradient_.data(), Gp_, R_, G_, g + at_.gateBias);
    } else {
      sumBlocks(&BlockSpace::inputGradient, E_, G_, Gp_, g + at_.inputKernel);
      sumBlocks(&BlockSpace::biasGradient, 1, G_, Gp_, g + at_.gateBias);
      // each token's embedding gradient added to its symbol's row, blocks in order, rows in order
      float* embedding = g + at_.embedding;
      std::fill(embedding, embedding + static_cast<size_t>(R_) * E_, 0.0f);
      for (int32_t block = 0; block < blocks(); ++block) {
        const BlockSpace& b = blocks_[block];
        const int32_t first = block * kLanesPerBlock;
        const int32_t lanes = std::min(kLanesPerBlock, B_ - first);
        for (int32_t n = 0; n < L_ * lanes; ++n) {
          const int32_t x = p_.inputs[windowStart + static_cast<int64_t>(n / lanes) * B_ + first + n % lanes];
          float* target = embedding + static_cast<int64_t>(x) * E_;
          const float* source = b.embeddedGradients + static_cast<int64_t>(n) * Ep_;
          for (int32_t e = 0; e < E_; ++e) target[e] += source[e];
        }
      }
    }
    double loss = 0;
    for (const auto& b : blocks_) loss += b.loss;
    p_.losses[window] = loss / static_cast<double>(std::max<int64_t>(1, tokens_));
    const size_t P = static_cast<size_t>(at_.total);
    const AdamPowers powers{static_cast<float>(p_.adam[1]), static_cast<float>(p_.adam[2])};
    adamUpdate(p_.parameters, p_.moments, p_.moments + P, g, 0, P, p_.learningRate, powers);
    const AdamPowers next = nextAdamPowers(powers);
    p_.adam[0] += 1;
    p_.adam[1] = next.beta1Power;
    p_.adam[2] = next.beta2Power;
    if (p_.gradient != nullptr && window == p_.windows - 1) std::memcpy(p_.gradient, g, sizeof(float) * P);
  }

 private:
  void allocate(BlockSpace& b) {
    const size_t n = static_cast<size_t>(rows_), lanes = kLanesPerBlock;
    const size_t sizes[] = {n * Hp_,
                            n * Hp_,
                            n * Hp_,
                            n * Hp_,
                            n * Gp_,
                            n * Gp_,
                            n * Kp_,
                            n * Hp_,
                            static_cast<size_t>(std::max(H_, E_)) * n,
                            lanes * Hp_,
                            lanes * Hp_,
                            lanes * Hp_,
                            s_.table ? 0 : n * Ep_,
                            s_.table ? 0 : n * Ep_,
                            static_cast<size_t>(H_) * Gp_,
                            static_cast<size_t>(H_) * Kp_,
                            static_cast<size_t>(Kp_),
                            s_.table ? 0 : static_cast<size_t>(E_) * Gp_,
                            s_.table ? 0 : static_cast<size_t>(Gp_),
                            s_.table ? static_cast<size_t>(R_) * Gp_ : 0};
    float* BlockSpace::*fields[] = {&BlockSpace::hiddenBefore,
                                    &BlockSpace::cellBefore,
                                    &BlockSpace::hidden,
                                    &BlockSpace::tanhCell,
                                    &BlockSpace::gates,
                                    &BlockSpace::gateGradients,
                                    &BlockSpace::logits,
                                    &BlockSpace::hiddenFromOutput,
                                    &BlockSpace::transposed,
                                    &BlockSpace::cellNow,
                                    &BlockSpace::hiddenCarry,
                                    &BlockSpace::cellCarry,
                                    &BlockSpace::embedded,
                                    &BlockSpace::embeddedGradients,
                                    &BlockSpace::recurrentGradient,
                                    &BlockSpace::outputGradient,
                                    &BlockSpace::outputBiasGradient,
                                    &BlockSpace::inputGradient,
                                    &BlockSpace::biasGradient,
                                    &BlockSpace::tableGradient};
    size_t total = 0;
    for (size_t size : sizes) total += size;
    b.storage.assign(total, 0.0f);  // zero: the pads of every padded row stay zero for good
    float* at = b.storage.data();
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i) {
      b.*fields[i] = at;
      at += sizes[i];
    }
  }

  // out[r][c] = sum over blocks in order of the block's field[r][c] (padded stride `stride`), r < rows, c < columns
  void sumBlocks(float* BlockSpace::*field, int32_t rows, int32_t columns, int32_t stride, float* out) const {
    for (int32_t r = 0; r < rows; ++r) {
      float* target = out + static_cast<int64_t>(r) * columns;
      std::memcpy(target, blocks_[0].*field + static_cast<int64_t>(r) * stride, sizeof(float) * columns);
      for (size_t block = 1; block < blocks_.size(); ++block) {
        const float* source = blocks_[block].*field + static_cast<int64_t>(r) * stride;
        for (int32_t c = 0; c < columns; ++c) target[c] += source[c];
      }
    }
  }

  const TrainParams& p_;
  const TrainShape s_;
  const ParameterOffsets at_;
  const int32_t R_, E_, H_, K_, G_, B_, L_;
  const int32_t Hp_, Gp_, Kp_, Ep_;         // padded row lengths
  const int32_t rows_;                      // rows of a full block: L x kLanesPerBlock
  std::vector<float> recurrentPadded_;      // [H][Gp] recurrentKernel
  std::vector<float> recurrentTransposed_;  // [4H][Hp]
  std::vector<float> outputPadded_;         // [H][Kp] outputKernel
  std::vector<float> outputTransposed_;     // [K][Hp]
  std::vector<float> inputPadded_;          // [E][Gp] inputKernel
  std::vector<float> inputTransposed_;      // [4H][Ep]
  std::vector<float> gradient_;             // [P] the window's gradient, packed as the parameters
  std::vector<float> table_;                // table: [R][Gp] embedding . inputKernel + gateBias
  std::vector<float> tableGradient_;        // table: [R][Gp]
  std::vector<float> foldRows_;             // table: [R][Ep]
  std::vector<float> embeddingTransposed_;  // table: [E][R]
  std::vector<float> foldInput_;            // table: [E][Gp]
  std::vector<BlockSpace> blocks_;
  int64_t tokens_ = 0;  // real tokens of the current window
  float scale_ = 1;     // 1 / max(1, tokens_)
};

}  // namespace

int64_t trainParameterCount(const TrainShape& shape) { return parameterOffsets(shape).total; }

void runLstmTraining(const TrainParams& params) {
  if (params.windows == 0) return;
  Trainer trainer(params);
  const int32_t blocks = trainer.blocks();
  const int32_t threads = resolveThreads(params.threads, blocks);
  if (threads == 1) {
    for (int32_t window = 0; window < params.windows; ++window) {
      trainer.prepare(window);
      for (int32_t block = 0; block < blocks; ++block) trainer.runBlock(window, block);
      trainer.finish(window);
    }
    return;
  }
  BlockTickets tickets(blocks);
  runShared(threads, [&](int32_t participant) {
    if (participant != 0) {
      tickets.help([&](uint32_t window, uint32_t block) {
        trainer.runBlock(static_cast<int32_t>(window), static_cast<int32_t>(block));
      });
      return;
    }
    for (int32_t window = 0; window < params.windows; ++window) {
      trainer.prepare(window);
      tickets.publish(static_cast<uint32_t>(window));
      uint32_t open, block;
      while (tickets.next(open, block)) {
        trainer.runBlock(static_cast<int32_t>(open), static_cast<int32_t>(block));
        tickets.blockDone();
      }
      tickets.waitFinished();
      trainer.finish(window);
    }
    tickets.close();
  });
}

}  // namespace lla
