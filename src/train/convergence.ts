/**
 * When a training run has converged (`--tol`): the training log-likelihood per token, averaged over the last
 * CONVERGENCE_WINDOW iterations of the model itself, has improved by less than `tol` (relative to its size) on the
 * average of the CONVERGENCE_WINDOW iterations before. Averages, because a stochastic-EM chain's log-likelihood
 * moves by a little noise from sweep to sweep even once the model stops improving; the initialisation sweeps
 * of lla and word-lla (lda or hmm) are left out (their likelihood is another model's).
 */
import type { IterationRecord, StopRecord } from './sem.js';

/** iterations per average: the test needs 2 x this many iterations of the model */
export const CONVERGENCE_WINDOW = 3;

/**
 * The relative improvement of the training log-likelihood per token over the last 2 x CONVERGENCE_WINDOW records
 * whose mode is `mode` (the last window's mean minus the one before, over the last mean's magnitude); null while
 * fewer have run. Negative when the likelihood fell.
 */
export function likelihoodImprovement(history: readonly IterationRecord[], mode: string): number | null {
  const values: number[] = [];
  for (let i = history.length - 1; i >= 0 && values.length < 2 * CONVERGENCE_WINDOW; i--) {
    const record = history[i];
    if (record.mode !== mode) break;
    values.push(record.logLikelihoodPerToken);
  }
  if (values.length < 2 * CONVERGENCE_WINDOW || !values.every(Number.isFinite)) return null;
  const mean = (from: number) =>
    values.slice(from, from + CONVERGENCE_WINDOW).reduce((a, b) => a + b, 0) / CONVERGENCE_WINDOW;
  const recent = mean(0);
  const before = mean(CONVERGENCE_WINDOW);
  return (recent - before) / Math.max(1e-12, Math.abs(recent));
}

/** Whether a run with tolerance `tol` (0: never) stops after `history`, and the record of that test. */
export function convergenceTest(
  history: readonly IterationRecord[],
  mode: string,
  tol: number,
): { converged: boolean; improvement: number | null } {
  const improvement = likelihoodImprovement(history, mode);
  return { converged: tol > 0 && improvement !== null && improvement < tol, improvement };
}

/** What a stop record says, for the text output: e.g. 'converged (log-likelihood per token +0.04% < --tol 0.1%)'. */
export function describeStop(stop: StopRecord): string {
  const percent = (value: number) => `${(100 * value).toPrecision(2)}%`;
  const test =
    stop.improvement === null
      ? ''
      : `log-likelihood per token ${stop.improvement >= 0 ? '+' : ''}${percent(stop.improvement)} ` +
        `over the last ${CONVERGENCE_WINDOW} iterations`;
  switch (stop.reason) {
    case 'converged':
      return `converged: ${test} < --tol ${percent(stop.tol)}`;
    case 'interrupted':
      return 'interrupted (Ctrl-C or a signal)';
    default:
      return `ran every iteration${stop.tol > 0 ? ` (${test || 'the --tol test had too few iterations'}, not below --tol ${percent(stop.tol)})` : ' (--tol 0)'}`;
  }
}
