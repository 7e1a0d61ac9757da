/**
 * Fault injection for tests, and only for tests: a full disk cannot be made inside a temporary folder, and a
 * read-only folder does not stop root. A test sets `fileFaults.inject` in-process (nothing else in lla does) to
 * throw, at a chosen step of a chosen file, the error the file system would throw there (an Error with `code`
 * 'ENOSPC' or 'EACCES'); the writers then handle it exactly as they handle the real one.
 */

/** Where a write can fail: the probe file of the early check, creating a temporary file, writing into it. */
export type FileStep = 'probe' | 'create' | 'write';

export const fileFaults: { inject: ((target: string, step: FileStep) => void) | undefined } = { inject: undefined };

/** Called by the writers before each step on `target` (the real path the file will have). */
export function faultPoint(target: string, step: FileStep): void {
  fileFaults.inject?.(target, step);
}
