/**
 * Long kernel calls in chunks of whole sequences. A particle filter or a sweep over a large file is one kernel
 * call, and a WASM call holds the event loop until it returns, so an interrupt (Ctrl-C, an AbortSignal) could not
 * be seen before the end. The drivers of evaluation, prediction and inference therefore run their corpus in
 * chunks, check the signal between chunks, and stop at that sequence boundary. The results do not change: every
 * sequence draws from its own streams (types.ts), and each call is told the index of its first sequence
 * (`firstSequence`), so a chunked run draws exactly what one call draws.
 */
import { interruptionPoint } from '../errors.js';

export interface ChunkOptions {
  /** checked between chunks: once aborted, the run stops with an InterruptedError */
  signal?: AbortSignal;
  /** tokens per chunk, fixed (tests); default: adapted so that a chunk takes about CHUNK_SECONDS */
  chunkTokens?: number;
}

/** One chunk: sequences [first, end) of the whole corpus, in the kernel's layout. */
export interface SequenceChunk {
  /** first: the whole corpus's index of the chunk's first sequence (the call's firstSequence); end: one past the last */
  first: number;
  end: number;
  /** tokens: [offsets[end] - offsets[first]] the chunk's tokens (a view of the corpus's) */
  tokens: Int32Array;
  /** offsets: [end - first + 1] the chunk's sequence starts, from 0 */
  offsets: Int32Array;
  /** where the chunk's tokens start in the whole corpus */
  tokenStart: number;
}

/** How long a chunk should take: short enough for a prompt stop, long enough that the per-call work is noise. */
export const CHUNK_SECONDS = 0.1;
/** The first chunk's tokens, before anything is measured (a few milliseconds for the costliest settings). */
const FIRST_CHUNK_TOKENS = 256;
/** A chunk grows at most this many times over the last one (a cheap first chunk says little about the next). */
const MAX_GROWTH = 4;

/**
 * Runs `run` over consecutive chunks of `corpus` (each at least one whole sequence), in order, and stops with an
 * InterruptedError at the first chunk boundary after `options.signal` is aborted (checked before the first chunk
 * too). Empty corpora make no call. `callsPerChunk`: the kernel calls `run` makes over one chunk (e.g. the sweeps
 * of inference, each over the same chunk); the chunk is sized so that each call takes about CHUNK_SECONDS, and
 * `run` checks the signal between its calls itself (interruptionPoint in src/errors.ts).
 */
export async function forEachSequenceChunk(
  corpus: { tokens: Int32Array; offsets: Int32Array },
  options: ChunkOptions,
  run: (chunk: SequenceChunk) => Promise<void>,
  callsPerChunk = 1,
): Promise<void> {
  const { tokens, offsets } = corpus;
  const numSequences = offsets.length - 1;
  const fixed = options.chunkTokens;
  if (fixed !== undefined && !(Number.isInteger(fixed) && fixed >= 1)) {
    throw new RangeError(`chunkTokens must be a whole number >= 1, got ${String(fixed)}`);
  }
  let budget = fixed ?? FIRST_CHUNK_TOKENS;
  let first = 0;
  while (first < numSequences) {
    await interruptionPoint(options.signal);
    // at least one sequence, then as many whole ones as fit the budget
    let end = first + 1;
    while (end < numSequences && offsets[end + 1] - offsets[first] <= budget) end++;
    const tokenStart = offsets[first];
    const chunkOffsets = new Int32Array(end - first + 1);
    for (let d = first; d <= end; d++) chunkOffsets[d - first] = offsets[d] - tokenStart;
    const started = performance.now();
    await run({ first, end, tokens: tokens.subarray(tokenStart, offsets[end]), offsets: chunkOffsets, tokenStart });
    if (fixed === undefined) {
      const seconds = (performance.now() - started) / 1000;
      const done = offsets[end] - tokenStart;
      const perCall = seconds / Math.max(1, callsPerChunk);
      const wanted = perCall > 0 ? done * (CHUNK_SECONDS / perCall) : done * MAX_GROWTH;
      budget = Math.max(1, Math.round(Math.min(wanted, Math.max(budget, done) * MAX_GROWTH)));
    }
    first = end;
  }
  await interruptionPoint(options.signal);
}

/**
 * The part of sorted global token `positions` [P] that falls in a chunk: the index range [from, to) into
 * `positions`, and those positions relative to the chunk's first token.
 */
export function positionsInChunk(
  positions: Int32Array,
  chunk: SequenceChunk,
): { from: number; to: number; local: Int32Array } {
  const start = chunk.tokenStart;
  const stop = start + chunk.tokens.length;
  const from = lowerBound(positions, start);
  const to = lowerBound(positions, stop);
  const local = new Int32Array(to - from);
  for (let i = from; i < to; i++) local[i - from] = positions[i] - start;
  return { from, to, local };
}

/** The first index of sorted `values` whose value is >= `value`. */
function lowerBound(values: Int32Array, value: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
