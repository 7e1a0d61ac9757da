/**
 * `--lookahead auto` (settings.chooseLookahead): lla's own iterations run twice from the end of its
 * initialisation, first with the lookahead factor and then without it, each to its own stop (--tol or the
 * iterations) and its own copy fit; the model keeps the run whose final model (copy component included where it
 * was kept) has the lower held-in perplexity. Why: lookahead learns topics from their order (Brown 2.9% better,
 * the generated corpora), but on an event log where a third of the actions repeat the one before it cost 1.5%
 * over ten seeds; the held-in score preferred no lookahead on that log in 10 of 10 seeds (the held-out score in 8)
 * and lookahead on Brown in 3 of 3 (bench/RESULTS.md).
 *
 * The point both runs start from is a snapshot of the run: its topics and the LSTM's weights and trainer state
 * (the sampler's random streams are keyed by seed and iteration, so nothing else carries over). The chosen run is
 * the same, byte for byte, as a run with that --lookahead setting alone (tested).
 */
import type { ModelFileContents, SectionArray } from '../io/format.js';
import { requireSection } from '../io/format-read.js';
import type { TopicLstmEngine } from '../lstm/topic-lstm.js';
import type { TrainerState } from '../lstm/sequence-model.js';
import { trainerStateFromCheckpoint, trainerStateToCheckpoint } from '../lstm/trainer-checkpoint.js';
import { InputError } from '../errors.js';
import type { SemState, StopRecord } from './sem.js';

/** Where a run of lla stands, enough to continue it: what the sampler and the LSTM engine hold. */
export interface RunSnapshot {
  /** the iterations completed */
  iteration: number;
  /** topics: [T] the sampler's assignments */
  topics: Int32Array;
  /** lstm: [P] the packed LSTM weights */
  lstm: Float32Array;
  /** Adam's moments, the visiting order and the carried states (a copy) */
  trainer: TrainerState;
}

/** The first run's result, kept while the second runs. */
export interface FirstRun {
  snapshot: RunSnapshot;
  /** held-in perplexity of its final model (with its copy component where kept) */
  heldInPerplexity: number;
  stop: StopRecord;
}

/** What a `--lookahead auto` run chose. */
export interface LookaheadChoiceResult {
  lookahead: boolean;
  /** how the kept run's E-step drew */
  exact: boolean;
  /** held-in perplexity of each run's final model, copy component included where kept */
  heldInPerplexity: { lookahead: number; noLookahead: number };
}

/** A choosing run's progress: before the start point, in the first run (lookahead), in the second (without), or
 * done choosing (its final evaluation left). */
export type ChoicePhase = 'before' | 'first' | 'second' | 'chosen';

export interface ChoiceState {
  phase: ChoicePhase;
  /** where both runs start (held while the first runs) */
  start: RunSnapshot | null;
  /** the first run's result (held while the second runs) */
  first: FirstRun | null;
  /** once chosen: what, and why the kept run stopped */
  result: LookaheadChoiceResult | null;
  keptStop: StopRecord | null;
}

/** The snapshot of `state` and `lstm` as they stand now (copies: training goes on writing the engines' buffers). */
export async function takeSnapshot(state: SemState, lstm: TopicLstmEngine): Promise<RunSnapshot> {
  return {
    iteration: state.iteration,
    topics: Int32Array.from(state.topics),
    lstm: Float32Array.from(await lstm.packedParameters()),
    trainer: structuredClone(await lstm.trainerState()),
  };
}

/** Puts `state` and `lstm` back where `snapshot` was taken (the counts rebuilt from its topics). */
export async function restoreSnapshot(state: SemState, lstm: TopicLstmEngine, snapshot: RunSnapshot): Promise<void> {
  state.topics.set(snapshot.topics);
  state.rebuildCounts();
  state.iteration = snapshot.iteration;
  lstm.loadPackedParameters(snapshot.lstm);
  await lstm.setTrainerState(structuredClone(snapshot.trainer));
  state.weights = await lstm.cellWeights();
}

/** A snapshot as checkpoint header field and sections, its sections' names starting with `prefix` (a checkpoint
 * holds the run's own state besides it). */
export function snapshotToCheckpoint(
  snapshot: RunSnapshot,
  prefix: string,
): { header: { iteration: number; lstmTrainer: unknown }; sections: Record<string, SectionArray> } {
  const trainer = trainerStateToCheckpoint(snapshot.trainer, `${prefix}.`);
  return {
    header: { iteration: snapshot.iteration, lstmTrainer: trainer.header },
    sections: { [`${prefix}Topics`]: snapshot.topics, [`${prefix}Lstm`]: snapshot.lstm, ...trainer.sections },
  };
}

/** The snapshot that `saved` holds under `prefix` (snapshotToCheckpoint), its header field being `header`; an
 * InputError naming `file` when it is damaged. */
export function snapshotFromCheckpoint(
  header: unknown,
  saved: ModelFileContents,
  prefix: string,
  file: string,
): RunSnapshot {
  const fields = header as { iteration?: unknown; lstmTrainer?: unknown } | undefined;
  if (typeof fields !== 'object' || fields === null || !Number.isInteger(fields.iteration)) {
    throw new InputError(
      `its --lookahead auto state (${prefix}) is damaged (no iteration); delete the checkpoint to start over`,
      file,
    );
  }
  const trainer = trainerStateFromCheckpoint(fields.lstmTrainer, saved, file, `${prefix}.`);
  if (trainer === null) {
    throw new InputError(
      `its --lookahead auto state (${prefix}) has no LSTM trainer state; delete the checkpoint to start over`,
      file,
    );
  }
  return {
    iteration: fields.iteration as number,
    topics: requireSection(saved, `${prefix}Topics`, 'int32', file),
    lstm: requireSection(saved, `${prefix}Lstm`, 'float32', file),
    trainer,
  };
}
