/**
 * The training loop of the topic models (lla, word-lla, lda) around one SemState (sem.ts): resume from a
 * checkpoint (run-checkpoint.ts), a `--from` start from a trained model's tables, the held-out schedule,
 * checkpoints every N iterations and at a stop, `--lookahead auto`'s two runs and its choice
 * (lookahead-choice.ts), and what training leaves for reports (training-traces.ts). The model facade
 * (src/model/model.ts) keeps the results; nothing here reads it.
 */
import type { CellWeights, CopyParameters, CountTables, Kernel } from '../kernels/types.js';
import { compactCounts } from '../kernels/buffers.js';
import type { Vocabulary } from '../corpus/vocabulary.js';
import type { TopicLstmEngine } from '../lstm/topic-lstm.js';
import {
  evaluateTopicModel,
  type EvaluationCorpus,
  type EvaluationResult,
  type PerplexityProtocol,
} from '../eval/model-evaluation.js';
import { SemState, type IterationRecord, type LstmTrainer, type ModelVariant, type StopRecord } from './sem.js';
import { convergenceTest } from './convergence.js';
import { checkpointPath } from './checkpoint.js';
import { sampleTopicsWithFixedTables } from './sample-topics.js';
import { contextStartTopics } from './context-start.js';
import { foldInHeldIn } from './fold-in.js';
import { checkStart, fallbackSweepsTaken, type StartCheck } from './start-check.js';
import type { SequenceSlice } from './held-in.js';
import { exactFor, filterSettings, lstmTokenBudget, type ModelSettings } from './settings.js';
import type { CopyFit } from './copy-fit.js';
import { restoreSnapshot, takeSnapshot, type ChoiceState, type LookaheadChoiceResult } from './lookahead-choice.js';
import { resumeFromCheckpoint, writeTrainingCheckpoint } from './run-checkpoint.js';
import { InterruptedError } from '../errors.js';
import { trainingTraces, type Trajectory } from './training-traces.js';

export { TRAJECTORIES_KEPT, type Trajectory } from './training-traces.js';

/** The trained state of a topic model: its counts (phi) and how many non-zeros they hold. */
export interface TopicTables {
  counts: CountTables;
  nonZeros: number;
}

/** Training data in the kernel layout, with each sequence's id (for trajectories). */
export interface TrainingCorpus {
  /** tokens: [T] action ids; offsets: [D+1] sequence starts */
  tokens: Int32Array;
  offsets: Int32Array;
  ids: string[];
}

/** What every training loop takes besides the model: held-out data and its schedule, progress, stop, checkpoints. */
export interface TrainingLoopOptions {
  /** evaluated every `evalEvery` iterations and at the end; null: none */
  heldOut: EvaluationCorpus | null;
  perplexity: PerplexityProtocol;
  onProgress?: (record: IterationRecord) => void;
  /** checked at iteration boundaries: the loop ends after the current iteration */
  signal?: AbortSignal;
  /** write a checkpoint to `<out>.ckpt` every `every` iterations (and at a stop); `resume` continues from it */
  checkpoint?: { out: string; every: number; resume: boolean };
}

export interface TopicTrainingInput extends TrainingLoopOptions {
  kernel: Kernel;
  settings: ModelSettings;
  vocabulary: Vocabulary;
  train: TrainingCorpus;
  /** the topic LSTM of either engine, the SEM loop's M-step (null for lda) */
  lstm: TopicLstmEngine | null;
  /** the LSTM was trained before (`--from`): no lda initialisation sweeps */
  lstmTrainedBefore: boolean;
  /** a model trained before (`--from`): the chain starts from topics drawn with its tables */
  previous: { tables: TopicTables; weights: CellWeights | undefined } | null;
  /** the history so far: kept when `--resume` finds no checkpoint, else replaced */
  history: IterationRecord[];
  /** sees the live tables, weights and history after each iteration, before onProgress (so that a progress
   * callback may read the model as it trains) */
  onIteration?: (live: { tables: TopicTables; weights: CellWeights | undefined; history: IterationRecord[] }) => void;
  /** after the last iteration, before its held-out evaluation (which then uses it): the copy component's fit with
   * the final tables (copy-fit.ts), its parameters kept where fit.kept */
  fitCopy?: (final: { counts: CountTables; weights: CellWeights | undefined }) => Promise<CopyFit>;
  /** the held-in slice that fitCopy scores: folded into the final counts once it has (fold-in.ts) */
  heldIn?: SequenceSlice;
  /** repeat: [V] the repeat table of repeat blocks (repeats.ts): `train` and `heldIn` are then collapsed to blocks,
   * and the held-out data (whole sequences) is scored with it */
  repeat?: Float64Array;
  /** `--estep mh|exact` as given (undefined: auto): with chooseLookahead, each run draws as a run with its own
   * --lookahead setting would (settings.ts exactFor) */
  exactGiven?: boolean;
}

export interface TopicTrainingResult {
  /** compact copies of the final counts */
  tables: TopicTables;
  weights: CellWeights | undefined;
  history: IterationRecord[];
  /** transitions: [K][K] row = current topic */
  transitions: Float64Array;
  trajectories: Trajectory[];
  coherence: { umass: number; npmi: number };
  /** iterations completed (resumed ones included), and how many came from a checkpoint */
  iterations: number;
  resumedIterations: number;
  estepSeconds: number;
  mstepSeconds: number;
  /** the last held-out evaluation (null when none ran) */
  heldOut: EvaluationResult | null;
  /** the copy component of the kept fit (null: none, or no fit), and that fit */
  copy: CopyParameters | null;
  copyFit: CopyFit | null;
  /** `--lookahead auto`: the setting kept, how its E-step drew, and both runs' held-in perplexity; null when the run
   * did not choose */
  lookaheadChoice: LookaheadChoiceResult | null;
  /** the signal stopped training before the last iteration */
  interrupted: boolean;
  /** why training stopped (also on the last history record) */
  stop: StopRecord;
  /** whether a first-order hmm start found structure (start-check.ts); null for other starts */
  start: StartCheck | null;
}

/** Whether iteration `iteration` (1-based) scores the held-out data: every `evalEvery` (0: never), and the last. */
export function heldOutDue(evalEvery: number, iteration: number, last: boolean): boolean {
  return (evalEvery > 0 && iteration % evalEvery === 0) || last;
}

export async function trainTopicModel(input: TopicTrainingInput): Promise<TopicTrainingResult> {
  const { kernel, settings: s, train, lstm, heldOut, checkpoint } = input;
  const model = s.model as ModelVariant;
  let history = input.history;
  // a trained LSTM (--from) needs no initialisation
  const initialising = !input.lstmTrainedBefore && model !== 'lda';
  // --lookahead auto: two runs of lla's own iterations from the end of the initialisation (lookahead-choice.ts)
  const choosing =
    s.chooseLookahead &&
    model === 'lla' &&
    initialising &&
    lstm !== null &&
    input.fitCopy !== undefined &&
    input.heldIn !== undefined;
  let choice: ChoiceState | null = choosing
    ? { phase: 'before', start: null, first: null, result: null, keptStop: null }
    : null;
  // resume: the checkpoint holds the sampler state (topics, iteration), the LSTM weights and the history
  let initialTopics: Int32Array | undefined;
  let fallbackStartTopics: Int32Array | undefined;
  let startIteration = 0;
  if (checkpoint?.resume) {
    const resumed = await resumeFromCheckpoint(input, checkpoint.out);
    if (resumed) {
      ({ initialTopics, fallbackStartTopics, startIteration, history } = resumed);
      if (choice && resumed.choice) choice = resumed.choice;
    }
  } else {
    history = [];
  }
  if (!initialTopics && input.previous) {
    // --from: the new data starts from topics drawn with the saved model, not from random topics
    initialTopics = await sampleTopicsWithFixedTables({
      kernel,
      mode: model,
      settings: s,
      vocabularySize: input.vocabulary.size,
      counts: input.previous.tables.counts,
      weights: input.previous.weights,
      tokens: train.tokens,
      offsets: train.offsets,
      sweeps: 2,
    });
  }
  if (!initialTopics && initialising && s.contextStart) {
    initialTopics = contextStartTopics({
      kernel,
      tokens: train.tokens,
      offsets: train.offsets,
      vocabularySize: input.vocabulary.size,
      numTopics: s.topics,
      seed: s.seed,
      threads: s.threads,
    });
  }
  const state = new SemState(
    kernel,
    {
      model,
      numTopics: s.topics,
      vocabularySize: input.vocabulary.size,
      iterations: s.iterations,
      initLdaSweeps: initialising ? s.initLdaSweeps : 0,
      initHmmSweeps: initialising ? s.initHmmSweeps : 0,
      initHmmOrder: s.initHmmOrder,
      initFallbackSweeps: initialising ? s.initFallbackSweeps : 0,
      mhSteps: s.mhSteps,
      exact: s.exact,
      initExact: s.initExact,
      lookahead: s.lookahead,
      proposals: 'cycle',
      alpha: s.alpha,
      beta: s.beta,
      sequenceSmoothing: s.sequenceSmoothing,
      lstmTokens: lstmTokenBudget(s.lstmTokens, train.tokens.length),
      bptt: s.bptt,
      batch: s.batch,
      seed: s.seed,
      threads: s.threads,
    },
    { tokens: train.tokens, offsets: train.offsets },
    initialTopics,
  );
  state.iteration = startIteration;
  // the fallback decision was taken at the last first-order hmm sweep: the records say whether the plan grew
  state.fallbackTaken = fallbackSweepsTaken(history) > 0;
  state.fallbackStartTopics = fallbackStartTopics;
  if (startIteration > 0 && lstm && state.modeOf(startIteration) === model) {
    state.weights = await lstm.cellWeights();
  }
  // the M-step engine behind SemState's LstmTrainer seam: the kernels' trainer or the TF.js topic LSTM
  const trainer: LstmTrainer | null = lstm;
  // a choosing run's E-step from now on: that of a run with this --lookahead setting alone
  const useRun = (lookahead: boolean) => state.useLookahead(lookahead, exactFor(s, lookahead, input.exactGiven));
  // the settings of the run in hand (its lookahead and sampler), for the fold-in after it
  const runSettings = (): ModelSettings =>
    choice ? { ...s, lookahead: state.settings.lookahead, exact: state.settings.exact } : s;
  if (choice?.phase === 'first') useRun(true);
  else if (choice?.phase === 'second') useRun(false);
  else if (choice?.phase === 'chosen') useRun(choice.result!.lookahead);

  let estepSeconds = 0;
  let mstepSeconds = 0;
  for (const record of history) {
    estepSeconds += record.estepSeconds;
    mstepSeconds += record.mstepSeconds;
  }
  let lastHeldOut: EvaluationResult | null = null;
  // the copy fit of the run in hand (the kept run's at the end); its component is the model's where kept
  let copyFit: CopyFit | null = null;
  const keptCopy = (): CopyParameters | null => {
    const fit = copyFit as CopyFit | null;
    return fit?.kept ? fit.parameters : null;
  };
  // folded: the final counts with the held-in slice added, once the copy component is fitted
  let folded: TopicTables | null = null;
  let interrupted = false;
  let stop: StopRecord = { reason: 'iterations', improvement: null, tol: s.tol };
  // after the last iteration: the copy component fitted on the held-in slice, which then rejoins phi
  // (a choosing run's first run folds in only once it is kept: `fold` false)
  const finish = async (fold = true) => {
    if (!input.fitCopy) return;
    copyFit = await input.fitCopy({ counts: state.counts, weights: state.weights });
    if (fold) await foldIn();
  };
  const foldIn = async () => {
    if (input.heldIn) {
      folded = await foldInHeldIn({
        kernel,
        mode: model,
        settings: runSettings(),
        vocabularySize: input.vocabulary.size,
        train: state.data,
        topics: state.topics,
        counts: state.counts,
        weights: state.weights,
        heldIn: input.heldIn,
      });
    }
  };
  // the final model's held-in perplexity (copy component included where kept): what the choice compares
  const heldInPerplexity = (): number => {
    const fit = copyFit as CopyFit | null;
    if (fit === null) throw new Error('the --lookahead auto choice needs the copy fit of each run');
    return fit.kept ? fit.heldInPerplexityWith : fit.heldInPerplexityWithout;
  };
  // the first run (lookahead) ended: keep its result, start the second (without) where the first started
  let firstFit: CopyFit | null = null;
  const startSecondRun = async (firstStop: StopRecord) => {
    await finish(false);
    choice!.first = {
      snapshot: await takeSnapshot(state, lstm!),
      heldInPerplexity: heldInPerplexity(),
      stop: firstStop,
    };
    firstFit = copyFit;
    await restoreSnapshot(state, lstm!, choice!.start!);
    choice!.start = null;
    choice!.phase = 'second';
    useRun(false);
  };
  // the second run ended: keep the run with the lower held-in perplexity (the first on a tie); choice.keptStop says
  // why the kept run stopped
  const choose = async (secondStop: StopRecord): Promise<void> => {
    await finish();
    const first = choice!.first!;
    const second = heldInPerplexity();
    const keepFirst = first.heldInPerplexity <= second;
    if (keepFirst) {
      await restoreSnapshot(state, lstm!, first.snapshot);
      useRun(true);
      // a resumed run lost the first run's fit: it is recomputed, the same from the same tables
      if (firstFit) {
        copyFit = firstFit;
        await foldIn();
      } else {
        await finish();
      }
    }
    choice!.first = null;
    choice!.phase = 'chosen';
    choice!.keptStop = keepFirst ? first.stop : secondStop;
    choice!.result = {
      lookahead: keepFirst,
      exact: state.settings.exact,
      heldInPerplexity: { lookahead: first.heldInPerplexity, noLookahead: second },
    };
  };
  // during an lda initialisation an LSTM model has no trained weights yet: its perplexity starts afterwards
  const evaluable = () =>
    heldOut !== null && heldOut.tokens.length > 0 && (model === 'lda' || state.weights !== undefined);
  // the held-out evaluation stops at a sequence boundary when the signal is aborted: undefined then
  const evaluate = async (last: boolean): Promise<EvaluationResult | undefined> => {
    const copy = last ? keptCopy() : null;
    try {
      return await evaluateTopicModel({
        kernel,
        mode: model,
        counts: (last ? (folded as TopicTables | null)?.counts : undefined) ?? state.counts,
        ...(state.weights ? { weights: state.weights } : {}),
        ...(copy ? { copy } : {}),
        ...(input.repeat ? { repeat: input.repeat } : {}),
        ...filterSettings(s),
        vocabularySize: input.vocabulary.size,
        corpus: heldOut!,
        perplexity: input.perplexity,
        nextAction: last,
        ...(input.signal ? { signal: input.signal } : {}),
      });
    } catch (error) {
      if (error instanceof InterruptedError) return undefined;
      throw error;
    }
  };
  // a resumed run whose training had ended (all iterations, or converged, or a choice made) before its final
  // evaluation was interrupted; a choosing run between or inside its two runs has not ended (its history may end on
  // the first run's last record, converged)
  const betweenRuns = choice?.phase === 'first' || choice?.phase === 'second';
  const finished =
    startIteration > 0 &&
    (choice?.phase === 'chosen' ||
      (!betweenRuns && (startIteration >= state.plannedIterations || history.at(-1)?.stop?.reason === 'converged')));
  if (finished && evaluable()) {
    // resumed after the last iteration (its final evaluation was interrupted): only that evaluation is left
    await finish();
    const result = await evaluate(true);
    if (!result) throw finalEvaluationInterrupted(checkpoint?.out);
    lastHeldOut = result;
    if (history.length > 0) history[history.length - 1].heldOutPerplexity = result.perplexity;
  }
  while (!finished && state.iteration < state.plannedIterations) {
    if (choice?.phase === 'before' && state.modeOf(state.iteration) === model) {
      // the initialisation is over: both runs start from here
      choice.start = await takeSnapshot(state, lstm!);
      choice.phase = 'first';
      useRun(true);
    }
    const record = await state.step(trainer);
    if (choice?.phase === 'first' || choice?.phase === 'second') record.lookahead = state.settings.lookahead;
    estepSeconds += record.estepSeconds;
    mstepSeconds += record.mstepSeconds;
    // the second run's convergence test does not see the first run's records
    const runHistory = choice?.phase === 'second' ? history.filter((past) => past.lookahead !== true) : history;
    const convergence = convergenceTest([...runHistory, record], model, s.tol);
    const runEnds = state.iteration === state.plannedIterations || convergence.converged;
    const runStop: StopRecord = {
      reason: convergence.converged ? 'converged' : 'iterations',
      improvement: convergence.improvement,
      tol: s.tol,
    };
    const firstRunEnds = runEnds && choice?.phase === 'first';
    const last = runEnds && !firstRunEnds;
    if (firstRunEnds) {
      record.stop = runStop;
      if (evaluable() && heldOutDue(s.evalEvery, state.iteration, false)) {
        const result = await evaluate(false);
        if (result) record.heldOutPerplexity = result.perplexity;
      }
      await startSecondRun(runStop);
    } else if (last && choice?.phase === 'second') {
      await choose(runStop);
      stop = choice.keptStop!;
    } else if (last) {
      await finish();
      stop = runStop;
    }
    let evaluationInterrupted = false;
    if (!firstRunEnds && evaluable() && heldOutDue(s.evalEvery, state.iteration, last)) {
      const result = await evaluate(last);
      if (result) {
        lastHeldOut = result;
        record.heldOutPerplexity = result.perplexity;
      } else {
        evaluationInterrupted = true;
      }
    }
    // read after the evaluation: a signal during it stops the run too
    const aborted = input.signal?.aborted === true;
    if (last) {
      // the record of the run that ended last (a choosing run's second) says why that run stopped
      record.stop = runStop;
    } else if (aborted) {
      stop = { reason: 'interrupted', improvement: convergence.improvement, tol: s.tol };
      // the first run's last record keeps why that run stopped
      if (!firstRunEnds) record.stop = stop;
    }
    history.push(record);
    input.onIteration?.({
      tables: { counts: state.counts, nonZeros: state.nonZeros },
      weights: state.weights,
      history,
    });
    input.onProgress?.(record);
    const due =
      checkpoint !== undefined && ((checkpoint.every > 0 && record.iteration % checkpoint.every === 0) || aborted);
    // after the last iteration the model is saved instead, unless the final evaluation was interrupted: the
    // checkpoint then keeps the finished training, and --resume runs only the evaluation
    if (checkpoint && due && (!last || evaluationInterrupted))
      await writeTrainingCheckpoint(input, checkpoint.out, state, history, choice);
    if (last && evaluationInterrupted) throw finalEvaluationInterrupted(checkpoint?.out);
    if (last) break;
    if (aborted) {
      interrupted = true;
      break;
    }
  }
  // keep a compact copy of the tables: the sampler's buffers are sized for the worst case
  const tables = (folded as TopicTables | null) ?? {
    counts: compactCounts(state.counts, state.nonZeros),
    nonZeros: state.nonZeros,
  };
  return {
    tables,
    weights: state.weights,
    history,
    ...trainingTraces(input, state, tables.counts),
    iterations: state.iteration,
    resumedIterations: startIteration,
    estepSeconds,
    mstepSeconds,
    heldOut: lastHeldOut,
    copy: keptCopy(),
    copyFit,
    lookaheadChoice: choice?.result ?? null,
    interrupted,
    stop: finished ? (choice?.keptStop ?? history.at(-1)?.stop ?? stop) : stop,
    start: checkStart(history, initialising ? s.initHmmSweeps : 0, s.initHmmOrder, train.tokens, input.vocabulary.size),
  };
}

/** The stop of a run whose training finished but whose final held-out evaluation was interrupted. */
function finalEvaluationInterrupted(out: string | undefined): InterruptedError {
  return new InterruptedError(
    'training finished, but its final held-out evaluation was interrupted' +
      (out === undefined
        ? ': nothing was saved (without --out there is no checkpoint)'
        : `; the checkpoint ${checkpointPath(out)} holds the trained state: rerun with the same arguments and --resume to evaluate and save it`),
  );
}
