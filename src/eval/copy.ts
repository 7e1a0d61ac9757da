/**
 * The copy component (issue 13) on the TypeScript side, with the kernels' definition (src/kernels/types.ts): with
 * probability lambda_{t,k} = rate_k C_t / (C_t + mass_k) the action repeats one of the sequence's recent actions,
 * in proportion to their decayed counts c_t(w) over the last `window` actions (history.ts), else it is drawn from
 * phi_k. The kernels' filter scores and reweights with it; here it ranks next actions:
 *
 *   p(w | w_<t) = sum_k mix_k [lambda_{t,k} c_t(w) / C_t + (1 - lambda_{t,k}) phi_{k,w}]
 *               = copyWeight c_t(w) / C_t + sum_k topicMix_k phi_{k,w},
 *   copyWeight = sum_k mix_k lambda_{t,k},   topicMix_k = mix_k (1 - lambda_{t,k}),
 *
 * mix being the filter's predictive topic mixture. The second sum is MixtureScorer's (O(nnz + V)); the copy part
 * touches only the few actions of the history.
 */
import type { CopyParameters } from '../kernels/types.js';
import type { HistoryCounts } from './history.js';
import type { MixtureScorer } from './phi.js';
import { TopN } from './top-n.js';
import { repeatProbability } from '../train/repeats.js';

/** 1 - p(previous) is kept at this or more, as in the kernels' filter. */
const SMALLEST_NOT_PREVIOUS = 1e-12;

/** lambda_{t,k} = rate_k C / (C + mass_k) of every topic into out [K] (all 0 while C = 0, the empty history). */
export function copyRates(copy: CopyParameters, total: number, out: Float64Array): Float64Array {
  for (let k = 0; k < out.length; k++) out[k] = total > 0 ? (copy.rate[k] * total) / (total + copy.mass[k]) : 0;
  return out;
}

/**
 * Ranks next actions under the copy predictive (or, without a copy component, under sum_k mix_k phi_{k,w} alone).
 * One per evaluation or session: it keeps [K] and [V] scratch.
 */
export class CopyRanker {
  private readonly scorer: MixtureScorer;
  private readonly copy: CopyParameters | null;
  /** lambdas: [K] lambda_{t,k}; topicMix: [K] mix_k (1 - lambda_{t,k}) */
  private readonly lambdas: Float64Array;
  private readonly topicMix: Float64Array;
  /** bonus: [V] copyWeight c_t(w) / C_t, non-zero only on the history's actions (cleared after each use) */
  private readonly bonus: Float64Array;

  /** repeat: [V][R] r(w, L) of repeat blocks (src/train/repeats.ts), null without; scratch: [V] block probabilities */
  private readonly repeat: Float64Array | null;
  private scratch: Float64Array | undefined;

  /**
   * With a repeat table [V][R], every method takes the previous action (-1 at a sequence's start) and the length of
   * its run so far, and ranks under the block predictive: r = r(prev, run) for the previous action again,
   * (1 - r) p(w) / (1 - p(prev)) for any other w, p being the predictive above under the filter's block mixture
   * (src/kernels/types.ts, "Repeat blocks").
   */
  constructor(scorer: MixtureScorer, copy: CopyParameters | null, repeat: Float64Array | null = null) {
    this.scorer = scorer;
    this.copy = copy;
    this.repeat = repeat;
    this.lambdas = new Float64Array(scorer.numTopics);
    this.topicMix = new Float64Array(scorer.numTopics);
    this.bonus = new Float64Array(scorer.vocabularySize);
  }

  /** Whether the previous action makes this a block prediction. */
  private blockAfter(previous: number): boolean {
    return this.repeat !== null && previous >= 0;
  }

  /** Turns the topic model's probabilities [V] into the block predictive after `previous` (in place). */
  private toBlocks(probabilities: Float64Array, previous: number, runLength: number): Float64Array {
    const r = this.repeatAfter(previous, runLength);
    const scale = (1 - r) / Math.max(1 - probabilities[previous], SMALLEST_NOT_PREVIOUS);
    for (let w = 0; w < probabilities.length; w++) probabilities[w] *= scale;
    probabilities[previous] = r;
    return probabilities;
  }

  private blockProbabilities(
    mix: ArrayLike<number>,
    history: HistoryCounts | null,
    previous: number,
    runLength: number,
  ): Float64Array {
    this.scratch ??= new Float64Array(this.scorer.vocabularySize);
    return this.toBlocks(this.topicProbabilities(mix, history, this.scratch), previous, runLength);
  }

  private repeatAfter(previous: number, runLength: number): number {
    return repeatProbability(this.repeat!, this.scorer.vocabularySize, previous, runLength);
  }

  /** Fills topicMix and the bonus of the history's actions; returns the bonus array, or undefined without copy. */
  private split(mix: ArrayLike<number>, history: HistoryCounts | null): Float64Array | undefined {
    const K = this.scorer.numTopics;
    if (this.copy === null || history === null || history.total <= 0) {
      for (let k = 0; k < K; k++) this.topicMix[k] = mix[k];
      return undefined;
    }
    copyRates(this.copy, history.total, this.lambdas);
    let copyWeight = 0;
    for (let k = 0; k < K; k++) {
      copyWeight += mix[k] * this.lambdas[k];
      this.topicMix[k] = mix[k] * (1 - this.lambdas[k]);
    }
    for (let i = 0; i < history.actions.length; i++) {
      this.bonus[history.actions[i]] = (copyWeight * history.counts[i]) / history.total;
    }
    return this.bonus;
  }

  private clear(history: HistoryCounts | null): void {
    if (history) for (const action of history.actions) this.bonus[action] = 0;
  }

  /** 1-based rank of `target` among all actions (ties: the smaller id first). */
  rank(mix: ArrayLike<number>, history: HistoryCounts | null, target: number, previous = -1, runLength = 1): number {
    if (this.blockAfter(previous)) {
      const probabilities = this.blockProbabilities(mix, history, previous, runLength);
      const score = probabilities[target];
      let ahead = 0;
      for (let w = 0; w < probabilities.length; w++) {
        if (probabilities[w] > score || (probabilities[w] === score && w < target)) ahead++;
      }
      return ahead + 1;
    }
    const bonus = this.split(mix, history);
    try {
      return this.scorer.rank(this.topicMix, target, bonus);
    } finally {
      this.clear(history);
    }
  }

  /** p(w | history) of one action. */
  probability(mix: ArrayLike<number>, history: HistoryCounts | null, w: number, previous = -1, runLength = 1): number {
    const bonus = this.split(mix, history);
    const of = (action: number) =>
      this.scorer.probability(this.topicMix, action) + (bonus === undefined ? 0 : bonus[action]);
    const value = of(w);
    const block = this.blockAfter(previous);
    const previousValue = block && w !== previous ? of(previous) : 0;
    this.clear(history);
    if (!block) return value;
    const r = this.repeatAfter(previous, runLength);
    return w === previous ? r : ((1 - r) * value) / Math.max(1 - previousValue, SMALLEST_NOT_PREVIOUS);
  }

  /** p(w | history) of every action: probabilitiesOut [V]. */
  probabilities(
    mix: ArrayLike<number>,
    history: HistoryCounts | null,
    probabilitiesOut: Float64Array,
    previous = -1,
    runLength = 1,
  ): Float64Array {
    this.topicProbabilities(mix, history, probabilitiesOut);
    return this.blockAfter(previous) ? this.toBlocks(probabilitiesOut, previous, runLength) : probabilitiesOut;
  }

  /** The topic model's own p(w | history) of every action (no blocks), written into probabilitiesOut [V]. */
  private topicProbabilities(
    mix: ArrayLike<number>,
    history: HistoryCounts | null,
    probabilitiesOut: Float64Array,
  ): Float64Array {
    const bonus = this.split(mix, history);
    this.scorer.sparseParts(this.topicMix, probabilitiesOut, bonus);
    const dense = this.scorer.densePart(this.topicMix);
    for (let w = 0; w < probabilitiesOut.length; w++) probabilitiesOut[w] += dense;
    this.clear(history);
    return probabilitiesOut;
  }

  /** The n most probable next actions, best first (ties: the smaller id), with p(w | history). */
  top(
    mix: ArrayLike<number>,
    history: HistoryCounts | null,
    n: number,
    previous = -1,
    runLength = 1,
  ): Array<{ action: number; probability: number }> {
    const V = this.scorer.vocabularySize;
    if (this.blockAfter(previous)) {
      const probabilities = this.blockProbabilities(mix, history, previous, runLength);
      const heap = new TopN(n);
      for (let w = 0; w < V; w++) heap.push(probabilities[w], w);
      return heap.sorted().map(({ id, score }) => ({ action: id, probability: score }));
    }
    const bonus = this.split(mix, history);
    const sparse = new Float64Array(V);
    this.scorer.sparseParts(this.topicMix, sparse, bonus);
    this.clear(history);
    const heap = new TopN(n);
    for (let w = 0; w < V; w++) heap.push(sparse[w], w);
    const dense = this.scorer.densePart(this.topicMix);
    return heap.sorted().map(({ id, score }) => ({ action: id, probability: dense + score }));
  }
}
