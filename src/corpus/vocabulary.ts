/**
 * The action vocabulary: ids 0..V-1 by descending training frequency (ties: first appearance in the file),
 * built from the training split only, so held-out sequences can contain unseen actions (id -1, skipped and
 * counted by the callers). Serialised as the array of action strings in id order.
 */
import { InputError } from '../errors.js';
import type { RawDocuments } from './types.js';

/** Actions seen fewer times than this in training are dropped unless asked otherwise (1: keep all). */
export const DEFAULT_MIN_COUNT = 1;

export interface VocabularyOptions {
  /** drop actions seen fewer times than this in the training split (default 1: keep all) */
  minCount?: number;
  /** keep at most this many of the most frequent actions (default: no limit) */
  maxVocab?: number;
  /** actions never to keep */
  stopwords?: ReadonlySet<string>;
  /** drop actions occurring in more than this fraction of the training sequences (default 1: keep all) */
  maxDf?: number;
}

export class Vocabulary {
  /** words: [V] the action string of each id */
  readonly words: readonly string[];
  /** counts: [V] training frequency of each id, when known (a vocabulary read back from a list has none) */
  readonly counts: Int32Array | undefined;
  private readonly index: Map<string, number>;

  constructor(words: readonly string[], counts?: Int32Array) {
    if (counts !== undefined && counts.length !== words.length) {
      throw new Error(`Vocabulary: ${words.length} words but ${counts.length} counts; pass one count per word`);
    }
    this.index = new Map();
    words.forEach((word, id) => {
      if (typeof word !== 'string') throw new Error(`Vocabulary: entry ${id} is not a string`);
      if (this.index.has(word))
        throw new Error(`Vocabulary: '${word}' appears twice (ids ${this.index.get(word)} and ${id})`);
      this.index.set(word, id);
    });
    this.words = words.slice();
    this.counts = counts;
  }

  get size(): number {
    return this.words.length;
  }

  /** the id of `word`, or -1 when it is not in the vocabulary */
  id(word: string): number {
    return this.index.get(word) ?? -1;
  }

  word(id: number): string {
    const word = this.words[id];
    if (word === undefined) throw new RangeError(`Vocabulary: no action with id ${id} (size ${this.size})`);
    return word;
  }

  /** the persisted form: the action strings in id order */
  toJSON(): string[] {
    return this.words.slice();
  }

  static fromJSON(value: unknown): Vocabulary {
    if (!Array.isArray(value) || value.some((word) => typeof word !== 'string')) {
      throw new Error('Vocabulary.fromJSON: expected an array of strings');
    }
    return new Vocabulary(value as string[]);
  }
}

export interface VocabularyBuild {
  vocabulary: Vocabulary;
  /** removed: distinct raw actions of the training split left out, by the first rule that removed them */
  removed: { stopwords: number; maxDf: number; minCount: number; maxVocab: number };
}

/**
 * Builds the vocabulary from the sequences `trainIndices` of `raw` (all sequences when omitted).
 */
export function buildVocabulary(
  raw: RawDocuments,
  trainIndices?: ArrayLike<number>,
  options: VocabularyOptions = {},
): VocabularyBuild {
  const minCount = options.minCount ?? DEFAULT_MIN_COUNT;
  const maxVocab = options.maxVocab ?? Infinity;
  const maxDf = options.maxDf ?? 1;
  if (!Number.isInteger(minCount) || minCount < 1)
    throw new Error(`buildVocabulary: minCount must be an integer >= 1, got ${minCount}`);
  if (!(maxVocab >= 1)) throw new Error(`buildVocabulary: maxVocab must be >= 1, got ${maxVocab}`);
  if (!(maxDf > 0 && maxDf <= 1)) throw new Error(`buildVocabulary: maxDf must be in (0, 1], got ${maxDf}`);
  const documents = raw.offsets.length - 1;
  const rawCount = raw.tokenStrings.length;
  // counts: [R] occurrences of each raw action in the training split; documentFrequency: [R] training
  // sequences containing it; lastDocument: [R] the last sequence that counted it (to count each once)
  const counts = new Int32Array(rawCount);
  const documentFrequency = new Int32Array(rawCount);
  const lastDocument = new Int32Array(rawCount).fill(-1);
  const trainCount = trainIndices?.length ?? documents;
  for (let at = 0; at < trainCount; at += 1) {
    const document = trainIndices === undefined ? at : trainIndices[at];
    if (!(document >= 0 && document < documents))
      throw new Error(`buildVocabulary: sequence index ${document} out of range [0, ${documents})`);
    for (let position = raw.offsets[document]; position < raw.offsets[document + 1]; position += 1) {
      const token = raw.tokens[position];
      counts[token] += 1;
      if (lastDocument[token] !== document) {
        lastDocument[token] = document;
        documentFrequency[token] += 1;
      }
    }
  }
  const removed = { stopwords: 0, maxDf: 0, minCount: 0, maxVocab: 0 };
  const maxDocuments = maxDf * trainCount;
  const kept: number[] = [];
  for (let token = 0; token < rawCount; token += 1) {
    if (counts[token] === 0) continue;
    if (options.stopwords?.has(raw.tokenStrings[token])) removed.stopwords += 1;
    else if (documentFrequency[token] > maxDocuments) removed.maxDf += 1;
    else if (counts[token] < minCount) removed.minCount += 1;
    else kept.push(token);
  }
  // Raw ids number actions by first appearance, so they break frequency ties.
  kept.sort((a, b) => counts[b] - counts[a] || a - b);
  if (kept.length > maxVocab) {
    removed.maxVocab = kept.length - maxVocab;
    kept.length = maxVocab;
  }
  if (kept.length === 0) {
    throw new InputError(
      `no action is left in the vocabulary (removed: ${removed.stopwords} stopwords, ` +
        `${removed.maxDf} above --max-df, ${removed.minCount} below --min-count ${minCount}); relax those options`,
      raw.file,
    );
  }
  const words = kept.map((token) => raw.tokenStrings[token]);
  const vocabularyCounts = Int32Array.from(kept, (token) => counts[token]);
  return { vocabulary: new Vocabulary(words, vocabularyCounts), removed };
}
