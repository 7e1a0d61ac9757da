/**
 * What is at a path lla is about to write, and whether lla may write there. Every writer goes through
 * writeTarget() (the atomic writer calls it for each file), so the rules hold for every command and checkpoint:
 * - nothing there yet, or a regular file: written (replaced) atomically, by a temporary file and a rename;
 * - a symbolic link to a regular file: the file it points to is replaced, and the link is kept;
 * - a symbolic link to nothing (dangling): refused, since it is unclear what the link was for;
 * - a folder, a named pipe, a device or a socket, directly or through a link: refused, because the rename would
 *   replace it instead of writing into it;
 * - `-` (standard output): refused; lla writes files only.
 * Refusals are InputErrors (exit 2) that say what is at the path and what to do.
 */
import { closeSync, lstatSync, openSync, readlinkSync, realpathSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { faultPoint } from './faults.js';

export interface WriteTarget {
  /** the path as given (what messages name) */
  path: string;
  /** the path written: `path` itself, or the real path of the regular file its symbolic link points to */
  real: string;
  /** the folder of `real`, where the temporary file goes */
  folder: string;
  /** permission bits of the regular file being replaced (kept), undefined for a new file */
  mode: number | undefined;
}

/** The temporary name used while writing `path`: `<path>.<pid>.<random>.tmp` (the pid tells whose it was). */
export function temporaryPathFor(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/** What a non-regular file is, for messages: 'a folder', 'a named pipe', ... */
export function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function refuseKind(path: string, stats: Stats, through: string): InputError {
  const kind = kindOf(stats);
  if (stats.isDirectory()) {
    return new InputError(
      `cannot write here: this path is ${through}a folder; give a file name instead (e.g. append /model.lla)`,
      path,
    );
  }
  return new InputError(
    `cannot write here: this path is ${through}${kind}, not a regular file; lla writes a temporary ` +
      `file and renames it over its target, which would replace ${kind === 'not a regular file' ? 'it' : `the ${kind.slice(2)}`} ` +
      'instead of writing into it; give the path of a regular file',
    path,
  );
}

/**
 * Resolves and checks the target of a write (see the rules above), and that its folder exists and is a folder.
 * Reads only: nothing is created.
 */
export function writeTarget(path: string): WriteTarget {
  if (path === '-') {
    throw new UsageError(
      "cannot write to '-': writing to standard output is not supported (lla writes files " +
        "atomically, through a temporary file and a rename); give a file name (./- for a file named '-')",
    );
  }
  let real = resolve(path);
  let mode: number | undefined;
  let link: Stats | undefined;
  try {
    link = lstatSync(path);
  } catch {
    // nothing there yet: a new file (its folder is checked below)
  }
  if (link?.isSymbolicLink()) {
    try {
      real = realpathSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const points = readLinkText(path);
      throw new InputError(
        code === 'ELOOP'
          ? `cannot write here: this path is a symbolic link in a loop (${points}); remove it or give another path`
          : `cannot write here: this path is a symbolic link to ${points}, which does not exist; lla writes through a ` +
              'link only to an existing file: create that file first, or give another path',
        path,
      );
    }
    const stats = statSync(real);
    if (!stats.isFile()) throw refuseKind(path, stats, `a symbolic link to ${real}, which is `);
    mode = stats.mode & 0o777;
  } else if (link !== undefined) {
    if (!link.isFile()) throw refuseKind(path, link, '');
    mode = link.mode & 0o777;
  }
  const folder = dirname(real);
  let folderStats: Stats;
  try {
    folderStats = statSync(folder);
  } catch (error) {
    throw explainWriteError(error, path, folder);
  }
  if (!folderStats.isDirectory()) {
    throw new InputError(`cannot write here: ${folder} is not a folder; choose an output path inside a folder`, path);
  }
  return { path, real, folder, mode };
}

function readLinkText(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '?';
  }
}

/**
 * Proves, before any work, that the target's folder takes new files: creates and removes a file with the name
 * the temporary file will have (so a name too long or a folder without write permission fail here, not after
 * hours of training).
 */
export function probeTarget(target: WriteTarget): void {
  const probe = temporaryPathFor(target.real);
  try {
    faultPoint(target.real, 'probe');
    closeSync(openSync(probe, 'wx', 0o600));
  } catch (error) {
    throw explainWriteError(error, target.path, target.folder);
  }
  try {
    unlinkSync(probe);
  } catch {
    // created a moment ago by this process: if it cannot be removed, the write itself will say why
  }
}

/** Turns a file-system error code into a message that names the path and says what to do. */
export function explainWriteError(error: unknown, path: string, folder: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new InputError(
        `cannot write: the folder ${folder} does not exist; create it first (mkdir -p ${folder}) or choose another output path`,
        path,
      );
    case 'ENOTDIR':
      return new InputError(
        `cannot write: part of the folder path ${folder} is a file, not a folder; choose another output path`,
        path,
      );
    case 'EACCES':
    case 'EPERM':
      return new InputError(
        `cannot write: no permission to create files in ${folder}; choose a folder you can write to, or change its permissions`,
        path,
      );
    case 'EROFS':
      return new InputError(`cannot write: ${folder} is on a read-only file system; choose another output path`, path);
    case 'ENOSPC':
    case 'EDQUOT':
      return new InputError(
        `cannot write: the disk holding ${folder} is full (or over quota); free some space or choose another output path`,
        path,
      );
    case 'EISDIR':
      return new InputError('cannot write: this path is a folder; give a file name instead', path);
    case 'ENAMETOOLONG':
      return new InputError('cannot write: the file name is too long for this file system; choose a shorter one', path);
    default:
      if (code !== undefined) {
        return new InputError(`cannot write: ${(error as Error).message}`, path);
      }
      return error;
  }
}
