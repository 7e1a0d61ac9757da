/**
 * Fits the recency cache's two constants (src/eval/cache.ts) on the held-in slice of the training sequences
 * (held-in.ts), never on held-out data: the decay on a grid refined by golden-section search, and for each decay
 * the unigram's weight `mass` by golden-section search on its logarithm, maximising the held-in log-likelihood.
 * The unigram used while fitting comes from the training sequences outside the slice, so that the slice's own
 * actions do not flatter the back-off.
 */
import { smoothedUnigram, type CacheParameters } from '../eval/cache.js';
import { DecayedHistory, historyWindow } from '../eval/history.js';
import type { SequenceSlice } from './held-in.js';
import { maximiseOnInterval } from './line-search.js';

/** Decays tried first; the best one's neighbours bracket the refinement. */
export const DECAY_GRID = [0, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 1] as const;
/** The range searched for the cache's unigram weight and the copy component's history mass (log scale). */
export const MASS_RANGE = { low: 1e-3, high: 1e5 } as const;
/** Golden-section steps of the decay's refinement and of each mass search (the bracket shrinks to 0.618^n). */
const DECAY_REFINE_STEPS = 8;
export const MASS_STEPS = 20;
/** Used when there is nothing to fit on (fewer than two training sequences): the hand-set cache. */
export const UNFITTED_CACHE: Readonly<Omit<CacheParameters, 'window'>> = Object.freeze({ decay: 0.95, mass: 10 });

/** Per held-in token, what any decayed-history model needs: c_t(w_t), C_t (of one decay). */
export interface HistoryStatistics {
  /** count: [T] c_t(w_t); total: [T] C_t */
  count: Float64Array;
  total: Float64Array;
}

/** c_t(w_t) and C_t at every position of a corpus under `decay` (and its window). */
export function historyStatistics(corpus: SequenceSlice, vocabularySize: number, decay: number): HistoryStatistics {
  const { tokens, offsets } = corpus;
  const count = new Float64Array(tokens.length);
  const total = new Float64Array(tokens.length);
  const history = new DecayedHistory(vocabularySize, decay, historyWindow(decay));
  for (let d = 0; d + 1 < offsets.length; d++) {
    history.reset();
    for (let i = offsets[d]; i < offsets[d + 1]; i++) {
      count[i] = history.count(tokens[i]);
      total[i] = history.total;
      history.push(tokens[i]);
    }
  }
  return { count, total };
}

/**
 * The best decay on DECAY_GRID, refined between its neighbours: `score(decay)` returns the best log-likelihood at
 * that decay (with its other constants fitted). Returns the decay and its score.
 */
export function searchDecay(score: (decay: number) => number): { decay: number; value: number } {
  let best = { decay: DECAY_GRID[0] as number, value: -Infinity, index: 0 };
  DECAY_GRID.forEach((decay, index) => {
    const value = score(decay);
    if (value > best.value) best = { decay, value, index };
  });
  const low = DECAY_GRID[Math.max(0, best.index - 1)];
  const high = DECAY_GRID[Math.min(DECAY_GRID.length - 1, best.index + 1)];
  const refined = maximiseOnInterval(score, low, high, DECAY_REFINE_STEPS);
  return refined.value > best.value
    ? { decay: refined.x, value: refined.value }
    : { decay: best.decay, value: best.value };
}

export interface CacheFit {
  parameters: CacheParameters;
  /** false when there was no held-in slice and UNFITTED_CACHE was used */
  fitted: boolean;
  /** the held-in slice's perplexity under the fitted constants (NaN when not fitted) */
  heldInPerplexity: number;
  heldInTokens: number;
}

/**
 * Fits decay and mass on `heldIn`, with the unigram of `trainCounts` [V] (the training sequences outside the slice).
 * Without a held-in token, the hand-set UNFITTED_CACHE.
 */
export function fitCache(trainCounts: ArrayLike<number>, heldIn: SequenceSlice | null): CacheFit {
  const V = trainCounts.length;
  const tokens = heldIn?.tokens.length ?? 0;
  if (heldIn === null || tokens === 0) {
    return {
      parameters: { ...UNFITTED_CACHE, window: historyWindow(UNFITTED_CACHE.decay) },
      fitted: false,
      heldInPerplexity: NaN,
      heldInTokens: 0,
    };
  }
  const unigram = smoothedUnigram(trainCounts);
  // unigramOf: [T] p_uni(w_t) of each held-in token
  const unigramOf = Float64Array.from(heldIn.tokens, (w) => unigram[w]);
  const massAt = new Map<number, number>();
  const score = (decay: number): number => {
    const { count, total } = historyStatistics(heldIn, V, decay);
    const logLikelihood = (mass: number) => {
      let sum = 0;
      for (let i = 0; i < tokens; i++) sum += Math.log((count[i] + mass * unigramOf[i]) / (total[i] + mass));
      return sum;
    };
    const best = maximiseOnInterval(
      (logMass) => logLikelihood(Math.exp(logMass)),
      Math.log(MASS_RANGE.low),
      Math.log(MASS_RANGE.high),
      MASS_STEPS,
    );
    massAt.set(decay, Math.exp(best.x));
    return best.value;
  };
  const { decay, value } = searchDecay(score);
  return {
    parameters: { decay, mass: massAt.get(decay)!, window: historyWindow(decay) },
    fitted: true,
    heldInPerplexity: Math.exp(-value / tokens),
    heldInTokens: tokens,
  };
}
