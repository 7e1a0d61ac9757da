/** Shapes shared by the corpus readers, the vocabulary and the corpus builder. */
import type { LineReaderOptions } from './lines.js';

export const CORPUS_FORMATS = ['text', 'events', 'jsonl'] as const;
export type CorpusFormat = (typeof CORPUS_FORMATS)[number];

export interface ReadOptions extends LineReaderOptions {
  /** default: from the file name (see formatFromName) */
  format?: CorpusFormat;
  /** events only: split a user's actions into separate sequences at time gaps longer than this (seconds) */
  sessionGap?: number;
}

/**
 * The whole file as read, before any vocabulary or filtering: sequences of raw token ids, where raw ids number
 * the distinct token strings in order of first appearance in the file.
 */
export interface RawDocuments {
  file: string;
  format: CorpusFormat;
  /** offsets: [D+1] sequence d is tokens[offsets[d] .. offsets[d+1]) */
  offsets: Int32Array;
  /** tokens: [T] raw token ids */
  tokens: Int32Array;
  /** tokenStrings: [R] the string of each raw token id */
  tokenStrings: string[];
  /** ids: [D] user id (events; `user@k` for the k-th session with --session-gap), the jsonl id, or the
   * 1-based line number (text) */
  ids: string[];
  /** input lines read, including blank lines and a header */
  lines: number;
  /** events: distinct users (fewer than the sequences when --session-gap splits them) */
  users?: number;
}

export function documentCount(raw: RawDocuments): number {
  return raw.offsets.length - 1;
}
