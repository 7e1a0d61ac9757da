// An async call that must fail: uvu's assert has no `rejects`.
import * as assert from 'uvu/assert';

/** Awaits `run`, which must throw an Error whose message matches `pattern`; returns that error. */
export async function rejects(run: () => Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await run();
  } catch (error) {
    assert.instance(error, Error);
    assert.match((error as Error).message, pattern);
    return error as Error;
  }
  return assert.unreachable(`expected a rejection matching ${pattern}`) as never;
}
