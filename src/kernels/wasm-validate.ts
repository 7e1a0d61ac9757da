/**
 * The argument checks of the WASM wrapper, one per kind of argument (wasm-arguments.ts applies them to each entry
 * point), run before any call into WebAssembly: a kernel reads linear memory at addresses derived from these
 * values, so every id and length is checked and a bad one throws an Error that names the argument, what is wrong,
 * and what to pass instead.
 */
import { describe } from './limits.js';
import { transitionCells, type AliasTables, type CellWeights, type CountTables, type KernelMode } from './types.js';
import type { LinearMemory } from './wasm-memory.js';
import type { WasmExports } from './wasm-layout.js';

export { describe };

type AnyTypedArray = Int32Array | Uint32Array | Float32Array | Float64Array;

/**
 * Content checks run in WebAssembly (assembly/validate.ts) on arrays that live in linear memory: true when every
 * value passes, false when one fails (the TypeScript loop then runs to name it), undefined when an array is not in
 * linear memory (the TypeScript loop runs). Over a 400k-token corpus the loops below cost ~6 ms per E-step
 * iteration in JavaScript, a fifth of a 2-thread sweep.
 */
export interface ContentChecks {
  /** values[0 .. count) in [0, limit) */
  ids(values: Int32Array, limit: number, count: number): boolean | undefined;
  /** the contents that requireCounts checks, after its shape checks */
  counts(counts: CountTables, V: number, K: number): boolean | undefined;
  /** values finite and >= 0 */
  finiteNonNegative(values: Float64Array): boolean | undefined;
  /** the positions of each row of a word index strictly ascending */
  rowsAscending(wordOffsets: Int32Array, wordTokens: Int32Array): boolean | undefined;
}
type Constructor = { name: string; prototype: AnyTypedArray };

/** The ContentChecks of a module over its linear memory. */
export function linearMemoryChecks(linear: LinearMemory, wasm: WasmExports): ContentChecks {
  return {
    ids(values, limit, count) {
      const address = linear.addressOf(values);
      return address === undefined ? undefined : wasm.idsInRange(address, count, limit) === 1;
    },
    counts(counts, V, K) {
      const addresses = [counts.rowOffsets, counts.rowTopics, counts.rowCounts, counts.topicTotals].map((a) =>
        linear.addressOf(a),
      );
      if (addresses.some((a) => a === undefined)) return undefined;
      const [rowOffsets, rowTopics, rowCounts, topicTotals] = addresses as number[];
      return wasm.countsValid(rowOffsets, rowTopics, rowCounts, topicTotals, V, K) === 1;
    },
    finiteNonNegative(values) {
      const address = linear.addressOf(values);
      return address === undefined ? undefined : wasm.finiteNonNegative(address, values.length) === 1;
    },
    rowsAscending(wordOffsets, wordTokens) {
      const offsets = linear.addressOf(wordOffsets),
        positions = linear.addressOf(wordTokens);
      if (offsets === undefined || positions === undefined) return undefined;
      return wasm.rowsAscending(offsets, wordOffsets.length - 1, positions, wordTokens.length) === 1;
    },
  };
}

export function fail(entry: string, problem: string): never {
  throw new Error(`WASM kernel ${entry}: ${problem}`);
}

export function requireArray(
  entry: string,
  name: string,
  value: unknown,
  kind: Constructor,
  length?: number,
  minimum = false,
): void {
  if (!(value instanceof (kind as unknown as abstract new () => unknown))) {
    fail(entry, `${name} must be a ${kind.name}, got ${describe(value)}`);
  }
  const actual = (value as AnyTypedArray).length;
  if (length !== undefined && (minimum ? actual < length : actual !== length)) {
    fail(entry, `${name} must have ${minimum ? 'at least ' : ''}${length} elements, got ${actual}`);
  }
}

export function requireInteger(
  entry: string,
  name: string,
  value: unknown,
  minimum: number,
  maximum = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    fail(entry, `${name} must be an integer in [${minimum}, ${maximum}], got ${describe(value)}`);
  }
  return value;
}

/** Every value of values[0 .. count) in [0, limit). */
export function requireIds(
  entry: string,
  name: string,
  values: Int32Array,
  limit: number,
  checks?: ContentChecks,
  count = values.length,
): void {
  if (checks?.ids(values, limit, count) === true) return;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (!(v >= 0 && v < limit)) fail(entry, `${name}[${i}] = ${v} is outside [0, ${limit})`);
  }
}

/**
 * The positions of each row of a word index (wordOffsets already checked) strictly ascending: with the grouping
 * that buildCounts checks while counting, every position is then listed exactly once.
 */
export function requireRowsAscending(
  entry: string,
  wordOffsets: Int32Array,
  wordTokens: Int32Array,
  checks?: ContentChecks,
): void {
  if (checks?.rowsAscending(wordOffsets, wordTokens) === true) return;
  for (let w = 0; w + 1 < wordOffsets.length; w++) {
    for (let i = wordOffsets[w] + 1; i < wordOffsets[w + 1]; i++) {
      if (wordTokens[i] <= wordTokens[i - 1]) {
        fail(
          entry,
          `wordTokens [${i}] is position ${wordTokens[i]}, not above the previous position ${wordTokens[i - 1]} ` +
            `of action ${w}: list each action's token positions once, in ascending order`,
        );
      }
    }
  }
}

/** offsets [D+1]: 0, non-decreasing, ending at T. Returns D. */
export function requireOffsets(entry: string, offsets: unknown, tokenCount: number, name = 'offsets'): number {
  requireArray(entry, name, offsets, Int32Array);
  const o = offsets as Int32Array;
  if (o.length < 1) fail(entry, `${name} must hold D+1 >= 1 entries (start of each sequence, then T)`);
  if (o[0] !== 0) fail(entry, `${name}[0] must be 0, got ${o[0]}`);
  for (let d = 1; d < o.length; d++) {
    if (o[d] < o[d - 1]) fail(entry, `${name} must be non-decreasing: ${name}[${d}] = ${o[d]} < ${o[d - 1]}`);
  }
  if (o[o.length - 1] !== tokenCount) {
    fail(entry, `${name}[D] must equal the token count ${tokenCount}, got ${o[o.length - 1]}`);
  }
  return o.length - 1;
}

/** CountTables over V actions and K topics: shapes, ascending topics in range, positive counts. Returns nnz. */
export function requireCounts(entry: string, counts: unknown, V: number, K: number, checks?: ContentChecks): number {
  if (typeof counts !== 'object' || counts === null)
    fail(entry, `counts must be a CountTables object, got ${describe(counts)}`);
  const c = counts as CountTables;
  requireArray(entry, 'counts.rowOffsets', c.rowOffsets, Int32Array, V + 1);
  requireArray(entry, 'counts.rowTopics', c.rowTopics, Int32Array);
  requireArray(entry, 'counts.rowCounts', c.rowCounts, Int32Array);
  requireArray(entry, 'counts.topicTotals', c.topicTotals, Int32Array, K);
  const nnz = c.rowOffsets[V];
  if (c.rowOffsets[0] !== 0) fail(entry, `counts.rowOffsets[0] must be 0, got ${c.rowOffsets[0]}`);
  if (nnz > c.rowTopics.length || nnz > c.rowCounts.length) {
    fail(
      entry,
      `counts.rowOffsets[V] = ${nnz} exceeds the capacity of counts.rowTopics/rowCounts (${Math.min(c.rowTopics.length, c.rowCounts.length)})`,
    );
  }
  if (checks?.counts(c, V, K) === true) return nnz;
  for (let w = 0; w < V; w++) {
    const begin = c.rowOffsets[w],
      end = c.rowOffsets[w + 1];
    if (end < begin) fail(entry, `counts.rowOffsets must be non-decreasing (action ${w})`);
    if (end - begin > K) fail(entry, `counts row of action ${w} has ${end - begin} entries, more than K = ${K}`);
    let previous = -1;
    for (let i = begin; i < end; i++) {
      const k = c.rowTopics[i];
      if (!(k > previous && k < K))
        fail(entry, `counts.rowTopics[${i}] = ${k} must be ascending within action ${w}'s row and below K = ${K}`);
      if (!(c.rowCounts[i] > 0)) fail(entry, `counts.rowCounts[${i}] = ${c.rowCounts[i]} must be > 0`);
      previous = k;
    }
  }
  for (let k = 0; k < K; k++) {
    if (!(c.topicTotals[k] >= 0)) fail(entry, `counts.topicTotals[${k}] = ${c.topicTotals[k]} must be >= 0`);
  }
  return nnz;
}

/** The arrays of AliasTables over V actions, K topics and nnz entries, named `name`.sparseProb and so on. */
export function requireAliasShapes(
  entry: string,
  name: string,
  tables: unknown,
  V: number,
  K: number,
  nnz: number,
): AliasTables {
  if (typeof tables !== 'object' || tables === null)
    fail(entry, `${name} must be an AliasTables object, got ${describe(tables)}`);
  const a = tables as AliasTables;
  requireArray(entry, `${name}.sparseProb`, a.sparseProb, Float32Array, nnz, true);
  requireArray(entry, `${name}.sparseAlias`, a.sparseAlias, Int32Array, nnz, true);
  requireArray(entry, `${name}.sparseMass`, a.sparseMass, Float64Array, V);
  requireArray(entry, `${name}.denseProb`, a.denseProb, Float32Array, K);
  requireArray(entry, `${name}.denseAlias`, a.denseAlias, Int32Array, K);
  requireArray(entry, `${name}.denseMass`, a.denseMass, Float64Array, 1);
  return a;
}

/** Alias tables to sample from: their shapes, topic ids and masses. */
export function requireAlias(
  entry: string,
  alias: unknown,
  V: number,
  K: number,
  nnz: number,
  checks?: ContentChecks,
): void {
  const a = requireAliasShapes(entry, 'alias', alias, V, K, nnz);
  requireIds(entry, 'alias.sparseAlias', a.sparseAlias, K, checks, nnz);
  requireIds(entry, 'alias.denseAlias', a.denseAlias, K, checks);
  if (checks?.finiteNonNegative(a.sparseMass) !== true) {
    for (let w = 0; w < V; w++) {
      if (!(a.sparseMass[w] >= 0 && Number.isFinite(a.sparseMass[w])))
        fail(entry, `alias.sparseMass[${w}] = ${a.sparseMass[w]} must be finite and >= 0`);
    }
  }
  if (!(a.denseMass[0] > 0 && Number.isFinite(a.denseMass[0])))
    fail(entry, `alias.denseMass[0] = ${a.denseMass[0]} must be finite and > 0: rebuild with buildAlias`);
}

/** CellWeights with `rows` input symbols and K outputs (weights.hidden already checked by limits.ts). Returns H. */
export function requireWeights(
  entry: string,
  weights: unknown,
  rows: number,
  K: number | undefined,
  what: string,
): number {
  if (typeof weights !== 'object' || weights === null)
    fail(entry, `weights are required (${what}), got ${describe(weights)}`);
  const w = weights as CellWeights;
  const H = w.hidden;
  requireArray(entry, 'weights.inputTable', w.inputTable, Float32Array, rows * 4 * H);
  requireArray(entry, 'weights.recurrent', w.recurrent, Float32Array, 4 * H * H);
  requireArray(entry, 'weights.gateBias', w.gateBias, Float32Array, 4 * H);
  if (K !== undefined) {
    requireArray(entry, 'weights.outputWeights', w.outputWeights, Float32Array, K * H);
    requireArray(entry, 'weights.outputBias', w.outputBias, Float32Array, K);
  }
  return H;
}

/** hmm's transition table: Float64Array [(K+1)^order][K], every entry finite and > 0 (the ratios divide by them). */
export function requireTransitions(entry: string, transitions: unknown, K: number, order: number): void {
  if (transitions === undefined || transitions === null) {
    fail(entry, 'transitions are required in hmm mode: pass the transition table (Float64Array, (K+1)^order x K)');
  }
  requireArray(entry, 'transitions', transitions, Float64Array, transitionCells(K, order));
  const table = transitions as Float64Array;
  for (let i = 0; i < table.length; i++) {
    if (!(table[i] > 0) || !Number.isFinite(table[i])) {
      fail(
        entry,
        `transitions[${i}] = ${table[i]} must be finite and > 0: smooth the transition counts before normalising them`,
      );
    }
  }
}

/** Input rows of the cell for a mode: topics + begin (lla) or actions + begin (word-lla). */
export function inputRows(mode: KernelMode, K: number, V: number): number {
  return mode === 'word-lla' ? V + 1 : K + 1;
}

/**
 * What is wrong with a word index that buildCounts refused while counting (only then: it reads tokens at random):
 * the first index whose position is of another action than its row's. Every wordTokens value is already known to
 * be in [0, T).
 */
export function wordIndexProblem(tokens: Int32Array, wordOffsets: Int32Array, wordTokens: Int32Array): string {
  for (let w = 0; w + 1 < wordOffsets.length; w++) {
    for (let i = wordOffsets[w]; i < wordOffsets[w + 1]; i++) {
      const position = wordTokens[i];
      if (tokens[position] !== w) {
        return (
          `wordTokens [${i}] is position ${position} whose action is ${tokens[position]}, not ${w}: group the ` +
          'token positions by action (wordOffsets[w] .. wordOffsets[w+1] hold action w)'
        );
      }
    }
  }
  // the kernel saw a bad index that is not there now: the arrays changed during the call
  return 'wordTokens or tokens changed while buildCounts read them: do not write them from another thread during the call';
}
