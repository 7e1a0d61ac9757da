/**
 * A topic model's training run in its checkpoint (`<out>.ckpt`): what `--checkpoint-every` and a stop write (the
 * sampler's topics and iteration, the LSTM weights and trainer state, the history, and a `--lookahead auto` run's
 * progress) and what `--resume` reads back, refusing a checkpoint of other settings or other data.
 */
import type { ModelFileContents, SectionArray } from '../io/format.js';
import { requireSection } from '../io/format-read.js';
import { restoreTrainerState, trainerStateToCheckpoint } from '../lstm/trainer-checkpoint.js';
import { InputError } from '../errors.js';
import { checkpointPath, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import {
  snapshotFromCheckpoint,
  snapshotToCheckpoint,
  type ChoiceState,
  type LookaheadChoiceResult,
  type RunSnapshot,
} from './lookahead-choice.js';
import { checkTrainerState } from '../lstm/training-stream.js';
import { parameterCount } from '../lstm/weights.js';
import type { IterationRecord, SemState, StopRecord } from './sem.js';
import { SETTING_KEYS, withLegacyDefaults, type ModelSettings } from './settings.js';
import type { TopicTrainingInput } from './trainer.js';

/** The sampler state of `<out>.ckpt`, with the LSTM weights and trainer state restored; null without one. */
export async function resumeFromCheckpoint(
  input: TopicTrainingInput,
  out: string,
): Promise<{
  initialTopics: Int32Array;
  fallbackStartTopics: Int32Array | undefined;
  startIteration: number;
  history: IterationRecord[];
  /** a --lookahead auto run's progress (null: the checkpoint was written before its first run started) */
  choice: ChoiceState | null;
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
    lookaheadChoice?: CheckpointChoice;
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
  return {
    initialTopics,
    fallbackStartTopics,
    startIteration: header.iteration ?? 0,
    history: header.history ?? [],
    choice: header.lookaheadChoice ? await choiceFromCheckpoint(header.lookaheadChoice, saved, input, file) : null,
  };
}

/**
 * Refuses, before any work, a saved snapshot that does not fit this run (its topics, weights or trainer state of
 * another size): it would otherwise fail only when the run gets back to it, a whole run later.
 */
async function checkSnapshotFits(
  snapshot: RunSnapshot,
  name: string,
  input: TopicTrainingInput,
  file: string,
): Promise<void> {
  const lstm = input.lstm;
  let problem: string | null = null;
  if (snapshot.topics.length !== input.train.tokens.length) {
    problem = `${snapshot.topics.length} topics for ${input.train.tokens.length} tokens`;
  } else if (lstm) {
    const parameters = await lstm.getParameters();
    try {
      if (snapshot.lstm.length !== parameterCount(parameters.shape))
        throw new RangeError(`${snapshot.lstm.length} LSTM weights for ${parameterCount(parameters.shape)}`);
      checkTrainerState(snapshot.trainer, parameters.shape);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      problem = error.message;
    }
  }
  if (problem !== null) {
    throw new InputError(
      `its --lookahead auto state (${name}) does not fit this run (${problem}); delete the checkpoint to start over`,
      file,
    );
  }
}

/** A --lookahead auto run's progress in a checkpoint's header (header field `lookaheadChoice`); the snapshots'
 * arrays are sections named `choiceStart...` and `choiceFirst...` (lookahead-choice.ts snapshotToCheckpoint). */
interface CheckpointChoice {
  phase: ChoiceState['phase'];
  start?: unknown;
  first?: { snapshot: unknown; heldInPerplexity: number; stop: StopRecord };
  result?: LookaheadChoiceResult;
  keptStop?: StopRecord;
}

async function choiceFromCheckpoint(
  saved: CheckpointChoice,
  contents: ModelFileContents,
  input: TopicTrainingInput,
  file: string,
): Promise<ChoiceState> {
  const damaged = (why: string): never => {
    throw new InputError(`its --lookahead auto state is damaged (${why}); delete the checkpoint to start over`, file);
  };
  const choice: ChoiceState = { phase: saved.phase, start: null, first: null, result: null, keptStop: null };
  if (saved.phase === 'first') {
    choice.start = snapshotFromCheckpoint(saved.start, contents, 'choiceStart', file);
  } else if (saved.phase === 'second') {
    const first = saved.first;
    if (!first || typeof first.heldInPerplexity !== 'number' || typeof first.stop !== 'object')
      damaged('the first run has no held-in perplexity or stop');
    choice.first = {
      snapshot: snapshotFromCheckpoint(first!.snapshot, contents, 'choiceFirst', file),
      heldInPerplexity: first!.heldInPerplexity,
      stop: first!.stop,
    };
  } else if (saved.phase === 'chosen') {
    if (!saved.result || typeof saved.result.lookahead !== 'boolean' || !saved.keptStop)
      damaged('the choice has no result');
    choice.result = saved.result!;
    choice.keptStop = saved.keptStop!;
  } else if (saved.phase !== 'before') {
    damaged(`unknown phase ${JSON.stringify(saved.phase)}`);
  }
  if (choice.start) await checkSnapshotFits(choice.start, "the runs' start", input, file);
  if (choice.first) await checkSnapshotFits(choice.first.snapshot, 'the first run', input, file);
  return choice;
}

/** A --lookahead auto run's progress as header field and sections (choiceFromCheckpoint reads them back). */
function choiceToCheckpoint(choice: ChoiceState): { header: CheckpointChoice; sections: Record<string, SectionArray> } {
  const header: CheckpointChoice = { phase: choice.phase };
  let sections: Record<string, SectionArray> = {};
  if (choice.phase === 'first' && choice.start) {
    const start = snapshotToCheckpoint(choice.start, 'choiceStart');
    header.start = start.header;
    sections = start.sections;
  } else if (choice.phase === 'second' && choice.first) {
    const snapshot = snapshotToCheckpoint(choice.first.snapshot, 'choiceFirst');
    header.first = {
      snapshot: snapshot.header,
      heldInPerplexity: choice.first.heldInPerplexity,
      stop: choice.first.stop,
    };
    sections = snapshot.sections;
  } else if (choice.phase === 'chosen' && choice.result && choice.keptStop) {
    header.result = choice.result;
    header.keptStop = choice.keptStop;
  }
  return { header, sections };
}

/**
 * Settings a resumed run may change: the M-step engine (either engine continues the other's trainer state) and
 * --tol (it only decides where to stop); checkpoints written before these settings existed have neither.
 */
const RESUME_FREE_KEYS: ReadonlySet<string> = new Set(['lstmEngine', 'tol']);

export async function writeTrainingCheckpoint(
  input: TopicTrainingInput,
  out: string,
  state: SemState,
  history: IterationRecord[],
  choice: ChoiceState | null,
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
  if (choice) {
    const saved = choiceToCheckpoint(choice);
    header.lookaheadChoice = saved.header;
    Object.assign(sections, saved.sections);
  }
  writeCheckpoint(out, { header, sections });
}
