/**
 * From an input file to the training and held-out corpora: read every sequence, hold out a seeded fraction (or
 * read an explicit test file), build the vocabulary from the training split only, then map both splits
 * through it. Held-out actions outside the vocabulary are dropped and counted, for every model alike.
 */
import { readDocuments } from '../corpus/documents.js';
import { toCorpus, type Corpus, type CorpusOptions } from '../corpus/corpus.js';
import { buildVocabulary, DEFAULT_MIN_COUNT, Vocabulary, type VocabularyOptions } from '../corpus/vocabulary.js';
import type { RawDocuments, ReadOptions } from '../corpus/types.js';
import { holdoutSplit } from './split.js';

/** The fraction of sequences held out for evaluation unless asked otherwise (`lla train --holdout`). */
export const DEFAULT_HOLDOUT = 0.1;

export interface PrepareOptions {
  read?: ReadOptions;
  vocabulary?: VocabularyOptions;
  corpus?: CorpusOptions;
  /** fraction of sequences held out, chosen from the seed alone (ignored with testFile) */
  holdout?: number;
  testFile?: string;
  seed?: number;
  /** map through this vocabulary instead of building one (continuing a saved model) */
  fixedVocabulary?: Vocabulary;
}

export interface PreparedData {
  train: Corpus;
  /** held-out sequences, or null with --holdout 0 and no --test */
  test: Corpus | null;
  vocabulary: Vocabulary;
  /** held-out tokens left out because their action is not in the vocabulary */
  heldOutOutOfVocabulary: number;
  /** raw sequences of the input file(s) before filtering */
  rawSequences: number;
  rawTokens: number;
}

export async function prepareData(file: string, options: PrepareOptions = {}): Promise<PreparedData> {
  const raw = await readDocuments(file, options.read ?? {});
  const holdout = options.testFile !== undefined ? 0 : (options.holdout ?? DEFAULT_HOLDOUT);
  const split = holdoutSplit(raw.offsets.length - 1, holdout, options.seed ?? 1);
  const vocabulary = options.fixedVocabulary ?? buildVocabulary(raw, split.train, options.vocabulary ?? {}).vocabulary;
  const train = toCorpus(raw, split.train, vocabulary, options.corpus ?? {});
  let test: Corpus | null = null;
  let testRaw: RawDocuments | null = null;
  if (options.testFile !== undefined) {
    testRaw = await readDocuments(options.testFile, options.read ?? {});
    test = toCorpus(testRaw, undefined, vocabulary, options.corpus ?? {});
  } else if (split.test.length > 0) {
    test = toCorpus(raw, split.test, vocabulary, options.corpus ?? {});
  }
  return {
    train,
    test,
    vocabulary,
    heldOutOutOfVocabulary: test?.skippedTokens ?? 0,
    rawSequences: raw.offsets.length - 1 + (testRaw ? testRaw.offsets.length - 1 : 0),
    rawTokens: raw.tokens.length + (testRaw ? testRaw.tokens.length : 0),
  };
}

/** Sequences of actions, as the library API takes them. */
export type Sequences = ReadonlyArray<ReadonlyArray<string | number>>;
/** Training or evaluation data: a corpus read by src/corpus, or sequences of action strings. */
export type SequenceInput = Corpus | Sequences;

export function isCorpus(input: SequenceInput): input is Corpus {
  return (
    !Array.isArray(input) && typeof input === 'object' && input !== null && 'tokens' in input && 'offsets' in input
  );
}

/**
 * Library input in the kernel layout through `vocabulary`: sequences mapped by action string, a corpus built with
 * another vocabulary remapped by action string, a corpus of this vocabulary as it is. Unknown actions skipped.
 */
export function sequenceCorpus(
  input: SequenceInput,
  vocabulary: Vocabulary,
): { tokens: Int32Array; offsets: Int32Array; skippedTokens: number; ids: string[] } {
  if (isCorpus(input)) {
    if (input.vocabulary !== vocabulary) {
      const words = input.vocabulary.words;
      const sequences: string[][] = [];
      for (let d = 0; d + 1 < input.offsets.length; d++) {
        sequences.push(Array.from(input.tokens.subarray(input.offsets[d], input.offsets[d + 1]), (id) => words[id]));
      }
      const mapped = corpusFromSequences(sequences, vocabulary);
      return { ...mapped, skippedTokens: mapped.skippedTokens + input.skippedTokens, ids: input.ids };
    }
    return { tokens: input.tokens, offsets: input.offsets, skippedTokens: input.skippedTokens, ids: input.ids };
  }
  const mapped = corpusFromSequences(input, vocabulary);
  return { ...mapped, ids: input.map((_, d) => String(d)) };
}

/** Sequences of action strings (the library API's input) mapped through a vocabulary; unknown actions skipped. */
export function corpusFromSequences(
  sequences: Sequences,
  vocabulary: Vocabulary,
): { tokens: Int32Array; offsets: Int32Array; skippedTokens: number } {
  if (!Array.isArray(sequences)) throw new TypeError('expected an array of sequences (arrays of action strings)');
  const offsets = new Int32Array(sequences.length + 1);
  const ids: number[] = [];
  let skippedTokens = 0;
  sequences.forEach((sequence, d) => {
    if (!Array.isArray(sequence)) throw new TypeError(`sequence ${d} is not an array of actions`);
    for (const action of sequence) {
      const id = vocabulary.id(String(action));
      if (id < 0) skippedTokens++;
      else ids.push(id);
    }
    offsets[d + 1] = ids.length;
  });
  return { tokens: Int32Array.from(ids), offsets, skippedTokens };
}

/** A vocabulary built from in-memory sequences (library use without a file). */
export function vocabularyFromSequences(sequences: Sequences, options: VocabularyOptions = {}): Vocabulary {
  const counts = new Map<string, number>();
  for (const sequence of sequences)
    for (const action of sequence) {
      const key = String(action);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  const minCount = options.minCount ?? DEFAULT_MIN_COUNT;
  const kept = [...counts.entries()].filter(([word, count]) => count >= minCount && !options.stopwords?.has(word));
  // descending frequency, ties by first appearance (Map keeps insertion order; sort is stable)
  kept.sort((a, b) => b[1] - a[1]);
  const limited = kept.slice(0, options.maxVocab ?? kept.length);
  return new Vocabulary(
    limited.map(([word]) => word),
    Int32Array.from(limited, ([, count]) => count),
  );
}
