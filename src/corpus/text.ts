/** `text` format: one sequence per line, tokens separated by white space; blank lines hold no sequence. */
import { DocumentBuilder } from './builder.js';
import { forEachLine, type LineReaderOptions } from './lines.js';
import type { RawDocuments } from './types.js';

const WHITE_SPACE = /\s+/;

/** the white-space separated tokens of one line (none for a blank line) */
export function splitTokens(line: string): string[] {
  const trimmed = line.trim();
  return trimmed === '' ? [] : trimmed.split(WHITE_SPACE);
}

export async function readText(path: string, options: LineReaderOptions = {}): Promise<RawDocuments> {
  const builder = new DocumentBuilder();
  const { lines } = await forEachLine(
    path,
    (line, lineNumber) => {
      const tokens = splitTokens(line);
      if (tokens.length === 0) return;
      for (const token of tokens) builder.addToken(token);
      builder.endDocument(String(lineNumber));
    },
    options,
  );
  return builder.finish(path, 'text', lines);
}
