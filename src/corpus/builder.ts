/** Accumulates sequences of interned tokens into the RawDocuments arrays (used by the text and jsonl readers). */
import { InputError } from '../errors.js';
import { GrowableInt32 } from './growable.js';
import { Interner } from './interner.js';
import type { CorpusFormat, RawDocuments } from './types.js';

export class DocumentBuilder {
  readonly interner = new Interner();
  /** offsets: [D+1] growing */
  private readonly offsets = new GrowableInt32();
  /** tokens: [T] raw ids, growing */
  private readonly tokens = new GrowableInt32(1 << 16);
  private readonly ids: string[] = [];

  constructor() {
    this.offsets.push(0);
  }

  addToken(token: string): void {
    this.tokens.push(this.interner.intern(token));
  }

  /** closes the sequence made of the tokens added since the previous call */
  endDocument(id: string): void {
    this.offsets.push(this.tokens.length);
    this.ids.push(id);
  }

  finish(file: string, format: CorpusFormat, lines: number): RawDocuments {
    return checkNotEmpty({
      file,
      format,
      lines,
      offsets: this.offsets.view().slice(),
      tokens: this.tokens.view().slice(),
      tokenStrings: this.interner.strings,
      ids: this.ids,
    });
  }
}

/** An input without a single token cannot be a corpus: say so instead of training on nothing. */
export function checkNotEmpty(raw: RawDocuments): RawDocuments {
  if (raw.tokens.length === 0) {
    const what =
      raw.lines === 0 ? 'the file is empty' : `${raw.lines} line${raw.lines === 1 ? '' : 's'} but not one token`;
    throw new InputError(
      `empty corpus (${what}): a ${raw.format} corpus needs at least one sequence with ` +
        `tokens${raw.format === 'text' ? '' : `; is --format ${raw.format} right for this file?`}`,
      raw.file,
    );
  }
  return raw;
}
