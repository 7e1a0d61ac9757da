/**
 * phi_{k,w} = (n_{k,w} + beta) / (n_k + V beta) read straight from the sparse CountTables, and the argument checks
 * that every evaluation entry point shares. Nothing here builds a dense V x K table: callers work row by row.
 */
import type { CountTables } from '../kernels/types.js';

/** A corpus in the kernel layout: sequence d is tokens[offsets[d] .. offsets[d+1]). */
export interface SequenceCorpus {
  /** tokens: [T] action ids 0..V-1 */
  tokens: Int32Array;
  /** offsets: [D+1] ascending, offsets[0] = 0, offsets[D] = T */
  offsets: Int32Array;
}

/** Throws unless `value` is a finite number > 0 (beta, alpha) or an integer >= minimum (counts of things). */
export function checkPositive(caller: string, name: string, value: number): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new Error(
      `${caller}: ${name} is ${String(value)}, but it must be a finite number > 0 (pass the model's ${name})`,
    );
  }
}

export function checkInteger(caller: string, name: string, value: number, minimum: number): void {
  if (!(Number.isInteger(value) && value >= minimum)) {
    throw new Error(`${caller}: ${name} is ${String(value)}, but it must be a whole number >= ${minimum}`);
  }
}

/** Throws unless the tables have the shape of K topics over V actions and their rows are well formed. */
export function checkCounts(caller: string, counts: CountTables, numTopics: number, vocabularySize: number): void {
  checkInteger(caller, 'numTopics', numTopics, 1);
  checkInteger(caller, 'vocabularySize', vocabularySize, 1);
  if (
    !(counts?.rowOffsets instanceof Int32Array) ||
    !(counts.rowTopics instanceof Int32Array) ||
    !(counts.rowCounts instanceof Int32Array) ||
    !(counts.topicTotals instanceof Int32Array)
  ) {
    throw new Error(
      `${caller}: counts must be CountTables of Int32Arrays (rowOffsets, rowTopics, rowCounts, ` +
        'topicTotals), as built by kernel.buildCounts',
    );
  }
  if (counts.rowOffsets.length !== vocabularySize + 1) {
    throw new Error(
      `${caller}: counts.rowOffsets has ${counts.rowOffsets.length} entries but the vocabulary has ` +
        `${vocabularySize} actions (expected V+1 = ${vocabularySize + 1}): the counts belong to another vocabulary`,
    );
  }
  if (counts.topicTotals.length !== numTopics) {
    throw new Error(
      `${caller}: counts.topicTotals has ${counts.topicTotals.length} entries but numTopics is ` +
        `${numTopics}: the counts belong to another model`,
    );
  }
  const nnz = counts.rowOffsets[vocabularySize];
  if (counts.rowOffsets[0] !== 0 || nnz > counts.rowTopics.length || nnz > counts.rowCounts.length) {
    throw new Error(
      `${caller}: counts.rowOffsets is malformed (starts at ${counts.rowOffsets[0]}, ends at ${nnz} ` +
        `with room for ${Math.min(counts.rowTopics.length, counts.rowCounts.length)} entries)`,
    );
  }
}

/** Throws unless the corpus has ascending offsets covering its tokens and every id is below V. */
export function checkCorpus(caller: string, corpus: SequenceCorpus, vocabularySize: number): void {
  if (!(corpus?.tokens instanceof Int32Array) || !(corpus.offsets instanceof Int32Array)) {
    throw new Error(`${caller}: corpus must hold Int32Array tokens and offsets`);
  }
  const { tokens, offsets } = corpus;
  if (offsets.length < 1 || offsets[0] !== 0 || offsets[offsets.length - 1] !== tokens.length) {
    throw new Error(`${caller}: corpus.offsets must start at 0 and end at tokens.length (${tokens.length})`);
  }
  for (let d = 1; d < offsets.length; d++) {
    if (offsets[d] < offsets[d - 1]) throw new Error(`${caller}: corpus.offsets decreases at sequence ${d - 1}`);
  }
  for (let i = 0; i < tokens.length; i++) {
    const w = tokens[i];
    if (w < 0 || w >= vocabularySize) {
      throw new Error(
        `${caller}: token ${i} is action ${w}, outside the vocabulary of ${vocabularySize} actions ` +
          '(drop out-of-vocabulary actions before evaluating and pass their number as outOfVocabulary)',
      );
    }
  }
}

/** invDenominators: [K] 1 / (n_k + V beta), the per-topic scale shared by every phi_{k,.}. */
export function inverseDenominators(counts: CountTables, beta: number, vocabularySize: number): Float64Array {
  const totals = counts.topicTotals;
  const out = new Float64Array(totals.length);
  for (let k = 0; k < totals.length; k++) out[k] = 1 / (totals[k] + vocabularySize * beta);
  return out;
}

/** n_{k,w} by binary search in action w's row (rows are sorted by topic). */
export function countOf(counts: CountTables, k: number, w: number): number {
  let low = counts.rowOffsets[w];
  let high = counts.rowOffsets[w + 1] - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const topic = counts.rowTopics[middle];
    if (topic === k) return counts.rowCounts[middle];
    if (topic < k) low = middle + 1;
    else high = middle - 1;
  }
  return 0;
}

/** phi_{k,w} = (n_{k,w} + beta) / (n_k + V beta). */
export function phiValue(counts: CountTables, beta: number, vocabularySize: number, k: number, w: number): number {
  return (countOf(counts, k, w) + beta) / (counts.topicTotals[k] + vocabularySize * beta);
}

/** phi as dense [K][V] rows: for export only (the evaluations work on the sparse rows). */
export function densePhi(counts: CountTables, beta: number, numTopics: number, vocabularySize: number): Float64Array {
  const K = numTopics;
  const V = vocabularySize;
  const phi = new Float64Array(K * V);
  for (let k = 0; k < K; k++) {
    const value = beta / (counts.topicTotals[k] + V * beta);
    phi.fill(value, k * V, (k + 1) * V);
  }
  for (let w = 0; w < V; w++) {
    for (let e = counts.rowOffsets[w]; e < counts.rowOffsets[w + 1]; e++) {
      const k = counts.rowTopics[e];
      phi[k * V + w] = (counts.rowCounts[e] + beta) / (counts.topicTotals[k] + V * beta);
    }
  }
  return phi;
}

/**
 * The predictive probability of every action under a topic mixture, p(w) = sum_k mix_k phi_{k,w}, split as
 * dense part beta * sum_k mix_k / (n_k + V beta) (the same for every action) plus each action's sparse part
 * sum_{k in row w} mix_k n_{k,w} / (n_k + V beta). O(nnz + K) per mixture.
 */
export class MixtureScorer {
  readonly numTopics: number;
  readonly vocabularySize: number;
  /** rowScale: [nnz] n_{k,w} / (n_k + V beta) of each row entry (aligned with counts.rowTopics) */
  private readonly rowScale: Float64Array;
  /** invDenominators: [K] 1 / (n_k + V beta) */
  private readonly invDenominators: Float64Array;
  private readonly counts: CountTables;
  private readonly beta: number;

  constructor(counts: CountTables, beta: number, numTopics: number, vocabularySize: number) {
    checkCounts('MixtureScorer', counts, numTopics, vocabularySize);
    checkPositive('MixtureScorer', 'beta', beta);
    this.numTopics = numTopics;
    this.vocabularySize = vocabularySize;
    this.counts = counts;
    this.beta = beta;
    this.invDenominators = inverseDenominators(counts, beta, vocabularySize);
    const nnz = counts.rowOffsets[vocabularySize];
    this.rowScale = new Float64Array(nnz);
    for (let e = 0; e < nnz; e++) this.rowScale[e] = counts.rowCounts[e] * this.invDenominators[counts.rowTopics[e]];
  }

  /** beta * sum_k mix_k / (n_k + V beta): the part of p(w) that every action shares. */
  densePart(mix: ArrayLike<number>): number {
    let sum = 0;
    for (let k = 0; k < this.numTopics; k++) sum += mix[k] * this.invDenominators[k];
    return this.beta * sum;
  }

  /** sum_{k in row w} mix_k n_{k,w} / (n_k + V beta). */
  sparsePart(mix: ArrayLike<number>, w: number): number {
    const { rowOffsets, rowTopics } = this.counts;
    let sum = 0;
    for (let e = rowOffsets[w], end = rowOffsets[w + 1]; e < end; e++) sum += mix[rowTopics[e]] * this.rowScale[e];
    return sum;
  }

  /** p(w) = sum_k mix_k phi_{k,w}. */
  probability(mix: ArrayLike<number>, w: number): number {
    return this.densePart(mix) + this.sparsePart(mix, w);
  }

  /**
   * sparseOut: [V] every action's sparse part (ordering actions by it is ordering them by p(w)), plus bonus[w]
   * when a bonus [V] is given (the copy component's share of p(w), src/eval/copy.ts).
   */
  sparseParts(mix: ArrayLike<number>, sparseOut: Float64Array, bonus?: Float64Array): void {
    const { rowOffsets, rowTopics } = this.counts;
    const scale = this.rowScale;
    let e = 0;
    for (let w = 0; w < this.vocabularySize; w++) {
      let sum = bonus === undefined ? 0 : bonus[w];
      for (const end = rowOffsets[w + 1]; e < end; e++) sum += mix[rowTopics[e]] * scale[e];
      sparseOut[w] = sum;
    }
  }

  /**
   * 1-based rank of `target` among all V actions by p(w) under `mix`: 1 + the number of actions with a higher
   * probability + the number with an equal probability and a smaller id. Actions are compared by their sparse
   * parts (the dense part is common), which keeps ties exact; plus bonus[w] when a bonus [V] is given.
   */
  rank(mix: ArrayLike<number>, target: number, bonus?: Float64Array): number {
    const { rowOffsets, rowTopics } = this.counts;
    const scale = this.rowScale;
    let targetScore = bonus === undefined ? 0 : bonus[target];
    for (let e = rowOffsets[target]; e < rowOffsets[target + 1]; e++) targetScore += mix[rowTopics[e]] * scale[e];
    let ahead = 0;
    let e = 0;
    for (let w = 0; w < this.vocabularySize; w++) {
      let sum = bonus === undefined ? 0 : bonus[w];
      for (const end = rowOffsets[w + 1]; e < end; e++) sum += mix[rowTopics[e]] * scale[e];
      if (sum > targetScore || (sum === targetScore && w < target)) ahead++;
    }
    return ahead + 1;
  }
}
