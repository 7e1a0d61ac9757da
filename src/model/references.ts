/**
 * The references every train and eval output reports beside a model's own scores (SPEC section 4): the add-one
 * unigram of the training counts, and the recency cache (src/eval/cache.ts) with the constants fitted on the
 * training data's held-in slice (src/train/cache-fit.ts), scored at the same positions as every model.
 */
import type { CountTables, Kernel } from '../kernels/types.js';
import type { Vocabulary } from '../corpus/vocabulary.js';
import type { CacheParameters } from '../eval/cache.js';
import { evaluateCacheModel, type EvaluationCorpus, type PerplexityProtocol } from '../eval/model-evaluation.js';
import { unigramPerplexity } from '../eval/perplexity.js';

/** The recency cache's constants as a model keeps them: fitted on held-in training data, or the hand-set ones. */
export interface FittedCache extends CacheParameters {
  /** false when there was nothing to fit on (fewer than two training sequences) */
  fitted: boolean;
}

export interface CacheReference extends FittedCache {
  perplexity: number;
  recallAt1: number;
  recallAt10: number;
  mrr: number;
}

export interface References {
  /** the add-one unigram's perplexity (null without training counts) */
  unigramPerplexity: number | null;
  /** the recency cache's scores (null for a model file written before it was fitted) */
  cache: CacheReference | null;
}

export interface ReferenceInput {
  /** training counts n_w [V], null when the model does not know them */
  trainingCounts: Int32Array | null;
  cache: FittedCache | null;
  kernel: Kernel;
  seed: number;
  corpus: EvaluationCorpus;
  perplexity: PerplexityProtocol;
}

/** Both references on held-out data (already restricted to the vocabulary). */
export function heldOutReferences(input: ReferenceInput): References {
  const { trainingCounts, cache, corpus } = input;
  if (corpus.tokens.length === 0) return { unigramPerplexity: null, cache: null };
  const unigram = trainingCounts ? unigramPerplexity(trainingCounts, corpus.tokens).perplexity : null;
  if (!trainingCounts || !cache) return { unigramPerplexity: unigram, cache: null };
  const scored = evaluateCacheModel({
    trainingCounts,
    parameters: cache,
    kernel: input.kernel,
    seed: input.seed,
    corpus,
    perplexity: input.perplexity,
    nextAction: true,
  });
  return {
    unigramPerplexity: unigram,
    cache: {
      ...cache,
      perplexity: scored.perplexity,
      recallAt1: scored.recallAt1,
      recallAt10: scored.recallAt10,
      mrr: scored.mrr,
    },
  };
}

/** Training frequency of each action [V]: the vocabulary's counts, else the row sums of the count table; null without. */
export function trainingCounts(vocabulary: Vocabulary | null, counts: CountTables | null): Int32Array | null {
  if (vocabulary?.counts) return vocabulary.counts;
  if (!counts) return null;
  const { rowOffsets, rowCounts } = counts;
  const out = new Int32Array(rowOffsets.length - 1);
  for (let w = 0; w + 1 < rowOffsets.length; w++) {
    for (let e = rowOffsets[w]; e < rowOffsets[w + 1]; e++) out[w] += rowCounts[e];
  }
  return out;
}
