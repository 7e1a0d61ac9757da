/**
 * Next-action prediction (SPEC 4), the user-modelling metric. On held-out sequences, at every position t >= 5
 * (0-based, i.e. after the first 5 actions) — or at a seeded uniform sample of at most `maxPositions` of them —
 * all V actions are ranked by p(w_t | w_<t) = sum_k mix_k phi_{k,w}, where mix is the filter's predictive topic
 * mixture before w_t is seen (kernel.particleFilter's `mixtures`); with the copy component, by its predictive
 * (copy.ts), the history being the sequence's actions before t. Ties go to the smaller action id. Reported:
 * Recall@1, Recall@10 (the true action ranks 1st / within the first 10) and MRR (mean of 1/rank).
 *
 * Cost: one filter run over the sequences that hold a sampled position, cut after their last sampled position,
 * plus O(nnz + V) per position for the ranking (MixtureScorer), never a V x K table.
 */
import type { CountTables, Kernel } from '../kernels/types.js';
import { checkFilterOptions, sequenceLogLikelihoods, type HeldOutOptions } from './perplexity.js';
import { CopyRanker } from './copy.js';
import { runLengthBefore } from '../train/repeats.js';
import { historyCounts } from './history.js';
import { checkInteger, MixtureScorer } from './phi.js';
import { TopN } from './top-n.js';

/** The random stream of the position sample: stream(seed, NEXT_ACTION_STREAM, 0) of the kernel RNG contract. */
export const NEXT_ACTION_STREAM = 0xfffffffe;
/** Positions scored unless asked otherwise: t >= NEXT_ACTION_MIN_POSITION, at most NEXT_ACTION_MAX_POSITIONS. */
export const NEXT_ACTION_MIN_POSITION = 5;
export const NEXT_ACTION_MAX_POSITIONS = 2000;

export interface NextActionOptions extends HeldOutOptions {
  /** first 0-based position that is scored (default NEXT_ACTION_MIN_POSITION) */
  minPosition?: number;
  /** at most this many positions, a seeded uniform sample when there are more (default NEXT_ACTION_MAX_POSITIONS) */
  maxPositions?: number;
}

export interface NextActionResult {
  recallAt1: number;
  recallAt10: number;
  meanReciprocalRank: number;
  /** positions scored */
  positions: number;
  /** positions that qualified (t >= minPosition) before sampling */
  eligiblePositions: number;
  sampled: boolean;
  /** scoredPositions: [positions] global token positions (into corpus.tokens) that were scored, ascending */
  scoredPositions: Int32Array;
  /** ranks: [positions] 1-based rank of the true action at each scored position */
  ranks: Int32Array;
}

/** The result when no position qualifies: NaN metrics (no evidence either way), no ranks. */
export function noNextActionPositions(sampled: boolean, scoredPositions: Int32Array): NextActionResult {
  return {
    recallAt1: NaN,
    recallAt10: NaN,
    meanReciprocalRank: NaN,
    positions: 0,
    eligiblePositions: 0,
    sampled,
    scoredPositions,
    ranks: new Int32Array(0),
  };
}

/** Recall@1, Recall@10 and MRR of `ranks` ([P] the true action's rank at each scored position, 1 = first); NaN
 * without positions. */
export function nextActionFromRanks(
  ranks: Int32Array,
  eligiblePositions: number,
  sampled: boolean,
  scoredPositions: Int32Array,
): NextActionResult {
  let hits1 = 0;
  let hits10 = 0;
  let reciprocal = 0;
  for (const rank of ranks) {
    if (rank === 1) hits1++;
    if (rank <= 10) hits10++;
    reciprocal += 1 / rank;
  }
  const positions = ranks.length;
  return {
    recallAt1: positions > 0 ? hits1 / positions : NaN,
    recallAt10: positions > 0 ? hits10 / positions : NaN,
    meanReciprocalRank: positions > 0 ? reciprocal / positions : NaN,
    positions,
    eligiblePositions,
    sampled,
    scoredPositions,
    ranks,
  };
}

/** Chooses `count` distinct integers of 0..total-1 uniformly (Floyd's algorithm), ascending. */
export function samplePositions(draws: Uint32Array, total: number, count: number): Int32Array {
  const chosen = new Set<number>();
  let next = 0;
  for (let j = total - count; j < total; j++) {
    // below(j + 1) of the RNG contract: (u32 * n) >>> 32, in BigInt because u32 * n may pass 2^53
    const r = Number((BigInt(draws[next++]) * BigInt(j + 1)) >> 32n);
    chosen.add(chosen.has(r) ? j : r);
  }
  return Int32Array.from(chosen).sort();
}

/** The positions next-action metrics score, and how they were chosen. */
export interface ChosenPositions {
  /** positions: [P] global token positions (into corpus.tokens), ascending */
  positions: Int32Array;
  /** positions that qualified (t >= minPosition) before sampling */
  eligible: number;
  sampled: boolean;
}

/**
 * The positions every model's next-action metrics score (the topic models through the kernel's filter, the lstm
 * baseline through its softmax), so that their Recall@k compare: every position t >= minPosition of each
 * sequence, or a uniform sample of maxPositions of them drawn from the seed's NEXT_ACTION_STREAM.
 */
export function chooseNextActionPositions(
  kernel: Pick<Kernel, 'randomStream'>,
  seed: number,
  offsets: Int32Array,
  minPosition = NEXT_ACTION_MIN_POSITION,
  maxPositions = NEXT_ACTION_MAX_POSITIONS,
): ChosenPositions {
  checkInteger('chooseNextActionPositions', 'minPosition', minPosition, 0);
  checkInteger('chooseNextActionPositions', 'maxPositions', maxPositions, 1);
  const numSequences = offsets.length - 1;
  // eligibleBefore: [D+1] eligible positions in sequences before d (sequence d's are consecutive, from
  // offsets[d] + minPosition on)
  const eligibleBefore = new Float64Array(numSequences + 1);
  for (let d = 0; d < numSequences; d++) {
    eligibleBefore[d + 1] = eligibleBefore[d] + Math.max(0, offsets[d + 1] - offsets[d] - minPosition);
  }
  const eligible = eligibleBefore[numSequences];
  const sampled = eligible > maxPositions;
  // chosen: [P] indices into the eligible positions, ascending
  let chosen: Int32Array;
  if (sampled) {
    const draws = new Uint32Array(maxPositions);
    kernel.randomStream(seed, NEXT_ACTION_STREAM, 0, draws);
    chosen = samplePositions(draws, eligible, maxPositions);
  } else {
    chosen = new Int32Array(eligible);
    for (let i = 0; i < eligible; i++) chosen[i] = i;
  }
  const positions = new Int32Array(chosen.length);
  let d = 0;
  for (let i = 0; i < chosen.length; i++) {
    while (eligibleBefore[d + 1] <= chosen[i]) d++;
    positions[i] = offsets[d] + minPosition + (chosen[i] - eligibleBefore[d]);
  }
  return { positions, eligible, sampled };
}

/** Recall@1, Recall@10 and MRR on held-out sequences through the kernel's filter. */
export async function nextActionEvaluation(options: NextActionOptions): Promise<NextActionResult> {
  checkFilterOptions('nextActionEvaluation', options);
  const { tokens, offsets } = options.corpus;
  const { numTopics: K } = options;
  const minPosition = options.minPosition ?? NEXT_ACTION_MIN_POSITION;
  const maxPositions = options.maxPositions ?? NEXT_ACTION_MAX_POSITIONS;
  checkInteger('nextActionEvaluation', 'minPosition', minPosition, 0);
  checkInteger('nextActionEvaluation', 'maxPositions', maxPositions, 1);
  const chosen = chooseNextActionPositions(options.kernel, options.seed, offsets, minPosition, maxPositions);
  const { eligible, sampled } = chosen;
  const scoredPositions = chosen.positions;
  const positions = scoredPositions.length;
  const ranks = new Int32Array(positions);
  if (positions === 0) return noNextActionPositions(sampled, scoredPositions);

  // The cut corpus for the filter: only the sequences with a chosen position, each ending right after its last
  // chosen position; cutPositions: [P] the chosen positions within it.
  const pieces: Array<{ start: number; end: number }> = [];
  const cutPositions = new Int32Array(positions);
  let cutLength = 0;
  let d = 0;
  for (let i = 0; i < positions;) {
    while (offsets[d + 1] <= scoredPositions[i]) d++;
    const start = offsets[d];
    let end = start;
    const pieceStart = cutLength;
    for (; i < positions && scoredPositions[i] < offsets[d + 1]; i++) {
      cutPositions[i] = pieceStart + (scoredPositions[i] - start);
      end = scoredPositions[i] + 1;
    }
    pieces.push({ start, end });
    cutLength += end - start;
    d++;
  }
  const cutTokens = new Int32Array(cutLength);
  const cutOffsets = new Int32Array(pieces.length + 1);
  for (let p = 0; p < pieces.length; p++) {
    const { start, end } = pieces[p];
    cutTokens.set(tokens.subarray(start, end), cutOffsets[p]);
    cutOffsets[p + 1] = cutOffsets[p] + (end - start);
  }
  // mixtures: [P][K] the predictive topic mixture before each chosen token is seen
  const mixtures = new Float32Array(positions * K);
  await sequenceLogLikelihoods(
    options,
    { tokens: cutTokens, offsets: cutOffsets },
    { positions: cutPositions, mixtures },
  );

  const ranker = new CopyRanker(
    new MixtureScorer(options.counts, options.beta, K, options.vocabularySize),
    options.copy ?? null,
    options.repeat ?? null,
  );
  const copy = options.copy;
  const blocks = options.repeat !== undefined;
  const mix = new Float64Array(K);
  d = 0;
  for (let i = 0; i < positions; i++) {
    for (let k = 0; k < K; k++) mix[k] = mixtures[i * K + k];
    const position = scoredPositions[i];
    while (offsets[d + 1] <= position) d++;
    const history = copy ? historyCounts(tokens, offsets[d], position, copy.decay, copy.window, blocks) : null;
    const previous = position > offsets[d] ? tokens[position - 1] : -1;
    const run = runLengthBefore(tokens, offsets[d], position);
    ranks[i] = ranker.rank(mix, history, tokens[position], previous, run);
  }
  return nextActionFromRanks(ranks, eligible, sampled, scoredPositions);
}

export interface PredictedAction {
  action: number;
  /** p(w | history) = sum_k mix_k phi_{k,w} */
  probability: number;
}

/** The n most probable next actions under a predictive topic mixture mix [K], best first (ties: smaller id). */
export function topNextActions(
  mix: ArrayLike<number>,
  counts: CountTables,
  beta: number,
  n: number,
): PredictedAction[] {
  const numTopics = counts?.topicTotals?.length ?? 0;
  const vocabularySize = (counts?.rowOffsets?.length ?? 1) - 1;
  const scorer = new MixtureScorer(counts, beta, numTopics, vocabularySize);
  checkInteger('topNextActions', 'n', n, 0);
  if (mix === null || typeof mix !== 'object' || mix.length !== numTopics) {
    throw new Error(`topNextActions: mix must hold one weight per topic (${numTopics}), got ${mix?.length} values`);
  }
  const sparse = new Float64Array(vocabularySize);
  scorer.sparseParts(mix, sparse);
  const heap = new TopN(n);
  for (let w = 0; w < vocabularySize; w++) heap.push(sparse[w], w);
  const dense = scorer.densePart(mix);
  return heap.sorted().map(({ id, score }) => ({ action: id, probability: dense + score }));
}
