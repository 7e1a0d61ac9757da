// Kernel argument fuzzing (issue 5 point 4): on each backend, at least 10,000 seeded calls to every kernel entry
// point with valid arguments and with random mutations of them (wrong types, wrong lengths, ids out of range,
// NaN / negative / huge numbers, offsets out of order, missing fields, throwing getters, detached and shared
// buffers, one argument's array passed as another's, arrays scribbled on while an async call runs). Every call
// must either succeed or throw a JS Error; every unmutated call must succeed. The loop runs in a child process
// (this same file with LLA_FUZZ_CHILD set), so a native crash fails the test instead of killing the test runner.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Kernel, KernelMode } from '../src/kernels/types.js';

const CALLS = 26_000;
const SEED = 20240611;

// ---- a small seeded generator for the fuzzer's own choices (not the kernels' RNG) ------------------------------

class Chooser {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  /** xorshift32 in [0, 1) */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 4294967296;
  }
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  between(low: number, high: number): number {
    return low + this.below(high - low + 1);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---- valid arguments for every entry point ----------------------------------------------------------------------

type AnyArray = Int32Array | Uint32Array | Float32Array | Float64Array;

interface Problem {
  K: number;
  V: number;
  H: number;
  S: number;
  T: number;
  tokens: Int32Array;
  offsets: Int32Array;
  topics: Int32Array;
  wordOffsets: Int32Array;
  wordTokens: Int32Array;
}

function randomFloats(kernel: Kernel, chooser: Chooser, length: number, scale = 0.5): Float32Array {
  const values = kernel.allocFloat32(length);
  for (let i = 0; i < length; i++) values[i] = (2 * chooser.next() - 1) * scale;
  return values;
}

function makeProblem(kernel: Kernel, chooser: Chooser): Problem {
  const K = chooser.between(1, 6);
  const V = chooser.between(1, 8);
  const D = chooser.between(1, 5);
  const lengths = Array.from({ length: D }, () => chooser.between(0, 8));
  const T = lengths.reduce((a, b) => a + b, 0);
  const offsets = kernel.allocInt32(D + 1);
  for (let d = 0; d < D; d++) offsets[d + 1] = offsets[d] + lengths[d];
  const tokens = kernel.allocInt32(T);
  const topics = kernel.allocInt32(T);
  for (let t = 0; t < T; t++) {
    tokens[t] = chooser.below(V);
    topics[t] = chooser.below(K);
  }
  // positions grouped by action, ascending: what buildCounts expects
  const wordOffsets = kernel.allocInt32(V + 1);
  for (let t = 0; t < T; t++) wordOffsets[tokens[t] + 1]++;
  for (let w = 0; w < V; w++) wordOffsets[w + 1] += wordOffsets[w];
  const cursor = Int32Array.from(wordOffsets.subarray(0, V));
  const wordTokens = kernel.allocInt32(T);
  for (let t = 0; t < T; t++) wordTokens[cursor[tokens[t]]++] = t;
  return {
    K,
    V,
    H: chooser.between(1, 4),
    S: chooser.between(1, 4),
    T,
    tokens,
    offsets,
    topics,
    wordOffsets,
    wordTokens,
  };
}

function makeCounts(kernel: Kernel, p: Problem) {
  const capacity = Math.max(1, p.T);
  const counts = {
    rowOffsets: kernel.allocInt32(p.V + 1),
    rowTopics: kernel.allocInt32(capacity),
    rowCounts: kernel.allocInt32(capacity),
    topicTotals: kernel.allocInt32(p.K),
  };
  kernel.buildCounts(p.tokens, p.wordOffsets, p.wordTokens, p.topics, p.K, counts);
  return counts;
}

function makeAlias(kernel: Kernel, p: Problem, counts: ReturnType<typeof makeCounts>) {
  const capacity = Math.max(1, p.T);
  const alias = {
    sparseProb: kernel.allocFloat32(capacity),
    sparseAlias: kernel.allocInt32(capacity),
    sparseMass: kernel.allocFloat64(p.V),
    denseProb: kernel.allocFloat32(p.K),
    denseAlias: kernel.allocInt32(p.K),
    denseMass: kernel.allocFloat64(1),
  };
  kernel.buildAlias(counts, p.K, 0.01, alias);
  return alias;
}

function makeWeights(kernel: Kernel, chooser: Chooser, p: Problem, rows: number) {
  const H = p.H;
  return {
    hidden: H,
    inputTable: randomFloats(kernel, chooser, rows * 4 * H),
    recurrent: randomFloats(kernel, chooser, 4 * H * H),
    gateBias: randomFloats(kernel, chooser, 4 * H),
    outputWeights: randomFloats(kernel, chooser, p.K * H),
    outputBias: randomFloats(kernel, chooser, p.K),
  };
}

const MODES: KernelMode[] = ['lda', 'lla', 'word-lla'];
const rowsOf = (mode: KernelMode, p: Problem) => (mode === 'word-lla' ? p.V + 1 : p.K + 1);

interface Call {
  entry: string;
  args: unknown[];
}

const ENTRIES = [
  'allocInt32',
  'allocFloat32',
  'allocFloat64',
  'checksum',
  'randomStream',
  'randomTopics',
  'buildCounts',
  'buildAlias',
  'sweep',
  'particleFilter',
  'filterStep',
  'lstmSteps',
  'topicTransitions',
] as const;

function validCall(kernel: Kernel, chooser: Chooser, entry: string): Call {
  const p = makeProblem(kernel, chooser);
  const mode = chooser.pick(MODES);
  switch (entry) {
    case 'allocInt32':
    case 'allocFloat32':
    case 'allocFloat64':
      return { entry, args: [chooser.between(0, 64)] };
    case 'checksum':
      return { entry, args: [p.tokens] };
    case 'randomStream':
      return {
        entry,
        args: [chooser.below(1e6), chooser.below(100), chooser.below(100), new Uint32Array(chooser.between(0, 16))],
      };
    case 'randomTopics':
      return { entry, args: [p.offsets, kernel.allocInt32(p.T), p.K, chooser.below(1000)] };
    case 'buildCounts': {
      const capacity = Math.max(1, p.T);
      return {
        entry,
        args: [
          p.tokens,
          p.wordOffsets,
          p.wordTokens,
          p.topics,
          p.K,
          {
            rowOffsets: kernel.allocInt32(p.V + 1),
            rowTopics: kernel.allocInt32(capacity),
            rowCounts: kernel.allocInt32(capacity),
            topicTotals: kernel.allocInt32(p.K),
          },
        ],
      };
    }
    case 'buildAlias': {
      const counts = makeCounts(kernel, p);
      const capacity = Math.max(1, p.T);
      return {
        entry,
        args: [
          counts,
          p.K,
          0.01 + chooser.next(),
          {
            sparseProb: kernel.allocFloat32(capacity),
            sparseAlias: kernel.allocInt32(capacity),
            sparseMass: kernel.allocFloat64(p.V),
            denseProb: kernel.allocFloat32(p.K),
            denseAlias: kernel.allocInt32(p.K),
            denseMass: kernel.allocFloat64(1),
          },
        ],
      };
    }
    case 'sweep': {
      const counts = makeCounts(kernel, p);
      const alias = makeAlias(kernel, p, counts);
      const args: Record<string, unknown> = {
        mode,
        exact: chooser.chance(0.3),
        mhSteps: chooser.between(1, 3),
        proposals: chooser.pick(['cycle', 'word', 'sequence']),
        numTopics: p.K,
        vocabularySize: p.V,
        tokens: p.tokens,
        offsets: p.offsets,
        topicsPrev: p.topics,
        topicsNext: kernel.allocInt32(p.T),
        counts,
        alias,
        beta: 0.01,
        alpha: 0.1,
        sequenceSmoothing: 0.1,
        seed: chooser.below(1000),
        iteration: chooser.below(10),
        threads: chooser.below(3),
      };
      if (mode !== 'lda') args.weights = makeWeights(kernel, chooser, p, rowsOf(mode, p));
      return { entry, args: [args] };
    }
    case 'particleFilter': {
      const counts = makeCounts(kernel, p);
      const D = p.offsets.length - 1;
      const args: Record<string, unknown> = {
        mode,
        numTopics: p.K,
        vocabularySize: p.V,
        tokens: p.tokens,
        offsets: p.offsets,
        counts,
        beta: 0.01,
        alpha: 0.1,
        particles: p.S,
        seed: chooser.below(1000),
        threads: chooser.below(3),
        logLikelihood: kernel.allocFloat64(D),
      };
      if (mode !== 'lda') args.weights = makeWeights(kernel, chooser, p, rowsOf(mode, p));
      if (p.T > 0 && chooser.chance(0.5)) {
        const positions = Array.from({ length: p.T }, (_, t) => t).filter(() => chooser.chance(0.5));
        args.mixturePositions = Int32Array.from(positions);
        args.mixtures = kernel.allocFloat32(positions.length * p.K);
      }
      return { entry, args: [args] };
    }
    case 'filterStep': {
      const counts = makeCounts(kernel, p);
      const S = p.S;
      const state = {
        position: kernel.allocInt32(1),
        previousAction: Int32Array.of(-1),
        weights: kernel.allocFloat64(S).fill(1 / S),
        previousTopic: kernel.allocInt32(S).fill(-1),
        hiddenState: kernel.allocFloat32(S * p.H),
        cellState: kernel.allocFloat32(S * p.H),
        topicCounts: kernel.allocInt32(S * p.K),
      };
      const args: Record<string, unknown> = {
        mode,
        numTopics: p.K,
        vocabularySize: p.V,
        counts,
        beta: 0.01,
        alpha: 0.1,
        particles: S,
        seed: chooser.below(1000),
        state,
        action: chooser.below(p.V),
        sequenceIndex: chooser.below(50),
      };
      if (mode !== 'lda') args.weights = makeWeights(kernel, chooser, p, rowsOf(mode, p));
      if (chooser.chance(0.5)) args.mixtureOut = kernel.allocFloat32(p.K);
      return { entry, args: [args] };
    }
    case 'lstmSteps': {
      const rows = rowsOf(mode === 'lda' ? 'lla' : mode, p);
      const steps = chooser.between(0, 6);
      const inputs = Int32Array.from({ length: steps }, () => chooser.below(rows));
      return {
        entry,
        args: [
          makeWeights(kernel, chooser, p, rows),
          inputs,
          new Float32Array(steps * p.H),
          new Float32Array(steps * p.H),
        ],
      };
    }
    case 'topicTransitions':
      return {
        entry,
        args: [
          p.offsets,
          p.topics,
          makeWeights(kernel, chooser, p, p.K + 1),
          p.K,
          new Float64Array(p.K * p.K),
          new Float64Array(p.K),
        ],
      };
    default:
      throw new Error(`no such entry ${entry}`);
  }
}

// ---- mutations --------------------------------------------------------------------------------------------------

/** A place in the argument tree: the container and the key to replace. */
interface Slot {
  container: Record<string | number, unknown>;
  key: string | number;
}

function slotsOf(args: unknown[]): Slot[] {
  const slots: Slot[] = [];
  const visit = (container: Record<string | number, unknown>, depth: number) => {
    for (const key of Object.keys(container)) {
      slots.push({ container, key: Array.isArray(container) ? Number(key) : key });
      // read without running getters (an earlier mutation may have installed a throwing one)
      const value = Object.getOwnPropertyDescriptor(container, key)?.value;
      if (depth < 2 && value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
        visit(value as Record<string, unknown>, depth + 1);
      }
    }
  };
  visit(args as unknown as Record<number, unknown>, 0);
  return slots;
}

const isTyped = (value: unknown): boolean => ArrayBuffer.isView(value) && !(value instanceof DataView);

function typedArraysOf(args: unknown[]): AnyArray[] {
  const found: AnyArray[] = [];
  const visit = (value: unknown, depth: number) => {
    if (isTyped(value)) found.push(value as AnyArray);
    else if (value !== null && typeof value === 'object' && depth < 3) {
      for (const key of Object.keys(value)) visit(Object.getOwnPropertyDescriptor(value, key)?.value, depth + 1);
    }
  };
  visit(args, 0);
  return found;
}

const CONSTRUCTORS = [
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  Uint8Array,
  Int16Array,
  BigInt64Array,
] as const;
const WEIRD_NUMBERS = [
  NaN,
  -1,
  -0,
  Infinity,
  -Infinity,
  0,
  1.5,
  2 ** 31,
  -(2 ** 31),
  2 ** 32 + 3,
  2 ** 53 + 2,
  1e300,
  -1e300,
  2 ** 30,
  0x7fffffff,
  4097,
  65537,
];
const WEIRD_VALUES: unknown[] = [
  undefined,
  null,
  '',
  '3',
  'lla',
  true,
  false,
  {},
  [],
  [1, 2, 3],
  7n,
  Symbol('x'),
  () => 1,
  new Map(),
  new ArrayBuffer(8),
  new DataView(new ArrayBuffer(8)),
];

function detachedCopy(array: AnyArray): AnyArray {
  const copy = new (array.constructor as new (n: number) => AnyArray)(array.length);
  copy.set(array as never);
  structuredClone(copy.buffer, { transfer: [copy.buffer] });
  return copy;
}

function sharedCopy(array: AnyArray): AnyArray {
  const Type = array.constructor as new (buffer: SharedArrayBuffer) => AnyArray;
  const copy = new Type(new SharedArrayBuffer(Math.max(1, array.length) * array.BYTES_PER_ELEMENT));
  const view = copy.subarray(0, array.length) as AnyArray;
  view.set(array as never);
  return view;
}

function mutateArray(chooser: Chooser, array: AnyArray, others: AnyArray[]): unknown {
  // an array detached by an earlier mutation cannot be copied any more
  if (array.buffer.byteLength === 0 && array.length === 0 && !(array.buffer instanceof SharedArrayBuffer))
    return chooser.pick(WEIRD_VALUES);
  // a BigInt64Array put in by an earlier mutation holds bigints: replace it outright
  if ((array as unknown) instanceof BigInt64Array) return chooser.pick(WEIRD_VALUES);
  switch (chooser.below(12)) {
    case 0: {
      // another element type, same length
      const Type = chooser.pick(CONSTRUCTORS);
      return Type === BigInt64Array
        ? new BigInt64Array(array.length)
        : new (Type as new (n: number) => AnyArray)(array.length);
    }
    case 1:
      return array.slice(0, Math.max(0, array.length - chooser.between(1, 3)));
    case 2: {
      const longer = new (array.constructor as new (n: number) => AnyArray)(array.length + chooser.between(1, 5));
      longer.set(array as never);
      return longer;
    }
    case 3:
      return Array.from(array as ArrayLike<number>);
    case 4:
    case 5: {
      // a value out of range (or NaN for floats)
      if (array.length === 0) return new (array.constructor as new (n: number) => AnyArray)(0);
      const copy = array.slice() as AnyArray;
      copy[chooser.below(copy.length)] = chooser.pick(WEIRD_NUMBERS);
      return copy;
    }
    case 6: {
      // two entries swapped (offsets out of order)
      const copy = array.slice() as AnyArray;
      if (copy.length >= 2) {
        const i = chooser.below(copy.length);
        const j = chooser.below(copy.length);
        const t = copy[i];
        copy[i] = copy[j];
        copy[j] = t;
        if (copy[i] === copy[j] && copy.length > 0) copy[i] = (copy[i] as number) + 1;
      }
      return copy;
    }
    case 7:
      return detachedCopy(array);
    case 8:
      return sharedCopy(array);
    case 9:
      return others.length > 0 ? chooser.pick(others) : array;
    case 10:
      return array.subarray(chooser.below(array.length + 1));
    default:
      return chooser.pick(WEIRD_VALUES);
  }
}

function throwingGetter(value: object, key: string): object {
  const copy: Record<string, unknown> = {};
  for (const name of Object.keys(value))
    Object.defineProperty(copy, name, Object.getOwnPropertyDescriptor(value, name)!);
  Object.defineProperty(copy, key, {
    get() {
      throw new Error(`fuzz: getter of ${key} throws`);
    },
    enumerable: true,
  });
  return copy;
}

/** Replaces a slot's value even where an earlier mutation installed a getter there. */
function replaceSlot(container: Record<string | number, unknown>, key: string | number, value: unknown): void {
  Object.defineProperty(container, key, { value, writable: true, enumerable: true, configurable: true });
}

function mutate(chooser: Chooser, call: Call): void {
  const count = chooser.between(1, 3);
  for (let m = 0; m < count; m++) {
    const slots = slotsOf(call.args);
    const arrays = typedArraysOf(call.args);
    if (chooser.chance(0.05)) {
      // too few or too many positional arguments
      if (chooser.chance(0.5)) call.args.length = chooser.below(call.args.length + 1);
      else call.args.push(chooser.pick(WEIRD_VALUES));
      continue;
    }
    if (slots.length === 0) return;
    const { container, key } = chooser.pick(slots);
    const value = Object.getOwnPropertyDescriptor(container, key)?.value;
    if (isTyped(value)) {
      replaceSlot(container, key, mutateArray(chooser, value as AnyArray, arrays));
    } else if (typeof value === 'number') {
      replaceSlot(container, key, chooser.chance(0.8) ? chooser.pick(WEIRD_NUMBERS) : chooser.pick(WEIRD_VALUES));
    } else if (value !== null && typeof value === 'object') {
      const keys = Object.keys(value);
      const choice = chooser.below(4);
      if (choice === 0 && keys.length > 0) {
        const copy: Record<string, unknown> = {};
        for (const name of Object.keys(value))
          Object.defineProperty(copy, name, Object.getOwnPropertyDescriptor(value, name)!);
        delete copy[chooser.pick(keys)];
        replaceSlot(container, key, copy);
      } else if (choice === 1 && keys.length > 0) {
        replaceSlot(container, key, throwingGetter(value, chooser.pick(keys)));
      } else {
        replaceSlot(container, key, chooser.pick(WEIRD_VALUES));
      }
    } else {
      replaceSlot(container, key, chooser.chance(0.5) ? chooser.pick(WEIRD_VALUES) : chooser.pick(WEIRD_NUMBERS));
    }
  }
}

/** While an async kernel runs on its own threads, the caller writes garbage into the arrays it passed. */
function scribbleOn(chooser: Chooser, arrays: AnyArray[]): void {
  for (const array of arrays) {
    if (array.length === 0 || (array as unknown) instanceof BigInt64Array) continue;
    for (let j = 0; j < array.length; j += 1 + chooser.below(3))
      array[j] = chooser.pick([-1, 0x7fffffff, -(2 ** 31), 1e9]);
  }
}

/** The arguments in short (LLA_FUZZ_TRACE=<call index>): array types, lengths and values of small arrays. */
function describeArgs(value: unknown, depth = 0): string {
  if (isTyped(value)) {
    const array = value as AnyArray;
    const shared = array.buffer instanceof SharedArrayBuffer ? ' shared' : '';
    return `${array.constructor.name}${shared}(${array.length})[${Array.from(array as ArrayLike<number>)
      .slice(0, 24)
      .map(String)
      .join(',')}]`;
  }
  if (value !== null && typeof value === 'object' && depth < 3) {
    return `{${Object.keys(value)
      .map((key) => {
        const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
        return `${key}: ${descriptor.get ? '<throwing getter>' : describeArgs(descriptor.value, depth + 1)}`;
      })
      .join(', ')}}`;
  }
  return typeof value === 'bigint' ? `${value}n` : typeof value === 'symbol' ? 'Symbol' : String(value);
}

// ---- the child: the fuzz loop ------------------------------------------------------------------------------------

async function fuzzChild(backend: string, seed: number, calls: number): Promise<void> {
  const kernel: Kernel =
    backend === 'native'
      ? (await import('../src/kernels/native.js')).loadNativeKernel()
      : await (await import('../src/kernels/wasm.js')).loadWasmKernel();
  if (kernel.name !== backend) throw new Error(`asked for the ${backend} kernel, got ${kernel.name}`);
  const chooser = new Chooser(seed);
  const tally: Record<string, { ok: number; errors: number }> = {};
  const failures: string[] = [];
  const started = performance.now();
  let made = 0;
  for (let i = 0; i < calls; i++) {
    const entry = ENTRIES[i % ENTRIES.length];
    const call = validCall(kernel, chooser, entry);
    const mutated = chooser.chance(0.85);
    if (mutated) mutate(chooser, call);
    const scribble = mutated && chooser.chance(0.1) && !process.env.LLA_FUZZ_NO_SCRIBBLE;
    const record = (tally[entry] ??= { ok: 0, errors: 0 });
    // LLA_FUZZ_TRACE=1: name each call before making it, to find the one that crashes
    if (process.env.LLA_FUZZ_TRACE) {
      process.stderr.write(
        `call ${i} ${entry} mutated=${mutated} scribble=${scribble}` +
          (Number(process.env.LLA_FUZZ_TRACE) === i ? ` ${describeArgs(call.args)}` : '') +
          '\n',
      );
    }
    try {
      const method = (kernel as unknown as Record<string, (...args: unknown[]) => unknown>)[entry];
      const result = method.apply(kernel, call.args);
      if (scribble) scribbleOn(chooser, typedArraysOf(call.args));
      await result;
      record.ok++;
    } catch (error) {
      record.errors++;
      if (!(error instanceof Error)) failures.push(`${entry}: threw a non-Error ${String(error)}`);
      else if (!mutated) failures.push(`${entry}: a valid call threw: ${error.message}`);
      else if (!/\S/.test(error.message)) failures.push(`${entry}: an Error without a message`);
    }
    made++;
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${JSON.stringify({ backend: kernel.name, calls: made, seconds, tally, failures: failures.slice(0, 20), failureCount: failures.length })}\n`,
  );
  // the WASM worker pool keeps the event loop alive: leave explicitly once the summary is out
  process.exit(0);
}

const childBackend = process.env.LLA_FUZZ_CHILD;
if (childBackend) {
  // no top-level await: uvu loads test files as CommonJS
  fuzzChild(childBackend, Number(process.env.LLA_FUZZ_SEED ?? SEED), Number(process.env.LLA_FUZZ_CALLS ?? CALLS)).catch(
    (error) => {
      process.stderr.write(`fuzz child failed: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
} else {
  const here = fileURLToPath(import.meta.url);
  const root = join(dirname(here), '..');

  const runChild = (backend: string) =>
    new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', here], {
        cwd: root,
        env: { ...process.env, LLA_FUZZ_CHILD: backend, LLA_FUZZ_SEED: String(SEED), LLA_FUZZ_CALLS: String(CALLS) },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });

  for (const backend of ['native', 'wasm'] as const) {
    const fuzz = suite(
      `fuzz: ${CALLS.toLocaleString('en-US')} random and mutated calls on the ${backend} kernel backend`,
    );
    fuzz(`every ${backend} kernel entry point succeeds or throws a JS Error; the process never crashes`, async () => {
      const run = await runChild(backend);
      assert.is(run.signal, null, `the fuzz process died of ${run.signal}: ${run.stderr.slice(-2000)}`);
      assert.is(run.code, 0, `the fuzz process exited with ${run.code}: ${run.stderr.slice(-2000)}`);
      const summary = JSON.parse(run.stdout.trim().split('\n').pop()!);
      console.log(
        `  fuzz ${summary.backend}: ${summary.calls} calls in ${summary.seconds.toFixed(1)} s: ` +
          Object.entries(summary.tally as Record<string, { ok: number; errors: number }>)
            .map(([entry, t]) => `${entry} ${t.ok} ok/${t.errors} errors`)
            .join(', '),
      );
      assert.is(summary.backend, backend, 'the child ran the backend it was asked for (kernel.name)');
      assert.ok(summary.calls >= CALLS, `calls made: ${summary.calls}`);
      assert.equal(summary.failures, [], `${summary.failureCount} calls broke the contract`);
      for (const entry of ENTRIES) {
        const t = summary.tally[entry];
        assert.ok(t && t.ok > 0 && t.errors > 0, `${entry} should both succeed and fail: ${JSON.stringify(t)}`);
      }
    });
    fuzz.run();
  }
}
