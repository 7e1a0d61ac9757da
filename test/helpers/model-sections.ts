// The sections of saved model files (counts, transitions, LSTM weights, ...) compared byte for byte: what the
// resume and --lookahead auto tests call "the same model".
import * as assert from 'uvu/assert';
import { readModelFile } from '../../src/io/format-read.js';

/** The sections of a model file as bytes, for exact comparison. */
export function sectionBytes(path: string): Record<string, Buffer> {
  const bytes: Record<string, Buffer> = {};
  for (const [name, array] of Object.entries(readModelFile(path).sections)) {
    bytes[name] = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  }
  return bytes;
}

/** The model files at `expected` and `actual` hold the same sections, byte for byte; `context` starts each message. */
export function assertSameSections(expected: string, actual: string, context = 'after a resume'): void {
  const a = sectionBytes(expected);
  const b = sectionBytes(actual);
  assert.equal(Object.keys(b).sort(), Object.keys(a).sort(), `${context}: the section names`);
  for (const name of Object.keys(a)) assert.ok(a[name].equals(b[name]), `${context}: section ${name} differs`);
}
