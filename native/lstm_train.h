// The fused LSTM trainer (SPEC 3 step 3; entry point lstmTrain of src/kernels/types.ts): for each window of B lanes x
// L steps, the forward pass from the carried states, truncated back-propagation through time over the window, the
// softmax cross-entropy over the K outputs, the gradient of every parameter, and one Adam step (adam.h).
// Gradients are accumulated per block of kLanesPerBlock lanes and the blocks summed in block order, so the weights
// never depend on the number of threads.
#pragma once
#include <cstdint>

namespace lla {

// Lanes per block: a fixed constant (never derived from the thread count).
constexpr int32_t kLanesPerBlock = 8;
// Window positions (N L B) and parameters of one call: indices into them stay int32 with room to spare.
constexpr int64_t kMaxTrainPositions = int64_t{1} << 30;

struct TrainShape {
  int32_t inputSymbols = 0;  // R, the begin symbol is R-1
  int32_t embedding = 0;     // E
  int32_t hidden = 0;        // H
  int32_t outputs = 0;       // K
  // input side: true folds embedding . inputKernel into an [R][4H] table once per window (lla's K+1 symbols);
  // false gathers each token's E-wide embedding row and multiplies it (word-lla's V+1 symbols)
  bool table = true;
  int32_t lanes = 0;  // B
  int32_t steps = 0;  // L
};

// Floats of the packed parameters: embedding [R][E], inputKernel [E][4H], recurrentKernel [H][4H], gateBias [4H],
// outputKernel [H][K], outputBias [K] (PARAMETER_ORDER of src/lstm/weights.ts).
int64_t trainParameterCount(const TrainShape& shape);

struct TrainParams {
  TrainShape shape;
  int32_t windows = 0;               // N
  const int32_t* inputs = nullptr;   // [N][L][B] input symbol; the begin symbol resets the lane's state to zero first
  const int32_t* targets = nullptr;  // [N][L][B] output symbol, or -1 for padding (no loss, no gradient)
  float* parameters = nullptr;       // [P] packed as above, updated in place
  float* moments = nullptr;          // [2][P] Adam's first, then second moments
  double* adam = nullptr;            // [3] steps taken, beta1^(steps+1), beta2^(steps+1) (float32 values)
  float* hiddenState = nullptr;      // [B][H] carried from window to window
  float* cellState = nullptr;        // [B][H]
  double* losses = nullptr;          // [N] each window's mean cross-entropy over its real tokens
  float* gradient = nullptr;         // [P] the last window's gradient, or null
  float learningRate = 0;
  int32_t threads = 1;  // 0 = all cores
};

// Arguments already validated by the binding.
void runLstmTraining(const TrainParams& params);

}  // namespace lla
