/**
 * Interpretability (SPEC 4): the K x K topic-transition matrix and topic trajectories of single sequences.
 * - `topicTransitionMatrix`: row j is the LSTM's next-topic distribution pi_{t+1} averaged over the training
 *   positions whose sampled topic z_t is j (kernel.topicTransitions sums them; each pi sums to 1, so every
 *   observed row sums to 1). A topic that no position holds (except as a sequence's last) has no row: its row
 *   is all zeros and it is listed in `emptyRows`.
 * - `empiricalTransitions`: the same layout from counting sampled z_t -> z_{t+1} pairs (what `lda`, which has no
 *   LSTM, can show; also a check on what the LSTM learned).
 * - `trajectory` / `trajectorySegments`: a sequence's sampled topic path, and that path as runs of one topic.
 */
import type { CellWeights, Kernel } from '../kernels/types.js';
import { checkInteger } from './phi.js';

export interface TransitionMatrix {
  numTopics: number;
  /** matrix: [K][K] row-major, row = z_t, column = next topic; rows sum to 1 except empty rows (all 0) */
  matrix: Float64Array;
  /** rowPositions: [K] positions that contributed to each row */
  rowPositions: Float64Array;
  /** topics with no contributing position */
  emptyRows: number[];
}

function checkAssignments(caller: string, offsets: Int32Array, topics: Int32Array, numTopics: number): void {
  checkInteger(caller, 'numTopics', numTopics, 1);
  if (!(offsets instanceof Int32Array) || !(topics instanceof Int32Array)) {
    throw new Error(`${caller}: offsets and topics must be Int32Arrays`);
  }
  if (offsets.length < 1 || offsets[0] !== 0 || offsets[offsets.length - 1] !== topics.length) {
    throw new Error(`${caller}: offsets must start at 0 and end at topics.length (${topics.length})`);
  }
  for (let d = 1; d < offsets.length; d++) {
    if (offsets[d] < offsets[d - 1]) throw new Error(`${caller}: offsets decrease at sequence ${d - 1}`);
  }
  for (let i = 0; i < topics.length; i++) {
    if (topics[i] < 0 || topics[i] >= numTopics) {
      throw new Error(`${caller}: token ${i} has topic ${topics[i]}, outside 0..${numTopics - 1}`);
    }
  }
}

function normaliseRows(numTopics: number, sums: Float64Array, rowPositions: Float64Array): TransitionMatrix {
  const emptyRows: number[] = [];
  for (let j = 0; j < numTopics; j++) {
    const positions = rowPositions[j];
    if (positions === 0) {
      emptyRows.push(j);
      sums.fill(0, j * numTopics, (j + 1) * numTopics);
      continue;
    }
    // divide by the row's own total rather than the position count: pi is float32 in the kernel, so this
    // removes its rounding and rows sum to 1 to double precision
    let total = 0;
    for (let k = 0; k < numTopics; k++) total += sums[j * numTopics + k];
    for (let k = 0; k < numTopics; k++) sums[j * numTopics + k] /= total;
  }
  return { numTopics, matrix: sums, rowPositions, emptyRows };
}

/** The LSTM's average next-topic distribution grouped by the sampled current topic (lla). */
export function topicTransitionMatrix(
  kernel: Kernel,
  offsets: Int32Array,
  topics: Int32Array,
  weights: CellWeights,
  numTopics: number,
): TransitionMatrix {
  checkAssignments('topicTransitionMatrix', offsets, topics, numTopics);
  if (weights === undefined || weights === null) {
    throw new Error(
      'topicTransitionMatrix: the LSTM weights are missing (an lda model has none: use empiricalTransitions)',
    );
  }
  const sums = new Float64Array(numTopics * numTopics);
  const rowPositions = new Float64Array(numTopics);
  kernel.topicTransitions(offsets, topics, weights, numTopics, sums, rowPositions);
  return normaliseRows(numTopics, sums, rowPositions);
}

/** Counted transitions z_t -> z_{t+1} of sampled topic paths, row-normalised. */
export function empiricalTransitions(offsets: Int32Array, topics: Int32Array, numTopics: number): TransitionMatrix {
  checkAssignments('empiricalTransitions', offsets, topics, numTopics);
  const sums = new Float64Array(numTopics * numTopics);
  const rowPositions = new Float64Array(numTopics);
  for (let d = 0; d + 1 < offsets.length; d++) {
    for (let t = offsets[d]; t + 1 < offsets[d + 1]; t++) {
      sums[topics[t] * numTopics + topics[t + 1]]++;
      rowPositions[topics[t]]++;
    }
  }
  return normaliseRows(numTopics, sums, rowPositions);
}

/** Sequence d's sampled topic path (a copy). */
export function trajectory(offsets: Int32Array, topics: Int32Array, sequence: number): Int32Array {
  if (!Number.isInteger(sequence) || sequence < 0 || sequence >= offsets.length - 1) {
    throw new Error(`trajectory: sequence ${String(sequence)} does not exist (there are ${offsets.length - 1})`);
  }
  return topics.slice(offsets[sequence], offsets[sequence + 1]);
}

export interface TrajectorySegment {
  topic: number;
  /** 0-based position in the sequence of the run's first token */
  start: number;
  length: number;
}

/** A topic path as maximal runs of one topic, e.g. [2,2,0,0,0,2] -> (2,0,2) (0,2,3) (2,5,1). */
export function trajectorySegments(path: ArrayLike<number>): TrajectorySegment[] {
  const segments: TrajectorySegment[] = [];
  for (let t = 0; t < path.length; t++) {
    const last = segments[segments.length - 1];
    if (last !== undefined && last.topic === path[t]) last.length++;
    else segments.push({ topic: path[t], start: t, length: 1 });
  }
  return segments;
}
