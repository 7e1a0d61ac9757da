/**
 * The held-in slice of the training sequences (issue 13): a seeded tenth of them, on which the recency cache's
 * constants and the copy component are fitted. While the copy component is fitted, the slice is left out of the
 * phi and LSTM training; the held-out split (split.ts) is never touched by either fit.
 */
import { holdoutSplit } from './split.js';

/** The share of training sequences held in unless asked otherwise. */
export const HELD_IN_FRACTION = 0.1;
/** Mixed into the seed so that the held-in choice is not the held-out split's. */
const HELD_IN_SALT = 0x68656c64;

export interface SequenceSlice {
  /** tokens: [T] action ids; offsets: [D+1] sequence starts */
  tokens: Int32Array;
  offsets: Int32Array;
}

/** The sequences `indices` (ascending) of a corpus, as a corpus of their own. */
export function selectSequences<C extends SequenceSlice>(corpus: C, indices: Int32Array): SequenceSlice {
  const { tokens, offsets } = corpus;
  const outOffsets = new Int32Array(indices.length + 1);
  for (let i = 0; i < indices.length; i++) {
    const d = indices[i];
    outOffsets[i + 1] = outOffsets[i] + (offsets[d + 1] - offsets[d]);
  }
  const outTokens = new Int32Array(outOffsets[indices.length]);
  for (let i = 0; i < indices.length; i++) {
    const d = indices[i];
    outTokens.set(tokens.subarray(offsets[d], offsets[d + 1]), outOffsets[i]);
  }
  return { tokens: outTokens, offsets: outOffsets };
}

/**
 * Which training sequences are held in (ascending indices) and which train the model; null when there are fewer
 * than two sequences (nothing could be held in and still leave training data).
 */
export function heldInIndices(
  sequenceCount: number,
  seed: number,
  fraction = HELD_IN_FRACTION,
): { train: Int32Array; heldIn: Int32Array } | null {
  if (sequenceCount < 2) return null;
  const split = holdoutSplit(sequenceCount, fraction, (seed + HELD_IN_SALT) % Number.MAX_SAFE_INTEGER);
  if (split.test.length === 0) {
    // a tiny corpus: hold in its last sequence rather than none
    return {
      train: Int32Array.from({ length: sequenceCount - 1 }, (_, d) => d),
      heldIn: Int32Array.of(sequenceCount - 1),
    };
  }
  return { train: split.train, heldIn: split.test };
}

/** Training counts n_w of the actions [V] in a corpus (the unigram the cache backs off to). */
export function actionCounts(corpus: SequenceSlice, vocabularySize: number): Int32Array {
  const counts = new Int32Array(vocabularySize);
  for (const w of corpus.tokens) counts[w]++;
  return counts;
}

/** A training corpus with its sequences' ids (trainer.ts's TrainingCorpus). */
export interface IdentifiedSlice extends SequenceSlice {
  ids: string[];
}

/**
 * The training sequences split for the fits: `rest` (the sequences outside the held-in slice) and `heldIn`
 * (null when there are fewer than two sequences, and `rest` is then everything).
 */
export function splitHeldIn(
  corpus: IdentifiedSlice,
  seed: number,
): { rest: IdentifiedSlice; heldIn: SequenceSlice | null } {
  const split = heldInIndices(corpus.offsets.length - 1, seed);
  if (split === null) return { rest: corpus, heldIn: null };
  return {
    rest: { ...selectSequences(corpus, split.train), ids: Array.from(split.train, (d) => corpus.ids[d] ?? String(d)) },
    heldIn: selectSequences(corpus, split.heldIn),
  };
}
