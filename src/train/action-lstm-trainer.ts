/**
 * The training loop of the action-level LSTM baseline (`--model lstm`): no topics and no kernel sweep, only
 * TF.js training of the next-action model on a token budget per iteration, with the same held-out schedule as
 * the topic models (trainer.ts).
 */
import type { Kernel } from '../kernels/types.js';
import type { ActionLstm } from '../lstm/action-lstm.js';
import { evaluateActionLstm, type EvaluationResult } from '../eval/model-evaluation.js';
import type { IterationRecord } from './sem.js';
import { lstmTokenBudget, type ModelSettings } from './settings.js';
import { heldOutDue, type TrainingLoopOptions } from './trainer.js';
import { InterruptedError } from '../errors.js';

export interface ActionLstmTrainingInput extends Omit<TrainingLoopOptions, 'checkpoint' | 'perplexity'> {
  /** the model's kernel and seed choose the next-action positions, as for the topic models */
  kernel: Kernel;
  settings: ModelSettings;
  vocabularySize: number;
  lstm: ActionLstm;
  /** tokens: [T] action ids; offsets: [D+1] sequence starts */
  train: { tokens: Int32Array; offsets: Int32Array };
  /** sees the history after each iteration, before onProgress */
  onIteration?: (live: { history: IterationRecord[] }) => void;
}

export interface ActionLstmTrainingResult {
  /** one record per iteration completed (the M-step only: estepSeconds is 0) */
  history: IterationRecord[];
  iterations: number;
  mstepSeconds: number;
  heldOut: EvaluationResult | null;
  /** the signal stopped training before the last iteration */
  interrupted: boolean;
}

export async function trainActionLstm(input: ActionLstmTrainingInput): Promise<ActionLstmTrainingResult> {
  const { settings: s, lstm, train, heldOut, signal } = input;
  const history: IterationRecord[] = [];
  let mstepSeconds = 0;
  let lastHeldOut: EvaluationResult | null = null;
  for (let iteration = 1; iteration <= s.iterations; iteration++) {
    if (signal?.aborted) {
      return { history, iterations: iteration - 1, mstepSeconds, heldOut: lastHeldOut, interrupted: true };
    }
    const t0 = performance.now();
    const result = await lstm.train({
      tokens: train.tokens,
      offsets: train.offsets,
      tokenBudget: lstmTokenBudget(s.lstmTokens, train.tokens.length),
      bptt: s.bptt,
      batch: s.batch,
      ...(signal ? { signal } : {}),
    });
    const seconds = (performance.now() - t0) / 1000;
    mstepSeconds += seconds;
    const record: IterationRecord = {
      iteration,
      mode: 'lda',
      seconds,
      estepSeconds: 0,
      mstepSeconds: seconds,
      estepTokensPerSecond: 0,
      mstepTokensPerSecond: result.tokens / Math.max(1e-9, seconds),
      lstmEngine: 'tfjs',
      logLikelihoodPerToken: -result.meanLoss,
      logPhiPerToken: 0,
      lstmLoss: result.meanLoss,
      acceptanceRate: null,
    };
    const last = iteration === s.iterations;
    if (heldOut && heldOut.tokens.length > 0 && heldOutDue(s.evalEvery, iteration, last)) {
      try {
        lastHeldOut = await evaluateActionLstm({
          lstm,
          kernel: input.kernel,
          seed: s.seed,
          vocabularySize: input.vocabularySize,
          corpus: heldOut,
          nextAction: last,
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        if (!(error instanceof InterruptedError)) throw error;
        if (last) {
          throw new InterruptedError(
            'training finished, but its final held-out evaluation was interrupted: nothing ' +
              'was saved (the lstm baseline keeps no checkpoint)',
          );
        }
        history.push(record);
        return { history, iterations: iteration, mstepSeconds, heldOut: lastHeldOut, interrupted: true };
      }
      record.heldOutPerplexity = lastHeldOut.perplexity;
    }
    history.push(record);
    input.onIteration?.({ history });
    input.onProgress?.(record);
  }
  return { history, iterations: s.iterations, mstepSeconds, heldOut: lastHeldOut, interrupted: false };
}
