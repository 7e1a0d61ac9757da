/**
 * The one kernel interface. Both backends (the C++ Node-API addon in native/ and the AssemblyScript module in
 * assembly/) implement exactly this, over typed arrays that the TypeScript side allocates and owns.
 *
 * Conventions shared by every entry point
 * - K topics, V action types, H hidden units, T tokens, D sequences, S particles.
 * - A corpus is `tokens: Int32Array [T]` (action ids 0..V-1) and `offsets: Int32Array [D+1]` (sequence d is
 *   tokens[offsets[d] .. offsets[d+1])). Unknown actions never reach a kernel: the driver drops them.
 * - Every array argument is checked (type, length, id ranges) and a bad one throws a JS `Error` (native:
 *   Napi::Error; WASM wrapper: validated in TypeScript before the call): a kernel never crashes the process.
 * - Arrays that a kernel reads many times should be allocated with `alloc*` so that the WASM backend can use them
 *   in place (zero-copy); any ordinary typed array is accepted too (the WASM wrapper then copies it in and out).
 *
 * Random numbers (bit-identical in native/rng.h, assembly/rng.ts and src/kernels/rng.ts)
 * - SplitMix64. `mix(x)`: z = x + 0x9E3779B97F4A7C15; z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9;
 *   z = (z ^ (z >>> 27)) * 0x94D049BB133111EB; return z ^ (z >>> 31)   (all u64, wrapping).
 * - A stream's initial state: state = mix(mix(mix(seed) ^ iteration) ^ index)  (seed, iteration, index as u64).
 * - `next()`: state += 0x9E3779B97F4A7C15; z = state; then the same two xor-shift-multiply rounds and final
 *   xor-shift as `mix` (without adding the constant again); return z.
 * - `uniform()` (f64 in [0,1)): (next() >>> 11) * 2^-53.
 * - `below(n)` (int in [0,n)): u32 = high 32 bits of next(); (u32 * n) >>> 32  (u64 product).
 * - Streams used: the sweep of iteration `it` uses stream(seed, it, d) for sequence d; `randomTopics` uses
 *   stream(seed, 0xFFFFFFFF, d); the particle filter uses stream(seed, 0x80000000 + t, d) at position t of
 *   sequence d (a fresh stream per token, so feeding a sequence in pieces gives the same draws as feeding it
 *   whole). In sweep and particleFilter, d is `firstSequence` (default 0) plus the sequence's index in the call,
 *   so a corpus run in chunks of sequences (each call given its first sequence's index) draws exactly what it
 *   draws in one call: the driver splits long calls so that an interrupt is seen between chunks.
 *   `contextFeatures` uses stream(seed, 0xFFFFFFFE, b) for action b's random signs, `kmeans` stream(seed,
 *   0xFFFFFFFD, 0).
 *
 * The sequence proposal (both backends; a deliberate departure from SPEC 3.2, see README): for the token at
 * offset t of a sequence of N, with one u = uniform() * ((N-1) + K a): if u < N-1, take the previous-sweep
 * topic of the other position j = min(floor(u), N-2) (+1 when j >= t); else the topic min(floor((u-(N-1))/a),
 * K-1). q_d(k) is proportional to c_{d,k}^{-t} + a, the histogram without the token's own previous topic: a
 * proposal that includes it depends on the chain's start state, which biases short chains by O(1/N_d).
 *
 * The copy component (issue 13; lla, word-lla and lda): with probability lambda_{t,k} the action at position t
 * repeats one of the sequence's own recent actions, drawn in proportion to their decayed counts, else it comes
 * from phi_k. With the last n = min(t, window) actions, newest first (j = 1 is w_{t-1}):
 *   c_t(w) = sum_{j=1..n} decay^(j-1) [w_{t-j} = w],   C_t = sum_w c_t(w),
 *   lambda_{t,k} = rate[k] C_t / (C_t + mass[k])   (0 while C_t = 0, i.e. at t = 0; mass 0 makes it rate[k]),
 *   p(w_t | z_t = k, w_<t) = lambda_{t,k} c_t(w_t) / C_t + (1 - lambda_{t,k}) phi_{k,w_t},
 * which sums to one over the vocabulary. The filter uses it wherever it used phi_{k,w_t} (the predictive, the
 * reweighting, the posterior draw of z_t). Both backends compute c_t(w_t) and C_t in one scan, newest first, the
 * weight starting at 1 and multiplied by decay after each action, then lambda_{t,k} and the mixture above for
 * each k, in double precision without fused multiply-adds: the two backends agree bit for bit on it, and a
 * sequence fed to filterStep in pieces gives the same numbers as particleFilter on the whole.
 *
 * Repeat blocks (`repeat`, the filter only): a run of one action is one block, one step of the topic chain. The
 * repeat probability depends on the action and on the length of its run so far: `repeat` is [V][R] (row-major,
 * R = repeat.length / V in [1, 64]) and
 *   r(w, L) = repeat[w * R + min(L, R) - 1] in (0, 1),
 * with w the previous action and L >= 1 the length of the current run of w (the consecutive w's ending at the
 * previous position: 1 right after a block starts, 2 after one repeat, ...); R = 1 is one r_w per action. A repeat
 * (w again) has probability r(w, L), makes the run one longer and leaves the rest of the state as it was:
 * particles, LSTM cells, position, copy history (so the position t counts blocks). Any other action a starts a
 * block (a run of length 1), drawn from the topic model conditioned on not repeating w: per particle
 *   p_s(a | new block) = p_s(a) / (1 - p_s(w)),   p_s(x) = sum_k pi_{s,k} p(x | z = k, w_<t) (copy included),
 * so log p(a | history) = log(1 - r(w, L)) + log sum_s W_s p_s(a) / (1 - p_s(w)); the weights and the posterior draw
 * follow the same conditional, and a recorded mixture is sum_s W_s pi_s / (1 - p_s(w)), normalised. 1 - p_s(w)
 * is kept at 1e-12 or more. The first action of a sequence is scored as without blocks (its run has length 1).
 * Both backends check the table's shape; particleFilter checks (and copies) every value, filterStep only the row it
 * reads (its previous action's) and reads the table in place, so that a session step costs no O(V R) work (keep the
 * table in the kernel's memory, allocFloat64, for the WASM backend to read it without a copy).
 * particleFilter counts the run of each sequence itself; filterStep keeps it in FilterState.runLength. The training side
 * (src/train/repeats.ts) collapses the runs, so the sampler and the LSTM only ever see blocks.
 *
 * Alias tables (Vose), shared definition
 * - A table over n slots has `prob: Float32Array [n]` and `alias: Int32Array [n]` (here holding topic ids).
 *   Draw: u = uniform() * n; i = floor(u); if (u - i < prob[i]) take slot i's own topic, else alias[i].
 *
 * The LSTM cell (Keras gate order i, f, c, o; logistic sigmoid 1/(1+exp(-x)), never the hard sigmoid)
 * - Weights (float32, row-major): `inputTable [R][4H]` (the input-side product embedding(x) · W_input, one row
 *   per input symbol: R = K+1 for `lla` (topics, then the begin symbol K), R = V+1 for `word-lla` (actions, then
 *   begin symbol V)); `recurrent [4H][H]` (row r is gate unit r); `gateBias [4H]`; `outputWeights [K][H]`;
 *   `outputBias [K]`.
 * - Step with input symbol x from (h, c), both [H] starting at zero:
 *   g[r] = inputTable[x][r] + gateBias[r] + sum_j recurrent[r][j] h[j];
 *   i = sig(g[0:H]), f = sig(g[H:2H]), cand = tanh(g[2H:3H]), o = sig(g[3H:4H]);
 *   c' = f c + i cand; h' = o tanh(c').  Logits l_k = outputBias[k] + sum_j outputWeights[k][j] h'[j].
 * - At position t of a sequence the input is the begin symbol for t = 0, else the previous topic (lla, the one
 *   just sampled in this sweep) or the previous action (word-lla). pi_t = softmax(l) computed from h after that
 *   step. A sequence's arithmetic never depends on which other sequences share its lock-step batch or thread.
 *
 * Sweep targets (unnormalised p(z_t = k), the chain's topics left of t from this sweep, right of t from topicsPrev)
 * - lda: (n_{d,k}^{-t} + alpha) phi_{k,w}. word-lla: pi_t(k) phi_{k,w} (exact: topics are independent given the
 *   actions). lla: pi_t(k) phi_{k,w}, the paper's factorisation.
 * - lla with lookahead: pi_t(k) phi_{k,w} p(z_{t+1} | s_{t+1}(k)), z_{t+1} = topicsPrev[t+1] and s_{t+1}(k) the
 *   cell state after consuming k from s_t: softmax(W h_{t+1}(k) + b)[z_{t+1}], whose normaliser depends on k.
 *   The recurrent product of h_t is shared by every candidate (and by the next position, which steps from the
 *   accepted topic's candidate state); a candidate costs the gate nonlinearities, the K x H output product and K
 *   exponentials. MH keeps the current topic's factor, so a step evaluates at most one candidate: O(KH) per step
 *   instead of O(H); exact mode O(K^2 H) per token.
 * - hmm of order 1: A[z_{t-1}][k] phi_{k,w} (row K at t = 0), with lookahead times A[k][z_{t+1}]. Of order 2:
 *   A[z_{t-2}][z_{t-1}][k] phi_{k,w} (K for a topic before the first), with lookahead times A[z_{t-1}][k][z_{t+1}]
 *   (before the last position) and A[k][z_{t+1}][z_{t+2}] (before the last two).
 * - The MH proposals and their streams are the same in every mode: lookahead changes only the acceptance ratios.
 */

/** Model variants that the kernels sample. `lstm` (the action-level baseline) never reaches a kernel. */
export type KernelMode = 'lda' | 'lla' | 'word-lla';
/** What a sweep samples: a model variant, or `hmm`, the initialisation's first-order stand-in for the LSTM (a
 * transition table re-estimated from counts; sweeps only, never the particle filter). */
export type SweepMode = KernelMode | 'hmm';
export const MODE_CODE: Record<SweepMode, number> = { lda: 0, lla: 1, 'word-lla': 2, hmm: 3 };

/** The entries of an hmm transition table of `order` (1 or 2) over K topics: (K+1)^order rows of K. */
export function transitionCells(numTopics: number, order = 1): number {
  return (order === 2 ? (numTopics + 1) ** 2 : numTopics + 1) * numTopics;
}

/** Which MH proposals a sweep uses: cycle word, sequence, word, ... (default), or one kind only (tests). */
export type ProposalSchedule = 'cycle' | 'word' | 'sequence';
export const PROPOSAL_CODE: Record<ProposalSchedule, number> = { cycle: 3, word: 1, sequence: 2 };

export type BackendName = 'native' | 'wasm';

export interface BuildInfo {
  backend: BackendName;
  /** package version the kernel was built from; the loader rejects a mismatch (stale build). */
  version: string;
  /** Node-API version of the addon; null for WASM. */
  napiVersion: number | null;
  /** e.g. "x86-64-v3 (AVX2, FMA)", "wasm32 simd128". */
  instructionSet: string;
  /** whether the kernel can run several threads. */
  threads: boolean;
  /** threads it will use when asked for 0 (= all cores). */
  maxThreads: number;
}

/** Counts of the previous sweep's assignments. Built by `buildCounts`, read-only during a sweep. */
export interface CountTables {
  /** rowOffsets: [V+1] action w's non-zero counts are entries rowOffsets[w] .. rowOffsets[w+1]. */
  rowOffsets: Int32Array;
  /** rowTopics: [capacity >= nnz, e.g. T] topic k of each non-zero n_{k,w}; ascending within a row. */
  rowTopics: Int32Array;
  /** rowCounts: [capacity] n_{k,w} of each entry (> 0). */
  rowCounts: Int32Array;
  /** topicTotals: [K] n_k = sum_w n_{k,w}. */
  topicTotals: Int32Array;
}

/** Word proposals built from CountTables (SPEC 3.1): memory O(nnz + K), never O(V K). */
export interface AliasTables {
  /** sparseProb / sparseAlias: [capacity] one Vose table per action row over its entries (aligned with rowTopics),
   * weights n_{k,w} / (n_k + V beta); sparseAlias holds topic ids. */
  sparseProb: Float32Array;
  sparseAlias: Int32Array;
  /** sparseMass: [V] sum over the row of n_{k,w} / (n_k + V beta). */
  sparseMass: Float64Array;
  /** denseProb / denseAlias: [K] one shared Vose table over beta / (n_k + V beta). */
  denseProb: Float32Array;
  denseAlias: Int32Array;
  /** denseMass: [1] sum_k beta / (n_k + V beta). */
  denseMass: Float64Array;
}

/** Fixed LSTM weights in the layout above. */
export interface CellWeights {
  hidden: number;
  inputTable: Float32Array;
  recurrent: Float32Array;
  gateBias: Float32Array;
  outputWeights: Float32Array;
  outputBias: Float32Array;
}

export interface SweepArgs {
  mode: SweepMode;
  /** exact: evaluate all K terms and draw by inverse CDF; else M Metropolis-Hastings steps. */
  exact: boolean;
  /** lla and hmm only (default false): multiply each token's target by the probability of the next token's
   * previous-sweep topic given k (see "Lookahead" above); no factor at a sequence's last position. */
  lookahead?: boolean;
  /** hmm only: p(z_t | the topics before it), every entry finite and > 0, K standing for the begin symbol before a
   * sequence's first topic: order 1 [(K+1)][K] at [z_{t-1}][z_t], order 2 [(K+1)][(K+1)][K] at [z_{t-2}][z_{t-1}][z_t]
   * (as transitionTable writes them). */
  transitions?: Float64Array;
  /** hmm only: 1 (default) or 2 */
  transitionOrder?: number;
  mhSteps: number;
  proposals: ProposalSchedule;
  numTopics: number;
  vocabularySize: number;
  tokens: Int32Array;
  offsets: Int32Array;
  /** topicsPrev: [T] the previous sweep's topics: the chains' start states and the sequence proposal. */
  topicsPrev: Int32Array;
  /** topicsNext: [T] output: this sweep's topics. */
  topicsNext: Int32Array;
  counts: CountTables;
  alias: AliasTables;
  beta: number;
  /** alpha: the `lda` prior on in-sequence counts. */
  alpha: number;
  /** sequenceSmoothing: the constant a of the sequence proposal (default 0.1). */
  sequenceSmoothing: number;
  /** weights: required for lla and word-lla. */
  weights?: CellWeights;
  seed: number;
  iteration: number;
  /** the stream index of this call's first sequence (default 0; see the streams above) */
  firstSequence?: number;
  /** threads: 0 = all cores. Sequences are split over threads balanced by tokens. */
  threads: number;
}

export interface SweepResult {
  /** sum over tokens of log phi_{z_new, w} with the sweep's (read-only) phi. */
  logPhi: number;
  /** MH proposals made and accepted (0 in exact mode). */
  proposalsMade: number;
  proposalsAccepted: number;
}

/** The copy component's parameters (the definition above). */
export interface CopyParameters {
  /** per-step decay of the history counts, in [0, 1] (KERNEL_LIMITS.copyDecay) */
  decay: number;
  /** the history holds the last `window` actions (KERNEL_LIMITS.copyWindow): older ones are forgotten */
  window: number;
  /** rate: [K] rho_k in [0, 1]; mass: [K] mu_k >= 0 (finite): lambda_{t,k} = rho_k C_t / (C_t + mu_k) */
  rate: Float64Array;
  mass: Float64Array;
}

export interface FilterArgs {
  mode: KernelMode;
  numTopics: number;
  vocabularySize: number;
  tokens: Int32Array;
  offsets: Int32Array;
  counts: CountTables;
  beta: number;
  alpha: number;
  weights?: CellWeights;
  /** particles S (ignored for word-lla, whose likelihood is exact). */
  particles: number;
  seed: number;
  /** the stream index of this call's first sequence (default 0; see the streams above) */
  firstSequence?: number;
  threads: number;
  /** logLikelihood: [D] output: sum over the sequence of log p(w_t | w_<t). */
  logLikelihood: Float64Array;
  /** the copy component; absent: none (p(w_t | z_t = k) = phi_{k,w_t}) */
  copy?: CopyParameters;
  /** repeat: [V][R] repeat blocks (above), R = repeat.length / V in [1, 64]: r(w, L) = repeat[w * R + min(L, R) - 1]
   * in (0, 1), the probability that the action after a run of L w's is w again (R = 1: one r_w per action);
   * absent: every action is a step of the topic chain */
  repeat?: Float64Array;
  /** optional: sorted global token positions at which to record the predictive topic mixture
   * sum_s W_s pi_s (before w_t is seen) into mixtures [P][K]. */
  mixturePositions?: Int32Array;
  mixtures?: Float32Array;
}

/** Particle state of one sequence in progress (a serving session): allocated by the driver. */
export interface FilterState {
  /** position: [1] tokens consumed; previousAction: [1] (-1 at the start). */
  position: Int32Array;
  previousAction: Int32Array;
  /** weights: [S] normalised particle weights; previousTopic: [S] (-1 at the start). */
  weights: Float64Array;
  previousTopic: Int32Array;
  /** hidden / cell: [S][H] each particle's LSTM state *before* reading its next input (its previousTopic for
   * lla, previousAction for word-lla, the begin symbol when that is -1); zero at the start. */
  hiddenState: Float32Array;
  cellState: Float32Array;
  /** topicCounts: [S][K] (lda) each particle's in-sequence topic counts. */
  topicCounts: Int32Array;
  /** copyHistory: [copy.window] (with copy only) the recent actions as a ring: the action of position t at index
   * t mod window, written by filterStep; -1 (or anything) where no action was written yet (never read). */
  copyHistory?: Int32Array;
  /** runLength: [1] the length of the current run of previousAction (the consecutive previousAction's ending at the
   * last action consumed), 0 at the start; written by filterStep (a repeat adds one, any other action sets 1).
   * Required when `repeat` is given (it picks r(w, L)); without `repeat` it may be absent, and is kept up to date
   * in the same way when present, so the state stays consistent. */
  runLength?: Int32Array;
}

// ---- The fused LSTM trainer (SPEC 3 step 3) ------------------------------------------------------------------
/*
 * lstmTrain trains the topic LSTM of lla / word-lla on windows of B lanes x L steps, one Adam step per window,
 * exactly the network, loss and optimiser of the TF.js trainer (src/lstm/network.ts, sequence-model.ts), so that
 * weights, Adam moments and carried states move freely between the two engines.
 * - Parameters, packed in one Float32Array [P] in this order (PARAMETER_ORDER of src/lstm/weights.ts, TF.js
 *   orientation, row-major): embedding [R][E], inputKernel [E][4H], recurrentKernel [H][4H], gateBias [4H],
 *   outputKernel [H][K], outputBias [K]. Gates i, f, c, o (Keras order), logistic sigmoid.
 * - A step of lane b with input x from (h, c): if x is the begin symbol R-1 the lane's state is zeroed first (a
 *   sequence starts); g = embedding[x] . inputKernel + gateBias + h . recurrentKernel; c' = sig(f) c + sig(i)
 *   tanh(cand); h' = sig(o) tanh(c'); logits = h' . outputKernel + outputBias.
 * - Loss of a window: the mean over its real tokens (target >= 0; -1 marks padding) of -log softmax(logits)[target],
 *   divided by max(1, real tokens) as the TF.js path does. Back-propagation runs through the window only: the
 *   carried-in states are constants.
 * - Adam after each window, TF.js 4.x's float32 arithmetic (tfjs-core AdamOptimizer): beta1 0.9, beta2 0.999,
 *   epsilon 1e-7; m = m beta1 + g (1 - beta1); v = v beta2 + g^2 (1 - beta2);
 *   w = (m / (1 - beta1Power)) / (sqrt(v / (1 - beta2Power)) + epsilon) * -learningRate + w; then beta1Power *=
 *   beta1, beta2Power *= beta2 (float32 products; they start at beta1, beta2) and steps += 1.
 * - inputPath 'table' folds embedding . inputKernel + gateBias into an [R][4H] table once per window (lla, R = K+1);
 *   'gather' multiplies each token's embedding row (word-lla, R = V+1). Both compute the same function.
 * - Threads: gradients are summed per fixed block of lanes and the blocks in block order, so a call gives the same
 *   weights for any thread count (for a given backend and build).
 */

/** Sizes of the network (the fields of src/lstm/weights.ts NetworkShape). */
export interface LstmTrainShape {
  /** R: input symbols, the begin symbol included */
  inputSymbols: number;
  /** E */
  embedding: number;
  /** H */
  hidden: number;
  /** K: softmax outputs */
  outputs: number;
}

export type LstmInputPath = 'table' | 'gather';

export interface LstmTrainArgs {
  shape: LstmTrainShape;
  inputPath: LstmInputPath;
  /** B lanes, L steps per window, N windows in this call (trained one after the other) */
  lanes: number;
  steps: number;
  windows: number;
  /** inputs: [N][L][B] input symbol of each window, step and lane (0..R-1). */
  inputs: Int32Array;
  /** targets: [N][L][B] output symbol (0..K-1), or -1 for a padding position. */
  targets: Int32Array;
  /** parameters: [P] packed as above; updated in place. */
  parameters: Float32Array;
  /** moments: [2][P] Adam's first moments, then its second moments; updated in place (zeros for a new trainer). */
  moments: Float32Array;
  /** adam: [3] steps taken, beta1Power, beta2Power; updated ([0, Math.fround(0.9), Math.fround(0.999)] to start). */
  adam: Float64Array;
  /** hiddenState, cellState: [B][H] each lane's carried state; updated to the states after the last window. */
  hiddenState: Float32Array;
  cellState: Float32Array;
  learningRate: number;
  /** losses: [N] output: each window's loss (mean cross-entropy in nats over its real tokens, before its step). */
  losses: Float64Array;
  /** gradient: optional [P] output: the gradient of the last window's loss (before its step). */
  gradient?: Float32Array;
  /** threads: 0 = all cores; the result does not depend on it. */
  threads: number;
}

export interface Kernel {
  readonly name: BackendName;
  buildInfo(): BuildInfo;
  allocInt32(length: number): Int32Array;
  allocFloat32(length: number): Float32Array;
  allocFloat64(length: number): Float64Array;
  /** FNV-1a over the 32-bit values: h = 2166136261; for each v: h = ((h ^ v) * 16777619) mod 2^32. */
  checksum(values: Int32Array): number;
  /** the high 32 bits of the first out.length draws of stream(seed, iteration, index). */
  randomStream(seed: number, iteration: number, index: number, out: Uint32Array): void;
  /** z[t] = below(K) from stream(seed, 0xFFFFFFFF, d) for each token of sequence d, in order. */
  randomTopics(offsets: Int32Array, topics: Int32Array, numTopics: number, seed: number): void;
  /** counts from assignments. wordTokens: [T] token positions grouped by action (wordOffsets [V+1]), ascending
   * within each action. Returns nnz. threads (optional, default 1, 0 = all cores): threads of the rebuild where the
   * backend has them (native; WASM with shared memory, where idle workers join the calling thread); the tables never
   * depend on it. Several threads need out.rowTopics/rowCounts of capacity T (with less, one thread runs). An index
   * that does not list every position once, grouped by action and strictly ascending within each, is refused; the
   * grouping is checked while counting, so the call throws with `out` left partly written. */
  buildCounts(
    tokens: Int32Array,
    wordOffsets: Int32Array,
    wordTokens: Int32Array,
    topics: Int32Array,
    numTopics: number,
    out: CountTables,
    threads?: number,
  ): number;
  buildAlias(counts: CountTables, numTopics: number, beta: number, out: AliasTables, threads?: number): void;
  sweep(args: SweepArgs): Promise<SweepResult>;
  particleFilter(args: FilterArgs): Promise<void>;
  /** advance one session by one known action; returns log p(action | history) and, when mixtureOut ([K]) is
   * given, writes the predictive topic mixture for the *next* position into it. `sequenceIndex` and `seed`
   * select the random streams exactly as particleFilter does. */
  filterStep(
    args: Omit<
      FilterArgs,
      'tokens' | 'offsets' | 'logLikelihood' | 'mixturePositions' | 'mixtures' | 'threads' | 'firstSequence'
    > & { state: FilterState; action: number; sequenceIndex: number; mixtureOut?: Float32Array },
  ): number;
  /** run the cell over inputs [steps] from zero state; write h and c after every step into [steps][H]. */
  lstmSteps(weights: CellWeights, inputs: Int32Array, hiddenOut: Float32Array, cellOut: Float32Array): void;
  /** sum of pi_{t+1} (the LSTM's next-topic distribution after reading z_t) grouped by z_t over all positions
   * but each sequence's last: sums [K][K] (row = z_t), rowCounts [K]. */
  topicTransitions(
    offsets: Int32Array,
    topics: Int32Array,
    weights: CellWeights,
    numTopics: number,
    sums: Float64Array,
    rowCounts: Float64Array,
  ): void;
  /** the fused LSTM trainer (block above): trains args.windows windows in place; the arrays must not be touched
   * until the Promise settles. */
  lstmTrain(args: LstmTrainArgs): Promise<void>;

  // ---- the initialisation that sees dynamics (`--init hmm:N`)

  /** The hmm sweep's transition table of `topics`, of `order` 1 (default) or 2: out [(K+1)^order][K], row j's entry k
   * being (the times context j is followed by k + smoothing) / (row j's total + K smoothing); the context of z_t is
   * z_{t-1} (order 1) or (z_{t-2}, z_{t-1}) at row z_{t-2} (K+1) + z_{t-1} (order 2), K standing for the begin symbol
   * before each sequence's first topic. */
  transitionTable(
    offsets: Int32Array,
    topics: Int32Array,
    numTopics: number,
    smoothing: number,
    out: Float64Array,
    order?: number,
  ): void;
  /**
   * Context features of every action for the clustering start: features [V][2 dimensions] holds, for action a, the
   * Hellinger-normalised distribution of the action that follows it, sqrt(n(a -> b) / n(a -> .)) over b, then that
   * of the action before it, each projected on `dimensions` random signs of b: entry j of b's projection is +1 when
   * bit (j mod 64) of draw floor(j / 64) of stream(seed, 0xFFFFFFFE, b) is set, else -1. Neighbours are within a
   * sequence; an action with none on one side has zeros there. The sums run over b in the order of a's first
   * occurrences, so the features do not depend on `threads` (default 1, 0 = all cores).
   */
  contextFeatures(
    tokens: Int32Array,
    offsets: Int32Array,
    vocabularySize: number,
    dimensions: number,
    seed: number,
    features: Float32Array,
    threads?: number,
  ): void;
  /**
   * Weighted k-means of points [n][dimensions] with weights [n] (each finite, > 0) into `clusters` groups, labels
   * [n] written. Greedy k-means++ seeding from stream(seed, 0xFFFFFFFD, 0): the first centre is point i with
   * probability weight_i / total (one uniform() a draw, inverse CDF in index order); for each next centre,
   * 2 + floor(ln K) candidates are drawn with probability proportional to weight_i times the squared distance to the
   * nearest centre so far, and the one that leaves the least weighted sum of those distances is taken (the first
   * on ties); then Lloyd rounds (the nearest
   * centre, ties to the lower index; centres the weighted means, an empty cluster keeps its centre) until no label
   * changes or `iterations` (>= 1) rounds ran. Returns the weighted sum of squared distances to the last centres.
   * Float arithmetic differs between backends, so their labels can differ where distances nearly tie.
   */
  kmeans(
    points: Float32Array,
    dimensions: number,
    weights: Float64Array,
    clusters: number,
    iterations: number,
    seed: number,
    labels: Int32Array,
    threads?: number,
  ): number;
}

// the kernel limits: one table for both backends (limits-table.ts)
export { KERNEL_LIMITS, type KernelLimit, type KernelLimitName } from './limits-table.js';
