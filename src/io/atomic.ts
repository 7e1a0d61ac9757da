/**
 * Atomic file replacement: write everything to a temporary file in the target's own folder, flush it to disk,
 * then rename it over the target. A reader (or a run killed mid-write) therefore sees either the old complete
 * file or the new complete file, never a half-written one. The temporary file is in the same folder because a
 * rename is only atomic within one file system.
 */
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.js';

/** The temporary name used while writing `path`: `<path>.<pid>.<random>.tmp` (the pid tells whose it was). */
export function temporaryPathFor(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/**
 * Writes `chunks` (in order) to `path` atomically. On any failure (including an exception thrown while the
 * chunks are being produced) the temporary file is removed and an existing file at `path` is left untouched.
 * File-system failures become an InputError naming the path and the fix; other errors pass through unchanged.
 */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array | string>): void {
  const folder = dirname(resolve(path));
  checkFolder(path, folder);
  const temporary = temporaryPathFor(path);
  let descriptor: number;
  try {
    // 'wx': never reuse (and so never clobber) an existing file of the same name.
    descriptor = openSync(temporary, 'wx', existingMode(path) ?? 0o666);
  } catch (error) {
    throw explainWriteError(error, path, folder);
  }
  let open = true;
  try {
    for (const chunk of chunks) writeWhole(descriptor, typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    fsyncSync(descriptor);
    closeSync(descriptor);
    open = false;
    renameSync(temporary, path);
  } catch (error) {
    if (open) {
      try {
        closeSync(descriptor);
      } catch {
        // already failing: the original error is the one to report
      }
    }
    try {
      unlinkSync(temporary);
    } catch {
      // it may never have been created, or already be gone
    }
    throw explainWriteError(error, path, folder);
  }
  syncFolder(folder);
}

/** writeSync may write fewer bytes than asked (large buffers, some file systems): loop until all are out. */
function writeWhole(descriptor: number, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) {
    // at most 1 GiB per call: writeSync rejects lengths above 2^31 - 1
    written += writeSync(descriptor, bytes, written, Math.min(bytes.length - written, 1 << 30));
  }
}

/** Replacing a file keeps its permission bits (a model a user made group-readable stays so). */
function existingMode(path: string): number | undefined {
  try {
    const stats = statSync(path);
    return stats.isFile() ? stats.mode & 0o777 : undefined;
  } catch {
    return undefined;
  }
}

/** Fails early, before anything is written, when the folder is missing or is not a folder. */
function checkFolder(path: string, folder: string): void {
  let stats;
  try {
    stats = statSync(folder);
  } catch (error) {
    throw explainWriteError(error, path, folder);
  }
  if (!stats.isDirectory()) {
    throw new InputError(`cannot write here: ${folder} is not a folder; choose an output path inside a folder`, path);
  }
  try {
    if (statSync(path).isDirectory()) {
      throw new InputError('cannot write here: this path is a folder; give a file name instead (e.g. append /model.lla)', path);
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    // the target does not exist yet: fine
  }
}

/** Makes the rename itself durable. Not every platform can open a folder for fsync (Windows): best effort. */
function syncFolder(folder: string): void {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(folder, 'r');
    fsyncSync(descriptor);
  } catch {
    // the data is already flushed and renamed; only the folder entry's durability is at stake
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

/** Turns a file-system error code into a message that names the path and says what to do. */
function explainWriteError(error: unknown, path: string, folder: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new InputError(`cannot write: the folder ${folder} does not exist; create it first (mkdir -p ${folder}) or choose another output path`, path);
    case 'ENOTDIR':
      return new InputError(`cannot write: part of the folder path ${folder} is a file, not a folder; choose another output path`, path);
    case 'EACCES':
    case 'EPERM':
      return new InputError(`cannot write: no permission to create files in ${folder}; choose a folder you can write to, or change its permissions`, path);
    case 'EROFS':
      return new InputError(`cannot write: ${folder} is on a read-only file system; choose another output path`, path);
    case 'ENOSPC':
    case 'EDQUOT':
      return new InputError(`cannot write: the disk holding ${folder} is full (or over quota); free some space or choose another output path`, path);
    case 'EISDIR':
      return new InputError('cannot write: this path is a folder; give a file name instead', path);
    default:
      if (code !== undefined) {
        return new InputError(`cannot write: ${(error as Error).message}`, path);
      }
      return error;
  }
}
