/** `jsonl` format: one `{"id": ..., "tokens": [...]}` object per line; tokens are strings or numbers. */
import { InputError } from '../errors.js';
import { DocumentBuilder } from './builder.js';
import { forEachLine, type LineReaderOptions } from './lines.js';
import type { RawDocuments } from './types.js';

const EXAMPLE = 'expected one object per line like {"id": "u1", "tokens": ["a", "b"]}';

export async function readJsonl(path: string, options: LineReaderOptions = {}): Promise<RawDocuments> {
  const builder = new DocumentBuilder();
  const { lines } = await forEachLine(
    path,
    (line, lineNumber) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new InputError(`broken JSON (${(error as Error).message}); ${EXAMPLE}`, path, lineNumber);
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new InputError(`not a JSON object; ${EXAMPLE}`, path, lineNumber);
      }
      const record = value as { id?: unknown; tokens?: unknown };
      if (!Array.isArray(record.tokens)) {
        throw new InputError(`the object has no "tokens" array; ${EXAMPLE}`, path, lineNumber);
      }
      let id = String(lineNumber);
      if (record.id !== undefined && record.id !== null) {
        if (typeof record.id !== 'string' && typeof record.id !== 'number') {
          throw new InputError(`"id" must be a string or a number, got ${JSON.stringify(record.id)}`, path, lineNumber);
        }
        id = String(record.id);
      }
      const tokens = record.tokens as unknown[];
      for (let index = 0; index < tokens.length; index += 1) {
        const token = tokens[index];
        if (typeof token === 'string' && token !== '') builder.addToken(token);
        else if (typeof token === 'number' && Number.isFinite(token)) builder.addToken(String(token));
        else {
          throw new InputError(
            `token ${index + 1} is ${JSON.stringify(token) ?? String(token)}: tokens must be ` +
              'non-empty strings or finite numbers',
            path,
            lineNumber,
          );
        }
      }
      // An explicit object with an empty tokens array is still a sequence (of length 0).
      builder.endDocument(id);
    },
    options,
  );
  return builder.finish(path, 'jsonl', lines);
}
