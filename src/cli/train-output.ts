/**
 * Where `lla train` writes, checked before any work and made safe at the end: the model (--out) and the
 * checkpoint (<out>.ckpt) must be writable and must not be the run's inputs; a checkpoint left by an
 * interrupted run is neither resumed nor deleted without being asked; and a model that cannot be saved after
 * training is written to a fallback beside it rather than lost.
 */
import { existsSync, lstatSync } from 'node:fs';
import type { CommandIO } from './command.js';
import type { LlaModel } from '../model/model.js';
import { checkOutputs, type NamedFile } from '../io/outputs.js';
import { kindOf } from '../io/targets.js';
import { checkpointPath, readCheckpoint, removeCheckpoint } from '../train/checkpoint.js';
import { InputError, UsageError } from '../errors.js';

export interface TrainFiles {
  out: string;
  resume: boolean;
  overwriteCheckpoint: boolean;
  /** every file the run reads (training file, --test, --stopwords, --from) */
  inputs: NamedFile[];
}

/** Refuses (exit 2) before any work: unwritable or input-clobbering outputs, and a checkpoint not asked about. */
export function checkTrainFiles(files: TrainFiles): void {
  const checkpoint = checkpointPath(files.out);
  if (files.resume && files.overwriteCheckpoint) {
    throw new UsageError(
      'lla train: --resume continues the checkpoint of an interrupted run and --overwrite-checkpoint ' +
        'discards it: give one of them',
    );
  }
  let stats;
  try {
    stats = lstatSync(checkpoint);
  } catch {
    // no checkpoint: nothing to resume or to protect
  }
  // lla writes and deletes <out>.ckpt itself: through a link it would delete the link and leave a stale file behind
  if (stats !== undefined && !stats.isFile()) {
    throw new UsageError(
      `lla train: ${checkpoint}, where this run keeps its checkpoint (<out>.ckpt), is ` +
        `${stats.isSymbolicLink() ? 'a symbolic link' : kindOf(stats)}; the checkpoint is lla's own working file ` +
        '(written, then deleted once the model is saved): move that away, or choose another --out',
    );
  }
  checkOutputs(
    'train',
    [
      { path: files.out, name: '--out' },
      { path: checkpoint, name: 'the checkpoint' },
    ],
    files.inputs,
  );
  if (stats !== undefined && !files.resume && !files.overwriteCheckpoint) {
    throw new UsageError(
      `lla train: ${checkpoint}: a checkpoint of an interrupted run exists: --resume to continue it, ` +
        'or --overwrite-checkpoint to start over',
    );
  }
}

/** Where the model went: `savedTo` is null when it could not be written anywhere; `error` says what failed. */
export interface SaveOutcome {
  savedTo: string | null;
  error: string | null;
}

/** The first of `<out>.fallback`, `<out>.fallback-2`, ... that does not exist (a fallback never replaces a file). */
export function fallbackPath(out: string): string {
  for (let attempt = 1; ; attempt++) {
    const path = `${out}.fallback${attempt === 1 ? '' : `-${attempt}`}`;
    if (!existsSync(path) && !isLink(path)) return path;
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Saves the trained model to `out` and removes the run's checkpoint. If writing `out` fails (a full disk, a
 * folder changed during the run), the model is written to fallbackPath(out) instead; if that fails too, stderr
 * says where the last checkpoint is, which is then kept. Only file-system failures are handled here.
 */
export async function saveTrainedModel(model: LlaModel, out: string, io: CommandIO): Promise<SaveOutcome> {
  try {
    await model.save(out);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return saveToFallback(model, out, error.message, io);
  }
  removeCheckpoint(out);
  return { savedTo: out, error: null };
}

async function saveToFallback(model: LlaModel, out: string, reason: string, io: CommandIO): Promise<SaveOutcome> {
  const fallback = fallbackPath(out);
  const failed = `could not save the model to ${out} (${reason})`;
  try {
    await model.save(fallback);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const message = `${failed}, nor to the fallback ${fallback} (${error.message}); ${lastCheckpoint(out)}`;
    io.stderr.write(`lla train: ${message}\n`);
    return { savedTo: null, error: message };
  }
  const message =
    `${failed}; the trained model was written to ${fallback} instead: move it into place ` +
    `(mv '${fallback}' '${out}') or use it from there`;
  io.stderr.write(`lla train: ${message}\n`);
  try {
    removeCheckpoint(out);
  } catch {
    // the model is safe in the fallback; a checkpoint that cannot be removed only makes the next run ask
  }
  return { savedTo: fallback, error: message };
}

/** What is left of the run when no model file could be written: the last checkpoint, if there is one. */
function lastCheckpoint(out: string): string {
  const path = checkpointPath(out);
  let checkpoint;
  try {
    checkpoint = readCheckpoint(out);
  } catch {
    return `the checkpoint ${path} is there but unreadable; the trained model is lost`;
  }
  if (checkpoint === null) {
    return 'no checkpoint was written (--checkpoint-every N keeps one), so the trained model is lost';
  }
  return (
    `the last checkpoint ${path} (iteration ${String(checkpoint.header.iteration)}) is kept: free some space, then rerun the ` +
    'same command with --resume to finish from there'
  );
}
