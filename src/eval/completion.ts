/**
 * Document completion (`--perplexity completion`), the held-out protocol common in the topic-model literature
 * (Wallach et al. 2009, "Evaluation methods for topic models"): each held-out sequence of N tokens is split into
 * its first floor(N/2) tokens (the observed part) and the rest (the part scored). The perplexity is
 * exp(- sum_d log p(second half_d | first half_d) / sum_d |second half_d|). A 1-token sequence has an empty first
 * half and its token is scored unconditionally.
 *
 * - `lda`: the topic mix of each sequence is fitted to its first half with phi fixed at the training counts:
 *   `gibbsSweeps` (default 20) collapsed Gibbs sweeps of kernel.sweep (exact conditionals, lda mode) over a
 *   corpus holding only the first halves, from uniform random topics; after `burnIn` (default 10) sweeps every
 *   sweep's assignments are kept, theta_{d,k} = (mean count of k in the first half + alpha) / (N_1 + K alpha),
 *   and the second half is scored with that fixed theta: log p = sum_t log sum_k theta_k phi_{k,w_t} (with the
 *   copy component, its predictive with theta as the topic mixture; the history is every earlier token).
 * - `lla` and `word-lla`: the filter conditions on the first half and keeps running over the second, so
 *   log p(second | first) = log p(whole sequence) - log p(first half), both from kernel.particleFilter with the
 *   same seed and sequence index. The filter draws from a fresh stream per (sequence, position), so the run over
 *   the first half is exactly the beginning of the run over the whole sequence and the difference is the sum
 *   of the filter's log p(w_t | w_<t) over the second half. Exact for word-lla; a particle estimate for lla.
 */
import type { AliasTables } from '../kernels/types.js';
import { forEachSequenceChunk } from '../kernels/chunks.js';
import { interruptionPoint } from '../errors.js';
import { checkFilterOptions, sequenceLogLikelihoods, type HeldOutOptions } from './perplexity.js';
import { CopyRanker } from './copy.js';
import { historyCounts } from './history.js';
import { checkInteger, MixtureScorer, type SequenceCorpus } from './phi.js';
import { collapseRepeats, runLengthBefore } from '../train/repeats.js';

export interface CompletionOptions extends HeldOutOptions {
  /** lda: Gibbs sweeps over the first halves (default 20) */
  gibbsSweeps?: number;
  /** lda: sweeps discarded before theta is averaged (default 10) */
  burnIn?: number;
}

export interface CompletionResult {
  perplexity: number;
  /** sum over sequences of log p(second half | first half) */
  logLikelihood: number;
  /** tokens scored (second halves) */
  tokens: number;
  /** tokens conditioned on (first halves) */
  conditioningTokens: number;
  /** perSequence: [D] log p(second half | first half) */
  perSequence: Float64Array;
  method: 'lda-fitted-mix' | 'particle-filter' | 'exact';
  outOfVocabulary: number;
}

/** Splits every sequence into its first floor(N/2) tokens and the rest. */
export function splitHalves(corpus: SequenceCorpus): { first: SequenceCorpus; secondStart: Int32Array } {
  const { tokens, offsets } = corpus;
  const numSequences = offsets.length - 1;
  const firstOffsets = new Int32Array(numSequences + 1);
  // secondStart: [D] global position of each sequence's first scored token
  const secondStart = new Int32Array(numSequences);
  for (let d = 0; d < numSequences; d++) {
    const half = (offsets[d + 1] - offsets[d]) >> 1;
    firstOffsets[d + 1] = firstOffsets[d] + half;
    secondStart[d] = offsets[d] + half;
  }
  const firstTokens = new Int32Array(firstOffsets[numSequences]);
  for (let d = 0; d < numSequences; d++) firstTokens.set(tokens.subarray(offsets[d], secondStart[d]), firstOffsets[d]);
  return { first: { tokens: firstTokens, offsets: firstOffsets }, secondStart };
}

async function ldaCompletion(
  options: CompletionOptions,
  firstHalves: SequenceCorpus,
  secondStart: Int32Array,
  perSequence: Float64Array,
): Promise<void> {
  // with repeat blocks the topic mix is fitted to the first halves' blocks, as training fitted phi to blocks
  const blocks = options.repeat !== undefined;
  const first = blocks ? collapseRepeats(firstHalves) : firstHalves;
  const { kernel, counts, numTopics: K, vocabularySize: V, beta, alpha } = options;
  const sweeps = options.gibbsSweeps ?? 20;
  const burnIn = options.burnIn ?? 10;
  checkInteger('completionPerplexity', 'gibbsSweeps', sweeps, 1);
  checkInteger('completionPerplexity', 'burnIn', burnIn, 0);
  if (burnIn >= sweeps) {
    throw new Error(
      `completionPerplexity: burnIn (${burnIn}) must be below gibbsSweeps (${sweeps}) so that ` +
        'some sweeps are kept',
    );
  }
  const capacity = counts.rowTopics.length;
  const alias: AliasTables = {
    sparseProb: new Float32Array(capacity),
    sparseAlias: new Int32Array(capacity),
    sparseMass: new Float64Array(V),
    denseProb: new Float32Array(K),
    denseAlias: new Int32Array(K),
    denseMass: new Float64Array(1),
  };
  kernel.buildAlias(counts, K, beta, alias);
  // start: [T1] uniform random topics of the first halves (their streams are per sequence, drawn once for all)
  const start = new Int32Array(first.tokens.length);
  kernel.randomTopics(first.offsets, start, K, options.seed);
  const ranker = new CopyRanker(new MixtureScorer(counts, beta, K, V), options.copy ?? null, options.repeat ?? null);
  const copy = options.copy;
  const { tokens, offsets } = options.corpus;
  const theta = new Float64Array(K);
  // The tables are fixed, so each sequence's chain is its own: a chunk of sequences runs all its sweeps, then the
  // next chunk (the same draws as every sweep over the whole corpus, src/kernels/chunks.ts).
  await forEachSequenceChunk(
    first,
    options,
    async (chunk) => {
      let current = start.slice(chunk.tokenStart, chunk.tokenStart + chunk.tokens.length);
      let next = new Int32Array(current.length);
      // kept: one copy of the chunk's assignments per sweep after the burn-in
      const kept: Int32Array[] = [];
      for (let sweep = 0; sweep < sweeps; sweep++) {
        if (current.length > 0) {
          if (sweep > 0) await interruptionPoint(options.signal);
          await kernel.sweep({
            mode: 'lda',
            exact: true,
            mhSteps: 2,
            proposals: 'cycle',
            numTopics: K,
            vocabularySize: V,
            tokens: chunk.tokens,
            offsets: chunk.offsets,
            topicsPrev: current,
            topicsNext: next,
            counts,
            alias,
            beta,
            alpha,
            sequenceSmoothing: 0.1,
            seed: options.seed,
            iteration: sweep,
            firstSequence: chunk.first,
            threads: options.threads,
          });
          [current, next] = [next, current];
        }
        if (sweep >= burnIn) kept.push(current.slice());
      }
      for (let d = chunk.first; d < chunk.end; d++) {
        theta.fill(0);
        const from = chunk.offsets[d - chunk.first];
        const to = chunk.offsets[d + 1 - chunk.first];
        for (const sample of kept) {
          for (let i = from; i < to; i++) theta[sample[i]]++;
        }
        const observed = to - from;
        for (let k = 0; k < K; k++) theta[k] = (theta[k] / kept.length + alpha) / (observed + K * alpha);
        let logLikelihood = 0;
        // run: the length of the run ending before token i, carried along (walking back each time is quadratic in it)
        let run = runLengthBefore(tokens, offsets[d], secondStart[d]);
        for (let i = secondStart[d]; i < offsets[d + 1]; i++) {
          // with the copy component, the history is everything before the token (the first half and the scored part)
          const history = copy ? historyCounts(tokens, offsets[d], i, copy.decay, copy.window, blocks) : null;
          const previous = i > offsets[d] ? tokens[i - 1] : -1;
          logLikelihood += Math.log(ranker.probability(theta, history, tokens[i], previous, run));
          run = tokens[i] === previous ? run + 1 : 1;
        }
        perSequence[d] = logLikelihood;
      }
    },
    sweeps,
  );
}

/** Document-completion perplexity of a topic model (lla, word-lla, lda). */
export async function completionPerplexity(options: CompletionOptions): Promise<CompletionResult> {
  checkFilterOptions('completionPerplexity', options);
  const { corpus } = options;
  const { first, secondStart } = splitHalves(corpus);
  const scored = corpus.tokens.length - first.tokens.length;
  if (scored === 0) {
    throw new Error(
      'completionPerplexity: the held-out corpus has no tokens to score: use a larger --holdout or ' +
        'another --test file',
    );
  }
  const numSequences = corpus.offsets.length - 1;
  let perSequence: Float64Array = new Float64Array(numSequences);
  let method: CompletionResult['method'];
  if (options.mode === 'lda') {
    await ldaCompletion(options, first, secondStart, perSequence);
    method = 'lda-fitted-mix';
  } else {
    const whole = await sequenceLogLikelihoods(options);
    const prefix = await sequenceLogLikelihoods(options, first);
    for (let d = 0; d < numSequences; d++) whole[d] -= prefix[d];
    perSequence = whole;
    method = options.mode === 'word-lla' ? 'exact' : 'particle-filter';
  }
  let logLikelihood = 0;
  for (let d = 0; d < numSequences; d++) logLikelihood += perSequence[d];
  if (!Number.isFinite(logLikelihood)) {
    throw new Error(
      `completionPerplexity: the log-likelihood came out ${logLikelihood}; the counts or weights are ` +
        'probably damaged (NaN or infinite values)',
    );
  }
  return {
    perplexity: Math.exp(-logLikelihood / scored),
    logLikelihood,
    tokens: scored,
    conditioningTokens: first.tokens.length,
    perSequence,
    method,
    outOfVocabulary: options.outOfVocabulary ?? 0,
  };
}
