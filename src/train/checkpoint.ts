/**
 * Training checkpoints (SPEC section 6): the full sampler state written every N iterations to `<out>.ckpt`, in
 * the same versioned container as model files (kind 'checkpoint'), atomically, so that a run killed at any
 * moment leaves either the previous checkpoint or the new one, never a torn file. `--resume` reads it back.
 */
import { rmSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { ModelFileContents, SectionArray } from '../io/format.js';
import { readModelFile } from '../io/format-read.js';
import { writeModelFile } from '../io/format-write.js';

export interface CheckpointInput {
  /** Caller fields: config, vocabulary, iteration, history, RNG state, ... (JSON, numbers finite). */
  header: Record<string, unknown>;
  sections: Record<string, SectionArray>;
}

/** Where the checkpoint of a run writing the model to `out` lives. */
export function checkpointPath(out: string): string {
  return `${out}.ckpt`;
}

/** Writes (replaces) the checkpoint of the run whose model goes to `out`. */
export function writeCheckpoint(out: string, checkpoint: CheckpointInput): void {
  writeModelFile(checkpointPath(out), { kind: 'checkpoint', header: checkpoint.header, sections: checkpoint.sections });
}

/**
 * Reads the checkpoint of the run whose model goes to `out`: null when there is none, an InputError naming the
 * file when it exists but cannot be used (damaged, truncated, newer format, a model file in its place).
 */
export function readCheckpoint(out: string): ModelFileContents | null {
  const path = checkpointPath(out);
  try {
    statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new InputError(`cannot be read: ${(error as Error).message}`, path);
  }
  return readModelFile(path, { expectKind: 'checkpoint' });
}

/** Removes the checkpoint once the model is safely written (absent already: nothing to do). */
export function removeCheckpoint(out: string): void {
  try {
    rmSync(checkpointPath(out), { force: true });
  } catch (error) {
    throw new InputError(`cannot be removed: ${(error as Error).message}; delete it by hand`, checkpointPath(out));
  }
}
