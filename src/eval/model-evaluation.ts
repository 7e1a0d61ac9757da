/**
 * A trained model's held-out evaluation (SPEC section 4) in one result: perplexity by the chosen protocol and
 * the next-action metrics. Functions over the trained tables, LSTM weights and a kernel (topic models), or over
 * the action-level LSTM (the baseline), so that the training loop and the model facade share them.
 */
import type { Kernel } from '../kernels/types.js';
import { countsInKernel } from '../kernels/buffers.js';
import type { ActionLstm } from '../lstm/action-lstm.js';
import { cacheEvaluation, cacheLogLikelihoods, smoothedUnigram, type CacheParameters } from './cache.js';
import { completionPerplexity, splitHalves } from './completion.js';
import { heldOutPerplexity, type HeldOutOptions } from './perplexity.js';
import {
  chooseNextActionPositions,
  nextActionEvaluation,
  nextActionFromRanks,
  noNextActionPositions,
  type NextActionResult,
} from './next-action.js';
import type { SequenceCorpus } from './phi.js';

/** The held-out protocols (SPEC section 4): the filter left to right, or document completion. */
export const PERPLEXITY_PROTOCOLS = ['left-to-right', 'completion'] as const;
export type PerplexityProtocol = (typeof PERPLEXITY_PROTOCOLS)[number];
export const DEFAULT_PERPLEXITY: PerplexityProtocol = 'left-to-right';

export interface EvaluationResult {
  /** lla, word-lla, lda, lstm or cache */
  model: HeldOutOptions['mode'] | 'lstm' | 'cache';
  /** whether the topic model's copy component took part (src/eval/copy.ts) */
  copy: boolean;
  /** whether runs of one action were scored as repeat blocks (src/train/repeats.ts) */
  repeatBlocks: boolean;
  /** held-out perplexity (left to right, or document completion) */
  perplexity: number;
  perplexityMethod: string;
  logLikelihood: number;
  tokens: number;
  sequences: number;
  outOfVocabulary: number;
  recallAt1: number;
  recallAt10: number;
  mrr: number;
  nextActionPositions: number;
}

/** Held-out sequences restricted to the vocabulary, and how many tokens were dropped for being outside it. */
export interface EvaluationCorpus extends SequenceCorpus {
  skippedTokens: number;
}

export interface TopicModelEvaluation extends Omit<HeldOutOptions, 'corpus' | 'outOfVocabulary'> {
  corpus: EvaluationCorpus;
  perplexity: PerplexityProtocol;
  /** also rank the next actions (Recall@1/@10, MRR) */
  nextAction: boolean;
}

/** Perplexity and next-action metrics of a topic model (lla, word-lla, lda) through the kernel's filter. */
export async function evaluateTopicModel(options: TopicModelEvaluation): Promise<EvaluationResult> {
  const { corpus, kernel } = options;
  const common: HeldOutOptions = {
    kernel,
    mode: options.mode,
    counts: countsInKernel(kernel, options.counts),
    beta: options.beta,
    alpha: options.alpha,
    particles: options.particles,
    seed: options.seed,
    threads: options.threads,
    corpus: { tokens: corpus.tokens, offsets: corpus.offsets },
    numTopics: options.numTopics,
    vocabularySize: options.vocabularySize,
    outOfVocabulary: corpus.skippedTokens,
    ...(options.weights ? { weights: options.weights } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.chunkTokens !== undefined ? { chunkTokens: options.chunkTokens } : {}),
    ...(options.copy ? { copy: options.copy } : {}),
    ...(options.repeat ? { repeat: options.repeat } : {}),
  };
  const { perplexity, logLikelihood, tokens } =
    options.perplexity === 'completion' ? await completionPerplexity(common) : await heldOutPerplexity(common);
  const next = options.nextAction ? await nextActionEvaluation(common) : null;
  return {
    model: options.mode,
    copy: options.copy !== undefined,
    repeatBlocks: options.repeat !== undefined,
    perplexity,
    perplexityMethod: options.perplexity,
    logLikelihood,
    tokens,
    sequences: corpus.offsets.length - 1,
    outOfVocabulary: corpus.skippedTokens,
    ...nextActionFields(next),
  };
}

export interface CacheModelEvaluation {
  /** training counts n_w [V] of the vocabulary: the unigram the cache backs off to */
  trainingCounts: ArrayLike<number>;
  parameters: CacheParameters;
  /** the model's kernel and seed: they draw the next-action positions, the same as every other model's */
  kernel: Kernel;
  seed: number;
  corpus: EvaluationCorpus;
  perplexity: PerplexityProtocol;
  nextAction: boolean;
}

/** Perplexity and next-action metrics of the recency cache (src/eval/cache.ts): exact, no kernel filter. */
export function evaluateCacheModel(options: CacheModelEvaluation): EvaluationResult {
  const { corpus, parameters } = options;
  const unigram = smoothedUnigram(options.trainingCounts);
  const evaluation = cacheEvaluation(
    unigram,
    parameters,
    corpus,
    options.nextAction ? { kernel: options.kernel, seed: options.seed } : undefined,
  );
  let { logLikelihood, tokens } = evaluation;
  if (options.perplexity === 'completion') {
    const { first, secondStart } = splitHalves(corpus);
    tokens = corpus.tokens.length - first.tokens.length;
    if (tokens === 0) throw new Error('evaluateCacheModel: the held-out corpus has no second halves to score');
    logLikelihood = cacheLogLikelihoods(unigram, parameters, corpus, secondStart).reduce((a, b) => a + b, 0);
  }
  return {
    model: 'cache',
    copy: false,
    repeatBlocks: false,
    perplexity: Math.exp(-logLikelihood / tokens),
    perplexityMethod: options.perplexity,
    logLikelihood,
    tokens,
    sequences: corpus.offsets.length - 1,
    outOfVocabulary: corpus.skippedTokens,
    ...nextActionFields(evaluation.nextAction),
  };
}

export interface ActionLstmEvaluation {
  lstm: ActionLstm;
  /** the model's kernel and seed: they draw the next-action positions, the same as the topic models' */
  kernel: Kernel;
  seed: number;
  vocabularySize: number;
  corpus: EvaluationCorpus;
  nextAction: boolean;
  /** checked between forward windows: once aborted, the evaluation stops with an InterruptedError */
  signal?: AbortSignal;
}

/** Exact perplexity and next-action metrics of the action-level LSTM baseline (TF.js, no kernel sweep). */
export async function evaluateActionLstm(options: ActionLstmEvaluation): Promise<EvaluationResult> {
  const { corpus } = options;
  const { logLikelihood: perSequence } = await options.lstm.evaluate({
    tokens: corpus.tokens,
    offsets: corpus.offsets,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let logLikelihood = 0;
  for (const value of perSequence) logLikelihood += value;
  const tokens = corpus.tokens.length;
  const next = options.nextAction ? await actionLstmNextAction(options) : null;
  return {
    model: 'lstm',
    copy: false,
    repeatBlocks: false,
    perplexity: Math.exp(-logLikelihood / Math.max(1, tokens)),
    perplexityMethod: 'exact',
    logLikelihood,
    tokens,
    sequences: corpus.offsets.length - 1,
    outOfVocabulary: corpus.skippedTokens,
    ...nextActionFields(next),
  };
}

/**
 * Recall@1, Recall@10 and MRR of the baseline: all V actions ranked by the LSTM's softmax (ties: the smaller
 * action id first) at the positions the topic models score (chooseNextActionPositions).
 */
export async function actionLstmNextAction(options: ActionLstmEvaluation): Promise<NextActionResult> {
  const { corpus, vocabularySize: V } = options;
  const {
    positions: scoredPositions,
    eligible,
    sampled,
  } = chooseNextActionPositions(options.kernel, options.seed, corpus.offsets);
  const ranks = new Int32Array(scoredPositions.length);
  if (scoredPositions.length === 0) return noNextActionPositions(sampled, scoredPositions);
  const scores = await options.lstm.nextActionScores(
    { tokens: corpus.tokens, offsets: corpus.offsets, ...(options.signal ? { signal: options.signal } : {}) },
    scoredPositions,
  );
  scoredPositions.forEach((position, i) => {
    const row = scores.subarray(i * V, (i + 1) * V);
    const truth = corpus.tokens[position];
    const target = row[truth];
    let rank = 1;
    for (let w = 0; w < V; w++) if (row[w] > target || (row[w] === target && w < truth)) rank++;
    ranks[i] = rank;
  });
  return nextActionFromRanks(ranks, eligible, sampled, scoredPositions);
}

/** The next-action part of an EvaluationResult (NaN and 0 positions when not asked or nothing qualified). */
function nextActionFields(
  next: NextActionResult | null,
): Pick<EvaluationResult, 'recallAt1' | 'recallAt10' | 'mrr' | 'nextActionPositions'> {
  if (next === null) return { recallAt1: NaN, recallAt10: NaN, mrr: NaN, nextActionPositions: 0 };
  return {
    recallAt1: next.recallAt1,
    recallAt10: next.recallAt10,
    mrr: next.meanReciprocalRank,
    nextActionPositions: next.positions,
  };
}
