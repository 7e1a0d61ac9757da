/**
 * The LSTM trainer state (Adam's moments, the scheduler's position, the carried states) as checkpoint header
 * fields and sections, so that `--resume` continues an lla / word-lla run exactly as if it had not stopped.
 * Checkpoints written before these existed simply lack them: the run then resumes with a fresh trainer.
 */
import { InputError } from '../errors.js';
import type { ModelFileContents, SectionArray } from '../io/format.js';
import { requireSection } from '../io/format-read.js';
import type { TrainerState } from './sequence-model.js';

/** The JSON part (header field `lstmTrainer`); the arrays go to the sections named in SECTIONS. */
interface TrainerHeader {
  adam: TrainerState['adam'];
  schedulersCreated: number;
  scheduler: { batch: number; cursor: number; randomState: number } | null;
}

const SECTIONS = {
  /** lstmAdamMoments: [2][P] float32, see TrainerState.adamMoments */
  adamMoments: 'lstmAdamMoments',
  /** lstmSchedulerOffsets: [D+1] int32 */
  offsets: 'lstmSchedulerOffsets',
  /** lstmSchedulerOrder: [D'] int32 */
  order: 'lstmSchedulerOrder',
  /** lstmSchedulerLanes: [B][2] int32 (sequence, position) */
  lanes: 'lstmSchedulerLanes',
  /** lstmHidden, lstmCell: [B][H] float32 */
  hidden: 'lstmHidden',
  cell: 'lstmCell',
} as const;

/** Header field and sections to add to a checkpoint; `prefix` starts each section's name (a checkpoint that holds
 * more than one trainer state, lookahead-choice.ts). */
export function trainerStateToCheckpoint(
  state: TrainerState,
  prefix = '',
): {
  header: TrainerHeader;
  sections: Record<string, SectionArray>;
} {
  const sections: Record<string, SectionArray> = {};
  if (state.adam !== null) sections[prefix + SECTIONS.adamMoments] = state.adamMoments;
  let scheduler: TrainerHeader['scheduler'] = null;
  if (state.scheduler !== null) {
    const { batch, cursor, randomState } = state.scheduler;
    scheduler = { batch, cursor, randomState };
    sections[prefix + SECTIONS.offsets] = state.scheduler.offsets;
    sections[prefix + SECTIONS.order] = state.scheduler.order;
    sections[prefix + SECTIONS.lanes] = state.scheduler.lanes;
    sections[prefix + SECTIONS.hidden] = state.scheduler.hidden;
    sections[prefix + SECTIONS.cell] = state.scheduler.cell;
  }
  return { header: { adam: state.adam, schedulersCreated: state.schedulersCreated, scheduler }, sections };
}

/**
 * Restores into `lstm` the trainer state of a checkpoint (header field `lstmTrainer`, after its weights were
 * loaded); false when the checkpoint predates it. A state that does not fit this network or corpus is reported
 * as an InputError naming `file`.
 */
export async function restoreTrainerState(
  lstm: { setTrainerState(state: TrainerState): Promise<void> },
  header: unknown,
  contents: ModelFileContents,
  file: string,
  prefix = '',
): Promise<boolean> {
  const state = trainerStateFromCheckpoint(header, contents, file, prefix);
  if (state === null) return false;
  try {
    await lstm.setTrainerState(state);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new InputError(
      `its LSTM trainer state does not fit this run (${error.message}); delete the checkpoint to start over`,
      file,
    );
  }
  return true;
}

/**
 * The trainer state of a checkpoint whose header field `lstmTrainer` is `header` (its sections' names starting with
 * `prefix`); null for a checkpoint written without it (older lla). Throws an InputError naming `file` when the field
 * or its sections are damaged.
 */
export function trainerStateFromCheckpoint(
  header: unknown,
  contents: ModelFileContents,
  file: string,
  prefix = '',
): TrainerState | null {
  if (header === undefined) return null;
  const damaged = (why: string): never => {
    throw new InputError(`its LSTM trainer state is damaged (${why}); delete the checkpoint to start over`, file);
  };
  if (typeof header !== 'object' || header === null) return damaged('lstmTrainer is not an object');
  const fields = header as Partial<TrainerHeader>;
  const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;
  if (!isCount(fields.schedulersCreated)) damaged('schedulersCreated is not a count');
  let adam: TrainerState['adam'] = null;
  let adamMoments: Float32Array = new Float32Array(0);
  if (fields.adam !== null) {
    const saved = fields.adam;
    if (
      typeof saved !== 'object' ||
      !isCount(saved.steps) ||
      typeof saved.beta1Power !== 'number' ||
      typeof saved.beta2Power !== 'number'
    ) {
      return damaged('adam lacks steps or beta powers');
    }
    adam = { steps: saved.steps, beta1Power: saved.beta1Power, beta2Power: saved.beta2Power };
    adamMoments = requireSection(contents, prefix + SECTIONS.adamMoments, 'float32', file);
  }
  let scheduler: TrainerState['scheduler'] = null;
  if (fields.scheduler !== null) {
    const saved = fields.scheduler;
    if (typeof saved !== 'object' || !isCount(saved.batch) || !isCount(saved.cursor) || !isCount(saved.randomState)) {
      return damaged('scheduler lacks batch, cursor or randomState');
    }
    scheduler = {
      batch: saved.batch,
      cursor: saved.cursor,
      randomState: saved.randomState,
      offsets: requireSection(contents, prefix + SECTIONS.offsets, 'int32', file),
      order: requireSection(contents, prefix + SECTIONS.order, 'int32', file),
      lanes: requireSection(contents, prefix + SECTIONS.lanes, 'int32', file),
      hidden: requireSection(contents, prefix + SECTIONS.hidden, 'float32', file),
      cell: requireSection(contents, prefix + SECTIONS.cell, 'float32', file),
    };
  }
  return { adam, adamMoments, schedulersCreated: fields.schedulersCreated!, scheduler };
}
