/**
 * Did the first-order hmm start find anything? On data whose topics show only in longer-range order (the
 * second-order corpora of `lla generate`), the context start and the first-order hmm are a fixed point at the
 * unigram and lla stays there (bench/RESULTS.md, issue 15); `--init hmm2:N` is what leaves it. The run cannot tell
 * that from its held-out score alone, but its training likelihood can: after the hmm sweeps, the hmm's complete-data
 * log-likelihood per token (log phi_{z,w} + log A[z_{t-1}][z_t]) is no better than the unigram's, while on every
 * corpus with first-order structure it was far better (at the defaults: the first-order corpus 1.24 nats, the event log
 * 1.96, Brown 0.47; the second-order corpus 0.017 worse: bench/RESULTS.md, "The defaults now").
 */
import type { IterationRecord } from './sem.js';

/** The hmm must beat the unigram by this much log-likelihood per token (nats) to count as having found structure. */
export const START_STRUCTURE_MARGIN = 0.01;

export interface StartCheck {
  /** the last first-order hmm sweep's complete-data log-likelihood per token */
  hmmLogLikelihoodPerToken: number;
  /** the training tokens' log-likelihood per token under their own unigram (maximum likelihood) */
  unigramLogLikelihoodPerToken: number;
  /** hmmLogLikelihoodPerToken exceeds the unigram's by at least START_STRUCTURE_MARGIN */
  foundStructure: boolean;
}

/** The mean log-likelihood of `tokens` ([T] action ids below `vocabularySize`) under their own frequencies. */
export function unigramLogLikelihoodPerToken(tokens: Int32Array, vocabularySize: number): number {
  if (tokens.length === 0) return 0;
  const counts = new Float64Array(vocabularySize);
  for (let t = 0; t < tokens.length; t++) counts[tokens[t]!]! += 1;
  let total = 0;
  for (let w = 0; w < vocabularySize; w++) {
    const n = counts[w]!;
    if (n > 0) total += n * Math.log(n / tokens.length);
  }
  return total / tokens.length;
}

/**
 * The check of a run whose initialisation was `hmmSweeps` first-order hmm sweeps (null for any other start, or
 * before the last of them has run). `history` is the run's records, those of a resumed run included.
 */
export function checkStart(
  history: readonly IterationRecord[],
  hmmSweeps: number,
  hmmOrder: number,
  tokens: Int32Array,
  vocabularySize: number,
): StartCheck | null {
  if (hmmSweeps === 0 || hmmOrder !== 1) return null;
  const last = history.filter((record) => record.mode === 'hmm').at(-1);
  if (!last || last.iteration < hmmSweeps || !Number.isFinite(last.logLikelihoodPerToken)) return null;
  const unigram = unigramLogLikelihoodPerToken(tokens, vocabularySize);
  return {
    hmmLogLikelihoodPerToken: last.logLikelihoodPerToken,
    unigramLogLikelihoodPerToken: unigram,
    foundStructure: last.logLikelihoodPerToken > unigram + START_STRUCTURE_MARGIN,
  };
}

/** The text output's line when the start found nothing, else null. */
export function describeStartCheck(check: StartCheck | null, iterations: number): string | null {
  if (!check || check.foundStructure) return null;
  return (
    `found no first-order structure: the hmm's log-likelihood per token ` +
    `${check.hmmLogLikelihoodPerToken.toFixed(3)} against the unigram's ${check.unigramLogLikelihoodPerToken.toFixed(3)}, ` +
    `so the model is likely to stay near the unigram; if the order of the actions matters over more than one ` +
    `step, try --init hmm2:100 --iterations ${Math.max(iterations, 100) + 10}`
  );
}
