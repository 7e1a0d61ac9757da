/**
 * Errors that are product: each names what failed, why, and how to fix it. The CLI prints `message` alone
 * (no stack trace) and exits with `exitCode`.
 */
export class LlaError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad command-line usage: unknown flag, invalid option value, missing argument. Exit code 2. */
export class UsageError extends LlaError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Bad input data or file: names the file and, where known, the 1-based line. Exit code 2. */
export class InputError extends LlaError {
  readonly file: string | undefined;
  readonly line: number | undefined;
  constructor(problem: string, file?: string, line?: number) {
    const where = file === undefined ? '' : line === undefined ? `${file}: ` : `${file}:${line}: `;
    super(`${where}${problem}`, 2);
    this.file = file;
    this.line = line;
  }
}

/** A kernel backend could not be loaded (every attempt listed in the message). Exit code 1. */
export class BackendError extends LlaError {
  constructor(message: string) {
    super(message, 1);
  }
}

/** The run was interrupted (Ctrl-C / AbortSignal). Exit code 130. */
export class InterruptedError extends LlaError {
  constructor(message = 'interrupted') {
    super(message, 130);
  }
}

/**
 * A point where a long run may stop: lets the event loop run first (a Ctrl-C handler cannot run while a
 * synchronous kernel call holds it), then throws an InterruptedError if `signal` was aborted.
 */
export async function interruptionPoint(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (signal.aborted) throw new InterruptedError('interrupted: stopped before the end, nothing written');
}
