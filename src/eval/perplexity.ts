/**
 * Held-out perplexity (SPEC 4): exp(- sum_d log p(w_d) / sum_d N_d), one definition for training reports,
 * `lla eval` and the API. log p(w_d) comes from kernel.particleFilter: a left-to-right particle filter with S
 * particles for `lla` and `lda` (an unbiased estimate of p(w_d), so log p(w_d) is biased slightly downward, more
 * so for very long sequences), exact for `word-lla` (its topics are independent given the actions).
 * Out-of-vocabulary held-out tokens are dropped by the caller before this point (for every model alike); their
 * number is passed in and reported with the result.
 */
import type { CellWeights, CopyParameters, CountTables, Kernel, KernelMode } from '../kernels/types.js';
import { forEachSequenceChunk, positionsInChunk, type ChunkOptions } from '../kernels/chunks.js';
import { checkCorpus, checkCounts, checkInteger, checkPositive, type SequenceCorpus } from './phi.js';

export interface HeldOutOptions extends ChunkOptions {
  kernel: Kernel;
  mode: KernelMode;
  /** training counts: phi_{k,w} = (n_{k,w} + beta) / (n_k + V beta) */
  counts: CountTables;
  /** the LSTM, required for lla and word-lla */
  weights?: CellWeights;
  beta: number;
  /** the lda prior on in-sequence topic counts (ignored by lla and word-lla, but must be > 0) */
  alpha: number;
  /** particles S of the filter (lla, lda) */
  particles: number;
  seed: number;
  /** 0 = all cores */
  threads: number;
  corpus: SequenceCorpus;
  numTopics: number;
  vocabularySize: number;
  /** held-out tokens dropped before evaluation because their action is not in the training vocabulary */
  outOfVocabulary?: number;
  /** the copy component (src/eval/copy.ts), when the model has one */
  copy?: CopyParameters;
  /** repeat: [V] the repeat table of repeat blocks (src/train/repeats.ts), when the model has one */
  repeat?: Float64Array;
}

export interface PerplexityResult {
  perplexity: number;
  /** sum over sequences of log p(w_d) (natural log) */
  logLikelihood: number;
  /** tokens scored, sum_d N_d */
  tokens: number;
  /** perSequence: [D] log p(w_d) of each held-out sequence */
  perSequence: Float64Array;
  /** how log p(w_d) was obtained */
  method: 'particle-filter' | 'exact';
  /** particles used (0 when exact) */
  particles: number;
  outOfVocabulary: number;
}

/** Checks every argument shared by the evaluations that run the particle filter. */
export function checkFilterOptions(caller: string, options: HeldOutOptions): void {
  if (options === null || typeof options !== 'object') throw new Error(`${caller}: expected an options object`);
  const { kernel, mode, counts, weights, numTopics, vocabularySize } = options;
  if (kernel === undefined || typeof kernel.particleFilter !== 'function') {
    throw new Error(`${caller}: kernel is missing: pass the object from \`await loadKernel()\``);
  }
  if (mode !== 'lla' && mode !== 'lda' && mode !== 'word-lla') {
    throw new Error(
      `${caller}: mode '${String(mode)}' has no kernel likelihood (use lla, word-lla or lda; the ` +
        'lstm baseline is evaluated by its own network)',
    );
  }
  checkCounts(caller, counts, numTopics, vocabularySize);
  checkPositive(caller, 'beta', options.beta);
  checkPositive(caller, 'alpha', options.alpha);
  checkInteger(caller, 'particles', options.particles, 1);
  checkInteger(caller, 'threads', options.threads, 0);
  if (!Number.isFinite(options.seed)) throw new Error(`${caller}: seed is ${String(options.seed)}, not a number`);
  if (mode !== 'lda' && weights === undefined) {
    throw new Error(`${caller}: mode ${mode} needs the LSTM weights (weights) but none were given`);
  }
  checkCorpus(caller, options.corpus, vocabularySize);
  checkInteger(caller, 'outOfVocabulary', options.outOfVocabulary ?? 0, 0);
}

/**
 * Runs the kernel's filter over a corpus and returns log p(w_d) per sequence; with `record`, also the predictive
 * topic mixtures [P][K] at the sorted global token positions [P]. The corpus goes in chunks of sequences
 * (src/kernels/chunks.ts): `options.signal` stops it between two, and the numbers are those of one call.
 */
export async function sequenceLogLikelihoods(
  options: HeldOutOptions,
  corpus: SequenceCorpus = options.corpus,
  record?: { positions: Int32Array; mixtures: Float32Array },
): Promise<Float64Array> {
  const perSequence = new Float64Array(corpus.offsets.length - 1);
  const K = options.numTopics;
  await forEachSequenceChunk(corpus, options, async (chunk) => {
    const chunkRecord = record ? positionsInChunk(record.positions, chunk) : undefined;
    await options.kernel.particleFilter({
      mode: options.mode,
      numTopics: K,
      vocabularySize: options.vocabularySize,
      tokens: chunk.tokens,
      offsets: chunk.offsets,
      counts: options.counts,
      beta: options.beta,
      alpha: options.alpha,
      weights: options.weights,
      particles: options.particles,
      seed: options.seed,
      firstSequence: chunk.first,
      threads: options.threads,
      logLikelihood: perSequence.subarray(chunk.first, chunk.end),
      ...(options.copy ? { copy: options.copy } : {}),
      ...(options.repeat ? { repeat: options.repeat } : {}),
      ...(record && chunkRecord && chunkRecord.local.length > 0
        ? {
            mixturePositions: chunkRecord.local,
            mixtures: record.mixtures.subarray(chunkRecord.from * K, chunkRecord.to * K),
          }
        : {}),
    });
  });
  return perSequence;
}

/** Held-out perplexity of a topic model (lla, word-lla, lda) through the kernel's filter. */
export async function heldOutPerplexity(options: HeldOutOptions): Promise<PerplexityResult> {
  checkFilterOptions('heldOutPerplexity', options);
  const tokens = options.corpus.tokens.length;
  if (tokens === 0) {
    throw new Error(
      'heldOutPerplexity: the held-out corpus has no tokens to score (every held-out action may be ' +
        'out of vocabulary): use a larger --holdout or another --test file',
    );
  }
  const perSequence = await sequenceLogLikelihoods(options);
  let logLikelihood = 0;
  for (let d = 0; d < perSequence.length; d++) logLikelihood += perSequence[d];
  if (!Number.isFinite(logLikelihood)) {
    throw new Error(
      `heldOutPerplexity: the ${options.kernel.name} kernel returned a log-likelihood of ` +
        `${logLikelihood}; the counts or weights are probably damaged (NaN or infinite values)`,
    );
  }
  const exact = options.mode === 'word-lla';
  return {
    perplexity: Math.exp(-logLikelihood / tokens),
    logLikelihood,
    tokens,
    perSequence,
    method: exact ? 'exact' : 'particle-filter',
    particles: exact ? 0 : options.particles,
    outOfVocabulary: options.outOfVocabulary ?? 0,
  };
}

export interface UnigramResult {
  perplexity: number;
  logLikelihood: number;
  tokens: number;
  outOfVocabulary: number;
}

/**
 * The unigram reference: p(w) = (c_w + 1) / (N + V) from the training counts c_w (add-one smoothing over the
 * vocabulary), scored on the held-out tokens (already restricted to the vocabulary).
 */
export function unigramPerplexity(
  trainCounts: ArrayLike<number>,
  heldOutTokens: Int32Array,
  outOfVocabulary = 0,
): UnigramResult {
  const vocabularySize = trainCounts.length;
  if (vocabularySize < 1) throw new Error('unigramPerplexity: the training counts cover no actions (empty vocabulary)');
  checkInteger('unigramPerplexity', 'outOfVocabulary', outOfVocabulary, 0);
  let total = 0;
  for (let w = 0; w < vocabularySize; w++) {
    const c = trainCounts[w];
    if (!(Number.isFinite(c) && c >= 0)) {
      throw new Error(`unigramPerplexity: training count of action ${w} is ${String(c)}, not a count >= 0`);
    }
    total += c;
  }
  if (heldOutTokens.length === 0) {
    throw new Error(
      'unigramPerplexity: there are no held-out tokens to score: use a larger --holdout or another --test file',
    );
  }
  const logDenominator = Math.log(total + vocabularySize);
  let logLikelihood = 0;
  for (let i = 0; i < heldOutTokens.length; i++) {
    const w = heldOutTokens[i];
    if (w < 0 || w >= vocabularySize) {
      throw new Error(
        `unigramPerplexity: held-out token ${i} is action ${w}, outside the vocabulary of ` +
          `${vocabularySize} (drop out-of-vocabulary tokens first and pass their number)`,
      );
    }
    logLikelihood += Math.log(trainCounts[w] + 1) - logDenominator;
  }
  return {
    perplexity: Math.exp(-logLikelihood / heldOutTokens.length),
    logLikelihood,
    tokens: heldOutTokens.length,
    outOfVocabulary,
  };
}
