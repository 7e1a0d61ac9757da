/**
 * Atomic file replacement: write everything to a temporary file in the target's own folder, flush it to disk,
 * then rename it over the target. A reader (or a run killed mid-write) therefore sees either the old complete
 * file or the new complete file, never a half-written one. The temporary file is in the same folder because a
 * rename is only atomic within one file system. What may be written at all (symbolic links, pipes, folders) is
 * decided by writeTarget() in targets.ts.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { InputError } from '../errors.js';
import { faultPoint } from './faults.js';
import { explainWriteError, temporaryPathFor, writeTarget, type WriteTarget } from './targets.js';

export interface FileToWrite {
  path: string;
  /** the content in order; produced lazily, so a big file is never one string */
  chunks: Iterable<Uint8Array | string>;
}

/**
 * Writes `chunks` (in order) to `path` atomically. On any failure (including an exception thrown while the
 * chunks are being produced) the temporary file is removed and an existing file at `path` is left untouched.
 * File-system failures become an InputError naming the path and the fix; other errors pass through unchanged.
 */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array | string>): void {
  writeFilesAtomic([{ path, chunks }]);
}

/**
 * Writes the outputs of one command as a whole: every file goes to its own temporary file first, and only when
 * all of them are complete and flushed are they renamed into place. Any failure before that (a full disk on the
 * third file, an error while producing the chunks) removes every temporary file and leaves every target as it
 * was. The renames themselves only fail if the folders change under lla; then the message names the files
 * already replaced.
 */
export function writeFilesAtomic(files: FileToWrite[]): void {
  const targets = files.map((file) => writeTarget(file.path));
  const temporaries: string[] = [];
  try {
    files.forEach((file, index) => temporaries.push(writeTemporary(targets[index], file.chunks)));
  } catch (error) {
    temporaries.forEach(removeQuietly);
    throw error;
  }
  let renamed = 0;
  try {
    for (; renamed < targets.length; renamed++) renameSync(temporaries[renamed], targets[renamed].real);
  } catch (error) {
    temporaries.slice(renamed).forEach(removeQuietly);
    const explained = explainWriteError(error, targets[renamed].path, targets[renamed].folder);
    if (renamed === 0 || !(explained instanceof InputError)) throw explained;
    throw new InputError(
      `${explained.message}; already replaced: ${targets
        .slice(0, renamed)
        .map((t) => t.path)
        .join(', ')}`,
    );
  }
  for (const folder of new Set(targets.map((target) => target.folder))) syncFolder(folder);
}

/** Writes one file's chunks to a new temporary file beside its target, flushed; returns the temporary's path. */
function writeTemporary(target: WriteTarget, chunks: Iterable<Uint8Array | string>): string {
  const temporary = temporaryPathFor(target.real);
  let descriptor: number;
  try {
    faultPoint(target.real, 'create');
    // 'wx': never reuse (and so never clobber) an existing file of the same name.
    descriptor = openSync(temporary, 'wx', target.mode ?? 0o666);
  } catch (error) {
    throw explainWriteError(error, target.path, target.folder);
  }
  let open = true;
  try {
    for (const chunk of chunks) {
      faultPoint(target.real, 'write');
      writeWhole(descriptor, typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    }
    fsyncSync(descriptor);
    closeSync(descriptor);
    open = false;
    return temporary;
  } catch (error) {
    if (open) {
      try {
        closeSync(descriptor);
      } catch {
        // already failing: the original error is the one to report
      }
    }
    removeQuietly(temporary);
    throw explainWriteError(error, target.path, target.folder);
  }
}

function removeQuietly(temporary: string): void {
  try {
    unlinkSync(temporary);
  } catch {
    // it may never have been created, or already be gone
  }
}

/** writeSync may write fewer bytes than asked (large buffers, some file systems): loop until all are out. */
function writeWhole(descriptor: number, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) {
    // at most 1 GiB per call: writeSync rejects lengths above 2^31 - 1
    written += writeSync(descriptor, bytes, written, Math.min(bytes.length - written, 1 << 30));
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
