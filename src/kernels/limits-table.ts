/**
 * The kernel limits, one table for both backends (re-exported by ./types.ts beside the kernel interface).
 *
 * Every scalar argument a kernel takes is bounded here, once. src/kernels/limits.ts checks them before each call
 * on either backend (and is what the CLI and the API call to validate settings before any work); native/limits.h
 * and assembly/limits.ts repeat the numbers for the checks and code on their side, and test/limits.test.ts
 * compares all three. Each bound is one that both backends honour: a call at the bound works on both (tested),
 * one past it throws the same clear Error on both. Memory is a separate budget: a call inside every bound may
 * still need more memory than there is (the WASM backend has 4 GiB), which fails with an Error saying so.
 */

/** Accepted values of one argument: [min, max], whole numbers when `integer`. */
export interface KernelLimit {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  /** what in the kernels sets the bound */
  readonly reason: string;
}

function limit(min: number, max: number, integer: boolean, reason: string): KernelLimit {
  return Object.freeze({ min, max, integer, reason });
}

export const KERNEL_LIMITS = Object.freeze({
  topics: limit(
    1,
    2 ** 20,
    true,
    'K: every thread keeps [K] scratch and the dense alias table is [K]; 2^20 keeps them in megabytes on both backends',
  ),
  vocabulary: limit(
    1,
    2 ** 24,
    true,
    'V: WASM keeps 24 bytes per action (row and word offsets, masses, count-hash rows) in its 4 GiB: 384 MiB at 2^24',
  ),
  tokens: limit(
    0,
    2 ** 31 - 2,
    true,
    "T: token positions and sequence offsets are int32, and a session's position + 1 must fit too",
  ),
  sequences: limit(0, 2 ** 31 - 2, true, 'D: sequence indices are int32 and offsets hold D + 1 of them'),
  hidden: limit(
    1,
    4096,
    true,
    'H: the recurrent weights [4H][H] float32 take 256 MiB at 4,096, and 1 GiB of the 4 GiB WASM memory at twice that',
  ),
  embedding: limit(
    1,
    4096,
    true,
    "E of the LSTM trainer: the input weights [E][4H] and each lane's gathered rows [E] stay the size of the recurrent ones",
  ),
  lanes: limit(
    1,
    2 ** 16,
    true,
    'B of the LSTM trainer: lanes per window; every lane keeps [L][6H] activations for back-propagation',
  ),
  steps: limit(
    1,
    2 ** 16,
    true,
    "L of the LSTM trainer: steps per window (truncated back-propagation); the window's activations grow with B L H",
  ),
  learningRate: limit(
    1e-30,
    1e30,
    false,
    "Adam's step size in the LSTM trainer, used as float32: positive, and finite and normal there",
  ),
  particles: limit(
    1,
    2 ** 16,
    true,
    'S: each filter thread keeps [S][H] hidden and cell states ([S][K] counts for lda); estimates settle long before',
  ),
  mhSteps: limit(
    1,
    1000,
    true,
    'M: Metropolis-Hastings steps per token; a sweep costs M proposals per token, and a few already mix (default 2)',
  ),
  threads: limit(
    0,
    1024,
    true,
    '0 = all cores; every thread takes its own scratch, and native helper threads live as long as the process',
  ),
  beta: limit(
    1e-100,
    1e100,
    false,
    'V beta and beta / (n_k + V beta) stay normal float64 for any V and counts (at 1e307 the alias masses overflowed)',
  ),
  alpha: limit(
    1e-100,
    1e100,
    false,
    'lda: K alpha and (n + alpha) / (n_d + K alpha) stay normal float64 (5e-324 and 1e308 gave NaN likelihoods)',
  ),
  sequenceSmoothing: limit(
    1e-100,
    1e100,
    false,
    'a of the sequence proposal: (N - 1) + K a stays finite, and a > 0 keeps every topic reachable',
  ),
  copyWindow: limit(
    1,
    2 ** 16,
    true,
    'the copy history: the filter scans up to this many recent actions per token, and a session keeps them',
  ),
  copyDecay: limit(0, 1, false, "the copy history's per-step decay: 1 keeps every action of the window alike"),
  seed: limit(
    0,
    Number.MAX_SAFE_INTEGER,
    true,
    'seeds, iterations, stream indices: u64 in the streams, passed as JS numbers, so exact up to 2^53 - 1',
  ),
});

export type KernelLimitName = keyof typeof KERNEL_LIMITS;
