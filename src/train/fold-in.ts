/**
 * After the copy component is fitted on the held-in slice (copy-fit.ts), the slice rejoins phi: its topics are
 * drawn with the final tables held fixed (FOLD_IN_SWEEPS E-step sweeps, as `infer` does) and its counts are added
 * to the training counts. So the slice is left out of phi only while the copy component is fitted, and a model
 * whose copy component was dropped still counts every training token. The LSTM keeps what it learned from the
 * other sequences (its token budget per iteration does not depend on the slice).
 */
import type { CellWeights, CountTables, Kernel, KernelMode } from '../kernels/types.js';
import { allocCounts, compactCounts, groupTokensByAction } from '../kernels/buffers.js';
import type { SequenceSlice } from './held-in.js';
import { sampleTopicsWithFixedTables } from './sample-topics.js';
import type { ModelSettings } from './settings.js';

/** Sweeps that draw the held-in slice's topics with the tables fixed. */
export const FOLD_IN_SWEEPS = 4;

export interface FoldInInput {
  kernel: Kernel;
  mode: KernelMode;
  settings: ModelSettings;
  vocabularySize: number;
  /** the training corpus and its final topics (the chain's), and the counts and weights they gave */
  train: SequenceSlice;
  topics: Int32Array;
  counts: CountTables;
  weights: CellWeights | undefined;
  heldIn: SequenceSlice;
}

/** Compact count tables of the training tokens and the held-in slice together, and their non-zeros. */
export async function foldInHeldIn(input: FoldInInput): Promise<{ counts: CountTables; nonZeros: number }> {
  const { kernel, settings: s, vocabularySize: V, train, heldIn } = input;
  const heldInTopics = await sampleTopicsWithFixedTables({
    kernel,
    mode: input.mode,
    settings: s,
    vocabularySize: V,
    counts: input.counts,
    weights: input.weights,
    tokens: heldIn.tokens,
    offsets: heldIn.offsets,
    sweeps: FOLD_IN_SWEEPS,
  });
  // tokens, topics: [T + T_heldIn] the training corpus followed by the slice
  const T = train.tokens.length + heldIn.tokens.length;
  const tokens = kernel.allocInt32(T);
  tokens.set(train.tokens);
  tokens.set(heldIn.tokens, train.tokens.length);
  const topics = kernel.allocInt32(T);
  topics.set(input.topics);
  topics.set(heldInTopics, train.tokens.length);
  const { wordOffsets, wordTokens } = groupTokensByAction(tokens, V, (n) => kernel.allocInt32(n));
  const counts = allocCounts(kernel, V, s.topics, Math.min(T, V * s.topics));
  const nonZeros = kernel.buildCounts(tokens, wordOffsets, wordTokens, topics, s.topics, counts, s.threads);
  return { counts: compactCounts(counts, nonZeros), nonZeros };
}
