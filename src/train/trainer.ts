/**
 * The training loop of the topic models (lla, word-lla, lda) around one SemState (sem.ts): resume from a
 * checkpoint, a `--from` start from a trained model's tables, the held-out schedule, checkpoints every N
 * iterations and at a stop, and what training leaves for reports (topic transitions, example trajectories,
 * coherence). The model facade (src/model/model.ts) keeps the results; nothing here reads it.
 */
import type { CellWeights, CopyParameters, CountTables, Kernel } from '../kernels/types.js';
import { compactCounts } from '../kernels/buffers.js';
import type { Vocabulary } from '../corpus/vocabulary.js';
import type { TopicLstmEngine } from '../lstm/topic-lstm.js';
import { restoreTrainerState, trainerStateToCheckpoint } from '../lstm/trainer-checkpoint.js';
import type { SectionArray } from '../io/format.js';
import { requireSection } from '../io/format-read.js';
import { topicCoherence } from '../eval/coherence.js';
import { empiricalTransitions, topicTransitionMatrix } from '../eval/transitions.js';
import {
  evaluateTopicModel,
  type EvaluationCorpus,
  type EvaluationResult,
  type PerplexityProtocol,
} from '../eval/model-evaluation.js';
import { SemState, type IterationRecord, type LstmTrainer, type ModelVariant, type StopRecord } from './sem.js';
import { convergenceTest } from './convergence.js';
import { checkpointPath, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { sampleTopicsWithFixedTables } from './sample-topics.js';
import { contextStartTopics } from './context-start.js';
import { foldInHeldIn } from './fold-in.js';
import { checkStart, fallbackSweepsTaken, type StartCheck } from './start-check.js';
import type { SequenceSlice } from './held-in.js';
import { SETTING_KEYS, filterSettings, lstmTokenBudget, withLegacyDefaults, type ModelSettings } from './settings.js';
import { InputError, InterruptedError } from '../errors.js';

/** The trained state of a topic model: its counts (phi) and how many non-zeros they hold. */
export interface TopicTables {
  counts: CountTables;
  nonZeros: number;
}

/** How many example trajectories training keeps (the longest sequences), and how many positions of each. */
export const TRAJECTORIES_KEPT = 4;
const TRAJECTORY_POSITIONS = 200;

/** A training sequence's sampled topic path (its first TRAJECTORY_POSITIONS positions), kept for reports. */
export interface Trajectory {
  id: string;
  actions: number[];
  topics: number[];
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
  /** after the last iteration, before its held-out evaluation (which then uses it): the copy component fitted
   * with the final tables (copy-fit.ts), or null for none */
  fitCopy?: (final: { counts: CountTables; weights: CellWeights | undefined }) => Promise<CopyParameters | null>;
  /** the held-in slice that fitCopy scores: folded into the final counts once it has (fold-in.ts) */
  heldIn?: SequenceSlice;
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
  /** the copy component that fitCopy returned (null: none, or no fit) */
  copy: CopyParameters | null;
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
  // resume: the checkpoint holds the sampler state (topics, iteration), the LSTM weights and the history
  let initialTopics: Int32Array | undefined;
  let fallbackStartTopics: Int32Array | undefined;
  let startIteration = 0;
  if (checkpoint?.resume) {
    const resumed = await resumeFromCheckpoint(input, checkpoint.out);
    if (resumed) ({ initialTopics, fallbackStartTopics, startIteration, history } = resumed);
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
  // a trained LSTM (--from) needs no initialisation
  const initialising = !input.lstmTrainedBefore && model !== 'lda';
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

  let estepSeconds = 0;
  let mstepSeconds = 0;
  for (const record of history) {
    estepSeconds += record.estepSeconds;
    mstepSeconds += record.mstepSeconds;
  }
  let lastHeldOut: EvaluationResult | null = null;
  let copy: CopyParameters | null = null;
  // folded: the final counts with the held-in slice added, once the copy component is fitted
  let folded: TopicTables | null = null;
  let interrupted = false;
  let stop: StopRecord = { reason: 'iterations', improvement: null, tol: s.tol };
  // after the last iteration: the copy component fitted on the held-in slice, which then rejoins phi
  const finish = async () => {
    if (!input.fitCopy) return;
    copy = await input.fitCopy({ counts: state.counts, weights: state.weights });
    if (input.heldIn) {
      folded = await foldInHeldIn({
        kernel,
        mode: model,
        settings: s,
        vocabularySize: input.vocabulary.size,
        train: state.data,
        topics: state.topics,
        counts: state.counts,
        weights: state.weights,
        heldIn: input.heldIn,
      });
    }
  };
  // during an lda initialisation an LSTM model has no trained weights yet: its perplexity starts afterwards
  const evaluable = () =>
    heldOut !== null && heldOut.tokens.length > 0 && (model === 'lda' || state.weights !== undefined);
  // the held-out evaluation stops at a sequence boundary when the signal is aborted: undefined then
  const evaluate = async (last: boolean): Promise<EvaluationResult | undefined> => {
    try {
      return await evaluateTopicModel({
        kernel,
        mode: model,
        counts: (last ? folded?.counts : undefined) ?? state.counts,
        ...(state.weights ? { weights: state.weights } : {}),
        ...(last && copy ? { copy } : {}),
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
  // a resumed run whose training had ended (all iterations, or converged) before its final evaluation was interrupted
  const finished =
    startIteration > 0 && (startIteration >= state.plannedIterations || history.at(-1)?.stop?.reason === 'converged');
  if (finished && evaluable()) {
    // resumed after the last iteration (its final evaluation was interrupted): only that evaluation is left
    await finish();
    const result = await evaluate(true);
    if (!result) throw finalEvaluationInterrupted(checkpoint?.out);
    lastHeldOut = result;
    if (history.length > 0) history[history.length - 1].heldOutPerplexity = result.perplexity;
  }
  while (!finished && state.iteration < state.plannedIterations) {
    const record = await state.step(trainer);
    estepSeconds += record.estepSeconds;
    mstepSeconds += record.mstepSeconds;
    const convergence = convergenceTest([...history, record], model, s.tol);
    const last = state.iteration === state.plannedIterations || convergence.converged;
    if (last) await finish();
    let evaluationInterrupted = false;
    if (evaluable() && heldOutDue(s.evalEvery, state.iteration, last)) {
      const result = await evaluate(last);
      if (result) {
        lastHeldOut = result;
        record.heldOutPerplexity = result.perplexity;
      } else {
        evaluationInterrupted = true;
      }
    }
    const aborted = input.signal?.aborted === true;
    if (last || aborted) {
      stop = {
        reason: convergence.converged ? 'converged' : last ? 'iterations' : 'interrupted',
        improvement: convergence.improvement,
        tol: s.tol,
      };
      record.stop = stop;
    }
    history.push(record);
    input.onIteration?.({
      tables: { counts: state.counts, nonZeros: state.nonZeros },
      weights: state.weights,
      history,
    });
    input.onProgress?.(record);
    const due =
      checkpoint !== undefined && ((checkpoint.every > 0 && state.iteration % checkpoint.every === 0) || aborted);
    // after the last iteration the model is saved instead, unless the final evaluation was interrupted: the
    // checkpoint then keeps the finished training, and --resume runs only the evaluation
    if (checkpoint && due && (!last || evaluationInterrupted))
      await writeTrainingCheckpoint(input, checkpoint.out, state, history);
    if (last && evaluationInterrupted) throw finalEvaluationInterrupted(checkpoint?.out);
    if (last) break;
    if (aborted) {
      interrupted = true;
      break;
    }
  }
  // keep a compact copy of the tables: the sampler's buffers are sized for the worst case
  const tables = folded ?? { counts: compactCounts(state.counts, state.nonZeros), nonZeros: state.nonZeros };
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
    copy,
    interrupted,
    stop: history.at(-1)?.stop ?? stop,
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

/** The sampler state of `<out>.ckpt`, with the LSTM weights and trainer state restored; null without one. */
async function resumeFromCheckpoint(
  input: TopicTrainingInput,
  out: string,
): Promise<{
  initialTopics: Int32Array;
  fallbackStartTopics: Int32Array | undefined;
  startIteration: number;
  history: IterationRecord[];
} | null> {
  const saved = readCheckpoint(out);
  if (!saved) return null;
  const file = checkpointPath(out);
  const header = saved.header as {
    settings?: ModelSettings;
    iteration?: number;
    history?: IterationRecord[];
    tokens?: number;
    vocabulary?: string[];
    lstmTrainer?: unknown;
  };
  // a checkpoint that predates a setting was written with its old meaning (no lookahead, no hmm initialisation)
  const savedSettings = withLegacyDefaults(header.settings ?? {});
  const differing = SETTING_KEYS.filter(
    (key) => !RESUME_FREE_KEYS.has(key) && JSON.stringify(savedSettings[key]) !== JSON.stringify(input.settings[key]),
  );
  if (
    differing.length > 0 ||
    header.tokens !== input.train.tokens.length ||
    JSON.stringify(header.vocabulary) !== JSON.stringify(input.vocabulary.words)
  ) {
    const what =
      differing.length > 0
        ? `other settings (${differing.map((key) => `${key} ${JSON.stringify(savedSettings[key])} there, ${JSON.stringify(input.settings[key])} here`).join('; ')})`
        : 'other data';
    throw new InputError(
      `this checkpoint was written by a run with ${what}; rerun with the same arguments as the ` +
        'interrupted run, or delete the checkpoint to start over',
      file,
    );
  }
  const initialTopics = requireSection(saved, 'topics', 'int32', file);
  if (input.lstm && saved.sections.lstm) {
    input.lstm.loadPackedParameters(requireSection(saved, 'lstm', 'float32', file));
    // Adam's moments, visiting order and carried states: without them (older checkpoints) training restarts those
    await restoreTrainerState(input.lstm, header.lstmTrainer, saved, file);
  }
  // during the second-order fallback: the first-order start's topics, which it gives back if it finds nothing
  const fallbackStartTopics = saved.sections.fallbackStartTopics
    ? requireSection(saved, 'fallbackStartTopics', 'int32', file)
    : undefined;
  return { initialTopics, fallbackStartTopics, startIteration: header.iteration ?? 0, history: header.history ?? [] };
}

/**
 * Settings a resumed run may change: the M-step engine (either engine continues the other's trainer state) and
 * --tol (it only decides where to stop); checkpoints written before these settings existed have neither.
 */
const RESUME_FREE_KEYS: ReadonlySet<string> = new Set(['lstmEngine', 'tol']);

async function writeTrainingCheckpoint(
  input: TopicTrainingInput,
  out: string,
  state: SemState,
  history: IterationRecord[],
): Promise<void> {
  const sections: Record<string, SectionArray> = { topics: Int32Array.from(state.topics) };
  if (state.fallbackStartTopics) sections.fallbackStartTopics = Int32Array.from(state.fallbackStartTopics);
  const header: Record<string, unknown> = {
    settings: input.settings,
    iteration: state.iteration,
    history,
    tokens: input.train.tokens.length,
    vocabulary: input.vocabulary.words,
  };
  if (input.lstm) {
    sections.lstm = await input.lstm.packedParameters();
    const trainer = trainerStateToCheckpoint(await input.lstm.trainerState());
    header.lstmTrainer = trainer.header;
    Object.assign(sections, trainer.sections);
  }
  writeCheckpoint(out, { header, sections });
}

/** What training leaves for reports: the topic-transition matrix, a few sampled paths, topic coherence. */
function trainingTraces(
  input: TopicTrainingInput,
  state: SemState,
  counts: CountTables,
): Pick<TopicTrainingResult, 'transitions' | 'trajectories' | 'coherence'> {
  const s = input.settings;
  const offsets = state.data.offsets;
  const topics = state.topics;
  const transitions =
    s.model === 'lla' && state.weights
      ? topicTransitionMatrix(input.kernel, offsets, topics, state.weights, s.topics)
      : empiricalTransitions(offsets, topics, s.topics);
  // example trajectories: the longest few sequences, for reports
  const order = Array.from({ length: offsets.length - 1 }, (_, d) => d).sort(
    (a, b) => offsets[b + 1] - offsets[b] - (offsets[a + 1] - offsets[a]) || a - b,
  );
  const trajectories = order.slice(0, TRAJECTORIES_KEPT).map((d) => {
    const end = Math.min(offsets[d + 1], offsets[d] + TRAJECTORY_POSITIONS);
    return {
      id: input.train.ids[d] ?? String(d),
      actions: Array.from(state.data.tokens.subarray(offsets[d], end)),
      topics: Array.from(topics.subarray(offsets[d], end)),
    };
  });
  const vocabularySize = input.vocabulary.size;
  const coherence = topicCoherence(
    counts,
    s.beta,
    { tokens: state.data.tokens, offsets },
    s.topics,
    vocabularySize,
    Math.min(10, Math.max(2, vocabularySize)),
  );
  return {
    transitions: transitions.matrix,
    trajectories,
    coherence: { umass: coherence.meanUmass, npmi: coherence.meanNpmi },
  };
}
