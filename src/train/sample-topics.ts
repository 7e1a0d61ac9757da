/**
 * Topics of a corpus drawn with a trained model's tables held fixed: random start, then E-step sweeps (the LSTM
 * steps on the topics sampled so far, as in training). `infer()` returns them; `--from` training starts its
 * chain from them instead of from random topics.
 */
import type { CellWeights, CountTables, Kernel, KernelMode } from '../kernels/types.js';
import { allocAlias, countsInKernel } from '../kernels/buffers.js';
import { forEachSequenceChunk, type ChunkOptions } from '../kernels/chunks.js';
import type { ModelSettings } from './settings.js';
import { interruptionPoint } from '../errors.js';

export interface FixedTablesSampling {
  kernel: Kernel;
  mode: KernelMode;
  settings: ModelSettings;
  vocabularySize: number;
  /** the trained counts (phi), not changed by the sweeps */
  counts: CountTables;
  /** the trained LSTM, required for lla and word-lla */
  weights: CellWeights | undefined;
  /** tokens: [T] action ids; offsets: [D+1] sequence starts */
  tokens: Int32Array;
  offsets: Int32Array;
  sweeps: number;
}

/**
 * topics: [T] the last sweep's assignments, in a plain array. The tables are fixed, so each sequence's chain is
 * its own: the corpus goes in chunks of sequences, each through all its sweeps (src/kernels/chunks.ts), which
 * draws what sweeping the whole corpus would; `chunks.signal` stops the run between two chunks.
 */
export async function sampleTopicsWithFixedTables(
  args: FixedTablesSampling,
  chunks: ChunkOptions = {},
): Promise<Int32Array> {
  const { kernel, settings: s, vocabularySize } = args;
  const counts = countsInKernel(kernel, args.counts);
  const alias = allocAlias(kernel, vocabularySize, s.topics, counts.rowTopics.length);
  kernel.buildAlias(counts, s.topics, s.beta, alias);
  // topics: [T] random start states (per-sequence streams, drawn once for the whole corpus), then the results
  const topics = new Int32Array(args.tokens.length);
  kernel.randomTopics(args.offsets, topics, s.topics, s.seed);
  await forEachSequenceChunk(
    { tokens: args.tokens, offsets: args.offsets },
    chunks,
    async (chunk) => {
      let previous = topics.slice(chunk.tokenStart, chunk.tokenStart + chunk.tokens.length);
      let next = new Int32Array(previous.length);
      for (let sweep = 0; sweep < args.sweeps && previous.length > 0; sweep++) {
        if (sweep > 0) await interruptionPoint(chunks.signal);
        await kernel.sweep({
          mode: args.mode,
          exact: s.exact,
          mhSteps: s.mhSteps,
          proposals: 'cycle',
          numTopics: s.topics,
          vocabularySize,
          tokens: chunk.tokens,
          offsets: chunk.offsets,
          topicsPrev: previous,
          topicsNext: next,
          counts,
          alias,
          beta: s.beta,
          alpha: s.alpha,
          sequenceSmoothing: s.sequenceSmoothing,
          lookahead: args.mode === 'lla' && s.lookahead,
          // iterations far above any training run's, so these sweeps draw from streams training never uses
          ...(args.weights ? { weights: args.weights } : {}),
          seed: s.seed,
          iteration: 1_000_000 + sweep,
          firstSequence: chunk.first,
          threads: s.threads,
        });
        [previous, next] = [next, previous];
      }
      topics.set(previous, chunk.tokenStart);
    },
    args.sweeps,
  );
  return topics;
}
