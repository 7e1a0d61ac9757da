/**
 * The corpus the kernels consume: sequences of vocabulary ids in two flat Int32Arrays, which can be allocated
 * by the kernel (in WASM memory, zero-copy) through `allocInt32`.
 */
import { readDocuments } from './documents.js';
import type { CorpusFormat, RawDocuments, ReadOptions } from './types.js';
import { buildVocabulary, Vocabulary, type VocabularyOptions } from './vocabulary.js';

export interface CorpusOptions {
  /** split sequences longer than this into pieces of at most this many tokens (default: no limit) */
  maxLength?: number;
  /** keep sequences that have no token left after filtering (default false: drop and count them) */
  keepEmpty?: boolean;
  /** allocates the offsets and tokens arrays (default: plain Int32Array) */
  allocInt32?: (length: number) => Int32Array;
}

export interface Corpus {
  file: string;
  format: CorpusFormat;
  vocabulary: Vocabulary;
  /** offsets: [D+1] sequence d is tokens[offsets[d] .. offsets[d+1]) */
  offsets: Int32Array;
  /** tokens: [T] vocabulary ids, 0 <= id < V */
  tokens: Int32Array;
  /** ids: [D] the raw sequence id; pieces of a chunked sequence are `id#1`, `id#2`, ... */
  ids: string[];
  /** sourceIndex: [D] the raw document each sequence comes from */
  sourceIndex: Int32Array;
  /** tokens of the selected raw sequences that are not in the vocabulary (skipped) */
  skippedTokens: number;
  /** selected raw sequences left without any token (dropped unless keepEmpty) */
  droppedSequences: number;
  /** raw sequences split into several pieces by maxLength */
  chunkedSequences: number;
}

/** The vocabulary id of every raw action: rawToId [R], -1 where the action is not in the vocabulary. */
export function vocabularyIds(raw: RawDocuments, vocabulary: Vocabulary): Int32Array {
  return Int32Array.from(raw.tokenStrings, (token) => vocabulary.id(token));
}

/**
 * The sequences `indices` of `raw` (all when omitted, in file order) mapped through `vocabulary`.
 */
export function toCorpus(
  raw: RawDocuments,
  indices: ArrayLike<number> | undefined,
  vocabulary: Vocabulary,
  options: CorpusOptions = {},
): Corpus {
  const maxLength = options.maxLength ?? Infinity;
  if (!(maxLength >= 1) || (maxLength !== Infinity && !Number.isInteger(maxLength))) {
    throw new Error(`toCorpus: maxLength must be a whole number >= 1, got ${maxLength}`);
  }
  const allocate = options.allocInt32 ?? ((length: number) => new Int32Array(length));
  const documents = raw.offsets.length - 1;
  const selected = indices?.length ?? documents;
  const rawToId = vocabularyIds(raw, vocabulary);
  // keptTokens: [selected] tokens of each selected sequence found in the vocabulary
  const keptTokens = new Int32Array(selected);
  let totalTokens = 0;
  let totalPieces = 0;
  let skippedTokens = 0;
  let droppedSequences = 0;
  let chunkedSequences = 0;
  for (let at = 0; at < selected; at += 1) {
    const document = indices === undefined ? at : indices[at];
    if (!(document >= 0 && document < documents))
      throw new Error(`toCorpus: sequence index ${document} out of range [0, ${documents})`);
    let kept = 0;
    for (let position = raw.offsets[document]; position < raw.offsets[document + 1]; position += 1) {
      if (rawToId[raw.tokens[position]] >= 0) kept += 1;
    }
    skippedTokens += raw.offsets[document + 1] - raw.offsets[document] - kept;
    keptTokens[at] = kept;
    totalTokens += kept;
    if (kept === 0) {
      if (options.keepEmpty) totalPieces += 1;
      else droppedSequences += 1;
    } else {
      // kept / Infinity is 0: an unlimited length still makes one piece.
      const pieces = Math.max(1, Math.ceil(kept / maxLength));
      if (pieces > 1) chunkedSequences += 1;
      totalPieces += pieces;
    }
  }

  const tokens = allocate(totalTokens);
  const offsets = allocate(totalPieces + 1);
  // A WASM allocator that grows its memory detaches views handed out before: catch that here, not later.
  if (tokens.length !== totalTokens || offsets.length !== totalPieces + 1) {
    throw new Error(
      `toCorpus: the allocator returned arrays of length ${tokens.length} and ${offsets.length}, ` +
        `expected ${totalTokens} and ${totalPieces + 1} (did a later allocation detach an earlier view?)`,
    );
  }
  const ids: string[] = [];
  const sourceIndex = new Int32Array(totalPieces);
  let written = 0;
  let piece = 0;
  offsets[0] = 0;
  for (let at = 0; at < selected; at += 1) {
    const document = indices === undefined ? at : indices[at];
    const kept = keptTokens[at];
    if (kept === 0 && !options.keepEmpty) continue;
    const pieces = Math.max(1, Math.ceil(kept / maxLength));
    let inPiece = 0;
    let pieceNumber = 1;
    for (let position = raw.offsets[document]; position < raw.offsets[document + 1]; position += 1) {
      const id = rawToId[raw.tokens[position]];
      if (id < 0) continue;
      if (inPiece === maxLength) {
        sourceIndex[piece] = document;
        ids.push(`${raw.ids[document]}#${pieceNumber}`);
        piece += 1;
        offsets[piece] = written;
        pieceNumber += 1;
        inPiece = 0;
      }
      tokens[written++] = id;
      inPiece += 1;
    }
    sourceIndex[piece] = document;
    ids.push(pieces > 1 ? `${raw.ids[document]}#${pieceNumber}` : raw.ids[document]);
    piece += 1;
    offsets[piece] = written;
  }
  return {
    file: raw.file,
    format: raw.format,
    vocabulary,
    offsets,
    tokens,
    ids,
    sourceIndex,
    skippedTokens,
    droppedSequences,
    chunkedSequences,
  };
}

export interface LoadCorpusOptions extends ReadOptions, VocabularyOptions, CorpusOptions {
  /** map through this vocabulary (e.g. a trained model's) instead of building one from the whole file */
  vocabulary?: Vocabulary;
}

/** Reads a file and returns every sequence as a corpus: the one-call path for inference and tools. */
export async function loadCorpus(path: string, options: LoadCorpusOptions = {}): Promise<Corpus> {
  const raw = await readDocuments(path, options);
  const vocabulary = options.vocabulary ?? buildVocabulary(raw, undefined, options).vocabulary;
  return toCorpus(raw, undefined, vocabulary, options);
}
