/**
 * Did the first-order hmm start find anything? On data whose topics show only in longer-range order (the
 * second-order corpora of `lla generate`), the context start and the first-order hmm are a fixed point at the
 * unigram and lla stays there (bench/RESULTS.md, issue 15); `--init hmm2:N` is what leaves it. The run cannot tell
 * that from its held-out score alone, but its training likelihood can: after the hmm sweeps, the hmm's complete-data
 * log-likelihood per token (log phi_{z,w} + log A[z_{t-1}][z_t]) is no better than the unigram's, while on every
 * corpus with first-order structure it was far better (at the defaults: the first-order corpus 1.24 nats, the event log
 * 1.96, Brown 0.47; the second-order corpus 0.017 worse: bench/RESULTS.md, "The defaults now"). When it finds
 * nothing, SemState runs the second-order fallback (`--init-fallback N`, settings.ts) on the same test.
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
  /** when it found none and the run had a fallback (`--init-fallback N`): its second-order hmm sweeps, the last
   * one's log-likelihood per token (null until it has run) and whether that beat the unigram (if not, the model went
   * on from the first-order start's topics); null otherwise */
  fallback: { sweeps: number; hmmLogLikelihoodPerToken: number | null; foundStructure: boolean | null } | null;
}

/** Whether an hmm whose complete-data log-likelihood per token is `hmm` found structure beyond the unigram's. */
export function hmmFoundStructure(hmm: number, unigram: number): boolean {
  return Number.isFinite(hmm) && hmm > unigram + START_STRUCTURE_MARGIN;
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
 * before the last of them has run), and of the second-order fallback that SemState ran after them, as the records
 * say (fallbackSweepsTaken). `history` is the run's records, those of a resumed run included.
 */
export function checkStart(
  history: readonly IterationRecord[],
  hmmSweeps: number,
  hmmOrder: number,
  tokens: Int32Array,
  vocabularySize: number,
): StartCheck | null {
  if (hmmSweeps === 0 || hmmOrder !== 1) return null;
  const last = history.find((record) => record.mode === 'hmm' && record.iteration === hmmSweeps);
  if (!last || !Number.isFinite(last.logLikelihoodPerToken)) return null;
  const unigram = unigramLogLikelihoodPerToken(tokens, vocabularySize);
  const foundStructure = hmmFoundStructure(last.logLikelihoodPerToken, unigram);
  let fallback: StartCheck['fallback'] = null;
  const fallbackSweeps = fallbackSweepsTaken(history);
  if (fallbackSweeps > 0) {
    const end = history.find((record) => record.mode === 'hmm' && record.iteration === hmmSweeps + fallbackSweeps);
    fallback = {
      sweeps: fallbackSweeps,
      hmmLogLikelihoodPerToken: end?.logLikelihoodPerToken ?? null,
      foundStructure: end ? hmmFoundStructure(end.logLikelihoodPerToken, unigram) : null,
    };
  }
  return {
    hmmLogLikelihoodPerToken: last.logLikelihoodPerToken,
    unigramLogLikelihoodPerToken: unigram,
    foundStructure,
    fallback,
  };
}

/** How many second-order fallback sweeps the run of `history` took on (0: none): by how much its plan grew when
 * SemState decided, which each record keeps (plannedIterations; older records lack it and had no fallback). */
export function fallbackSweepsTaken(history: readonly IterationRecord[]): number {
  const first = history[0]?.plannedIterations;
  const last = history.at(-1)?.plannedIterations;
  return first === undefined || last === undefined ? 0 : last - first;
}

/** The text output's line when the start found nothing, else null. */
export function describeStartCheck(check: StartCheck | null, iterations: number): string | null {
  if (!check || check.foundStructure) return null;
  const found =
    `found no first-order structure: the hmm's log-likelihood per token ` +
    `${check.hmmLogLikelihoodPerToken.toFixed(3)} against the unigram's ${check.unigramLogLikelihoodPerToken.toFixed(3)}`;
  const fallback = check.fallback;
  if (fallback === null) {
    return (
      `${found}, so the model is likely to stay near the unigram; if the order of the actions matters over more than ` +
      `one step, try --init hmm2:200 --iterations ${Math.max(iterations, 200) + 20}`
    );
  }
  if (fallback.hmmLogLikelihoodPerToken === null) return `${found}; ${fallback.sweeps} second-order hmm sweeps follow`;
  return (
    `${found}; ${fallback.sweeps} second-order hmm sweeps followed (--init-fallback) and ` +
    (fallback.foundStructure
      ? `found structure (log-likelihood per token ${fallback.hmmLogLikelihoodPerToken.toFixed(3)})`
      : `found none either (${fallback.hmmLogLikelihoodPerToken.toFixed(3)}), so the model went on from the ` +
        `first-order start's topics and is likely near the unigram; more sweeps (--init-fallback N) may leave it`)
  );
}
