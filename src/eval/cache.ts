/**
 * The recency cache (`--model cache`, and the reference reported beside the unigram in every train and eval
 * output; SPEC section 4): a sequence's own earlier actions, counts decayed per step (history.ts), backed off to
 * the smoothed training unigram:
 *
 *   p(w_t | w_<t) = (c_t(w) + mass p_uni(w)) / (C_t + mass),   p_uni(w) = (n_w + 1) / (N + V)
 *
 * It sums to one over the vocabulary at every position (at t = 0 it is the unigram). Its two constants (decay and
 * mass) are fitted on training data (src/train/cache-fit.ts). Scored at the positions every model uses
 * (chooseNextActionPositions), so its Recall@k compares with theirs.
 *
 * Ranking costs O(h + log V) per position for a history of h distinct actions, not O(V): the actions outside the
 * history rank by p_uni alone, in an order sorted once (CacheRanker).
 */
import type { Kernel } from '../kernels/types.js';
import { DecayedHistory, historyCounts, type HistoryCounts } from './history.js';
import { chooseNextActionPositions, nextActionFromRanks, type NextActionResult } from './next-action.js';
import { checkCorpus, type SequenceCorpus } from './phi.js';
import { TopN } from './top-n.js';

/** The cache's constants: per-step decay in [0, 1], the unigram's weight mass > 0, and the history window. */
export interface CacheParameters {
  decay: number;
  mass: number;
  window: number;
}

/** p_uni: [V] (n_w + 1) / (N + V) from the training counts n_w of the vocabulary (the unigram reference's). */
export function smoothedUnigram(counts: ArrayLike<number>): Float64Array {
  const V = counts.length;
  if (V < 1) throw new Error('smoothedUnigram: the training counts cover no actions (empty vocabulary)');
  let total = 0;
  for (let w = 0; w < V; w++) {
    if (!(Number.isFinite(counts[w]) && counts[w] >= 0)) {
      throw new Error(`smoothedUnigram: training count of action ${w} is ${String(counts[w])}, not a count >= 0`);
    }
    total += counts[w];
  }
  const out = new Float64Array(V);
  for (let w = 0; w < V; w++) out[w] = (counts[w] + 1) / (total + V);
  return out;
}

export function checkCacheParameters(caller: string, parameters: CacheParameters): void {
  const { decay, mass, window } = parameters ?? {};
  if (!(decay >= 0 && decay <= 1)) throw new RangeError(`${caller}: the cache decay must be in [0, 1], got ${decay}`);
  if (!(mass > 0 && Number.isFinite(mass)))
    throw new RangeError(`${caller}: the cache mass must be a number > 0, got ${mass}`);
  if (!(Number.isInteger(window) && window >= 1))
    throw new RangeError(`${caller}: the cache window must be a whole number >= 1, got ${window}`);
}

/**
 * log p(w_d) of every sequence under the cache: [D]; with `scoredFrom` [D], only the tokens from that global
 * position on are scored (the earlier ones are history: document completion).
 */
export function cacheLogLikelihoods(
  unigram: Float64Array,
  parameters: CacheParameters,
  corpus: SequenceCorpus,
  scoredFrom?: Int32Array,
): Float64Array {
  checkCacheParameters('cacheLogLikelihoods', parameters);
  checkCorpus('cacheLogLikelihoods', corpus, unigram.length);
  const { tokens, offsets } = corpus;
  const { mass } = parameters;
  const history = new DecayedHistory(unigram.length, parameters.decay, parameters.window);
  const out = new Float64Array(offsets.length - 1);
  for (let d = 0; d + 1 < offsets.length; d++) {
    history.reset();
    let sum = 0;
    const first = scoredFrom ? scoredFrom[d] : offsets[d];
    for (let i = offsets[d]; i < offsets[d + 1]; i++) {
      const w = tokens[i];
      if (i >= first) sum += Math.log((history.count(w) + mass * unigram[w]) / (history.total + mass));
      history.push(w);
    }
    out[d] = sum;
  }
  return out;
}

/** Ranks actions by c(w) + mass p_uni(w) (ties: the smaller id first) without visiting the whole vocabulary. */
export class CacheRanker {
  private readonly unigram: Float64Array;
  /** order: [V] action ids by p_uni descending, ties by id ascending */
  private readonly order: Int32Array;

  constructor(unigram: Float64Array) {
    this.unigram = unigram;
    this.order = Int32Array.from({ length: unigram.length }, (_, w) => w).sort(
      (a, b) => unigram[b] - unigram[a] || a - b,
    );
  }

  /** How many actions w have mass p_uni(w) above `score`, or equal to it with w < target: a prefix of `order`. */
  private aheadByUnigram(mass: number, score: number, target: number): number {
    let low = 0;
    let high = this.order.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const w = this.order[middle];
      const value = mass * this.unigram[w];
      if (value > score || (value === score && w < target)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** 1-based rank of `target` after `history` under the cache with weight `mass` on the unigram. */
  rank(history: HistoryCounts, mass: number, target: number): number {
    const unigram = this.unigram;
    let targetCount = 0;
    for (let i = 0; i < history.actions.length; i++) if (history.actions[i] === target) targetCount = history.counts[i];
    const score = targetCount + mass * unigram[target];
    // every action as if it had no history, then the history's actions corrected to their real scores
    let ahead = this.aheadByUnigram(mass, score, target);
    for (let i = 0; i < history.actions.length; i++) {
      const w = history.actions[i];
      if (w === target) continue;
      const alone = mass * unigram[w];
      if (alone > score || (alone === score && w < target)) ahead--;
      const real = history.counts[i] + alone;
      if (real > score || (real === score && w < target)) ahead++;
    }
    return ahead + 1;
  }

  /** The n most probable actions after `history`, with p(w | history), best first (ties: the smaller id). */
  top(history: HistoryCounts, mass: number, n: number): Array<{ action: number; probability: number }> {
    const heap = new TopN(n);
    const inHistory = new Set<number>();
    for (let i = 0; i < history.actions.length; i++) {
      const w = history.actions[i];
      inHistory.add(w);
      heap.push(history.counts[i] + mass * this.unigram[w], w);
    }
    // outside the history the order is by p_uni: its first n such actions are the only candidates
    for (let i = 0, taken = 0; i < this.order.length && taken < n; i++) {
      const w = this.order[i];
      if (inHistory.has(w)) continue;
      heap.push(mass * this.unigram[w], w);
      taken++;
    }
    const denominator = history.total + mass;
    return heap.sorted().map(({ id, score }) => ({ action: id, probability: score / denominator }));
  }
}

export interface CacheEvaluation {
  perplexity: number;
  logLikelihood: number;
  tokens: number;
  /** the next-action metrics at the positions every model scores (null when not asked) */
  nextAction: NextActionResult | null;
}

/**
 * Perplexity of the cache on held-out sequences and, with `kernel` and `seed` (which draw the positions, as for
 * every model), Recall@1, Recall@10 and MRR.
 */
export function cacheEvaluation(
  unigram: Float64Array,
  parameters: CacheParameters,
  corpus: SequenceCorpus,
  positionsFrom?: { kernel: Pick<Kernel, 'randomStream'>; seed: number },
): CacheEvaluation {
  const perSequence = cacheLogLikelihoods(unigram, parameters, corpus);
  let logLikelihood = 0;
  for (const value of perSequence) logLikelihood += value;
  const tokens = corpus.tokens.length;
  if (tokens === 0) throw new Error('cacheEvaluation: there are no held-out tokens to score');
  let nextAction: NextActionResult | null = null;
  if (positionsFrom) {
    const { positions, eligible, sampled } = chooseNextActionPositions(
      positionsFrom.kernel,
      positionsFrom.seed,
      corpus.offsets,
    );
    const ranker = new CacheRanker(unigram);
    const ranks = new Int32Array(positions.length);
    let d = 0;
    positions.forEach((position, i) => {
      while (corpus.offsets[d + 1] <= position) d++;
      const history = historyCounts(corpus.tokens, corpus.offsets[d], position, parameters.decay, parameters.window);
      ranks[i] = ranker.rank(history, parameters.mass, corpus.tokens[position]);
    });
    nextAction = nextActionFromRanks(ranks, eligible, sampled, positions);
  }
  return { perplexity: Math.exp(-logLikelihood / tokens), logLikelihood, tokens, nextAction };
}
