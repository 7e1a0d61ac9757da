/**
 * Runs the real `lla` executable (bin/lla.js: the compiled dist/ when it exists, so build first) in a child
 * process, so that exit codes and output are exactly what a user sees.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** the project root (this file is test/helpers/cli.ts) */
export const projectRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `lla ...argv` from `cwd` (default: the project root); `env` replaces the environment (default: this one, without
 * colours). */
export function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' },
  cwd = projectRoot,
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(projectRoot, 'bin', 'lla.js'), ...argv],
      { cwd, maxBuffer: 1 << 28, env },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** The last line of a --json run, parsed (the result object). */
export function lastJson(run: CliRun): Record<string, any> {
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}
