/**
 * The early check of every command that writes files, run before any work: each output must be a path lla may
 * write (writeTarget: no folders, pipes, devices, dangling links, `-`), none may be one of the command's inputs
 * or another of its outputs, and each folder must take new files (a probe file is created and removed there).
 * So a wrong --out costs a second, not a finished training run, and never an input file.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { realpathSync, statSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { probeTarget, writeTarget } from './targets.js';

/** A file of a command with the name its messages give it: '--out', '--test', 'the training file', ... */
export interface NamedFile {
  path: string;
  name: string;
}

/** Who a file is: its real path, and for a file that exists its device and inode (hard links, case-folding). */
interface Identity {
  real: string;
  device?: number;
  inode?: number;
}

function identityOf(path: string): Identity {
  try {
    const real = realpathSync(path);
    const stats = statSync(real);
    return { real, device: stats.dev, inode: stats.ino };
  } catch {
    // not there (yet): the real path of its folder and its own name
    try {
      return { real: join(realpathSync(dirname(resolve(path))), basename(path)) };
    } catch {
      return { real: resolve(path) };
    }
  }
}

function sameFile(a: Identity, b: Identity): boolean {
  return a.real === b.real || (a.inode !== undefined && a.device === b.device && a.inode === b.inode);
}

/**
 * Refuses (exit 2) outputs that cannot or must not be written; see the file comment. Another spelling of a
 * path, `..`, a symbolic link or a hard link to an input all count as the same file.
 */
export function checkOutputs(command: string, outputs: NamedFile[], inputs: NamedFile[]): void {
  const targets = outputs.map((output) => writeTarget(output.path));
  const inputIdentities = inputs.map((input) => identityOf(input.path));
  const outputIdentities = targets.map((target) => identityOf(target.real));
  outputs.forEach((output, index) => {
    const identity = outputIdentities[index];
    const input = inputs.findIndex((_, at) => sameFile(identity, inputIdentities[at]));
    if (input >= 0) {
      throw new UsageError(
        `lla ${command}: ${output.name} ${output.path} is the same file as ${inputs[input].name} ` +
          `${inputs[input].path}; writing it would replace that input; choose another output path`,
      );
    }
    const other = outputs.findIndex((_, at) => at < index && sameFile(identity, outputIdentities[at]));
    if (other >= 0) {
      throw new UsageError(
        `lla ${command}: ${output.name} ${output.path} is the same file as ${outputs[other].name} ` +
          `${outputs[other].path}; give each output its own path`,
      );
    }
  });
  targets.forEach(probeTarget);
}
