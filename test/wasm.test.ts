// Tests of what only the WASM backend has (src/kernels/wasm.ts): the plain-memory path, arrays used in place in
// linear memory and the checks run there, memory reuse, callers writing their arrays during a call, and the worker
// threads (joining row rebuilds, staying out of a job whose memory they cannot see). The kernel contract itself
// runs on WASM and native alike in kernels.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadWasmKernel, type WasmKernel } from '../src/kernels/wasm.js';
import type { WasmExports } from '../src/kernels/wasm-layout.js';
import type { AliasTables, CountTables, KernelMode, SweepArgs } from '../src/kernels/types.js';
import { groupByAction, randomCorpus, randomWeights, sweepArgs } from './helpers/kernel-data.js';
import { mulberry32 as generator } from './helpers/mulberry32.js';
import { rejects } from './helpers/rejects.js';

const test = suite('wasm kernel');
let kernel: WasmKernel;
test.before(async () => {
  kernel = await loadWasmKernel();
});
test.after(async () => {
  await kernel.close();
});

for (const mode of ['lda', 'lla', 'word-lla'] as KernelMode[]) {
  test(`${mode}: results identical for 1 and 2 threads and with a plain (copied) memory`, async () => {
    const K = 20,
      H = 12;
    const corpus = randomCorpus(generator(21), 300, 40, 60);
    const weights =
      mode === 'lda' ? undefined : randomWeights(generator(22), mode === 'lla' ? K + 1 : corpus.V + 1, K, H);
    const args = sweepArgs(kernel, corpus, K, mode, { weights, iteration: 3 });
    const runs: Array<{ topics: number[]; logPhi: number }> = [];
    const plain = await loadWasmKernel({ shared: false });
    assert.is(plain.buildInfo().threads, false);
    for (const [k, threads] of [
      [kernel, 1],
      [kernel, 2],
      [plain, 2],
    ] as Array<[WasmKernel, number]>) {
      const topicsNext = k.allocInt32(corpus.tokens.length);
      const result = await k.sweep({ ...args, threads, topicsNext });
      runs.push({ topics: Array.from(topicsNext), logPhi: result.logPhi });
      assert.ok(result.proposalsAccepted <= result.proposalsMade && result.proposalsMade === 2 * corpus.tokens.length);
    }
    assert.equal(runs[1], runs[0]);
    assert.equal(runs[2], runs[0]);
    assert.ok(
      runs[0].topics.some((z, t) => z !== args.topicsPrev[t]),
      'the sweep changed some topics',
    );
    // Same seed, other iteration: other draws.
    const other = new Int32Array(corpus.tokens.length);
    await kernel.sweep({ ...args, iteration: 4, topicsNext: other });
    assert.not.equal(Array.from(other), runs[0].topics);
  });
}

test('checks run in WebAssembly on arrays in linear memory reject what the TypeScript checks reject, and name it', async () => {
  if (!kernel.buildInfo().threads) return; // without shared memory no array lives in linear memory
  const corpus = randomCorpus(generator(43), 4, 6, 5);
  const T = corpus.tokens.length;
  const args = sweepArgs(kernel, corpus, 3, 'lda', {});
  const inMemory = (values: Int32Array) => {
    const copy = kernel.allocInt32(values.length);
    copy.set(values);
    return copy;
  };
  const tokens = inMemory(corpus.tokens);
  const topicsPrev = inMemory(args.topicsPrev);
  assert.ok(Number.isFinite((await kernel.sweep({ ...args, tokens, topicsPrev })).logPhi), 'valid arrays pass');
  // the first SIMD lane, an inner lane, the scalar tail; too large and negative
  for (const [position, value] of [
    [0, 5],
    [5, 7],
    [T - 1, 5],
    [T - 2, -1],
  ]) {
    const bad = inMemory(corpus.tokens);
    bad[position] = value;
    await rejects(
      () => kernel.sweep({ ...args, tokens: bad, topicsPrev }),
      new RegExp(`tokens\\[${position}\\] = ${value} is outside \\[0, 5\\)`),
    );
    const badTopics = inMemory(args.topicsPrev);
    badTopics[position] = value < 0 ? value : 3;
    await rejects(
      () => kernel.sweep({ ...args, tokens, topicsPrev: badTopics }),
      new RegExp(`topicsPrev\\[${position}\\] = ${value < 0 ? value : 3} is outside \\[0, 3\\)`),
    );
  }
  // count rows: a topic out of order, a zero count; alias: an alias topic out of range, a NaN mass
  const row = Array.from({ length: corpus.V }, (_, w) => w).find(
    (w) => args.counts.rowOffsets[w + 1] - args.counts.rowOffsets[w] >= 2,
  )!;
  const first = args.counts.rowOffsets[row];
  const counts = {
    ...args.counts,
    rowTopics: inMemory(args.counts.rowTopics),
    rowCounts: inMemory(args.counts.rowCounts),
  };
  counts.rowTopics[first + 1] = counts.rowTopics[first];
  await rejects(
    () => kernel.sweep({ ...args, tokens, topicsPrev, counts }),
    new RegExp(`ascending within action ${row}`),
  );
  counts.rowTopics.set(args.counts.rowTopics);
  counts.rowCounts[first] = 0;
  await rejects(
    () => kernel.sweep({ ...args, tokens, topicsPrev, counts }),
    new RegExp(`rowCounts\\[${first}\\] = 0 must be > 0`),
  );
  const alias = { ...args.alias, sparseAlias: inMemory(args.alias.sparseAlias) };
  alias.sparseAlias[first] = 3;
  await rejects(
    () => kernel.sweep({ ...args, tokens, topicsPrev, alias }),
    new RegExp(`sparseAlias\\[${first}\\] = 3 is outside`),
  );
  const sparseMass = kernel.allocFloat64(corpus.V);
  sparseMass.set(args.alias.sparseMass);
  sparseMass[corpus.V - 1] = Number.NaN;
  await rejects(
    () => kernel.sweep({ ...args, tokens, topicsPrev, alias: { ...args.alias, sparseMass } }),
    new RegExp(`sparseMass\\[${corpus.V - 1}\\] = NaN must be finite`),
  );
});

test('allocations are reused: repeated calls do not grow the memory in use', async () => {
  const corpus = randomCorpus(generator(51), 50, 30, 20);
  const args = sweepArgs(kernel, corpus, 8, 'lda', {});
  await kernel.sweep(args);
  const before = kernel.usedBytes;
  for (let i = 0; i < 20; i++) await kernel.sweep({ ...args, iteration: i, threads: 1 + (i % 2) });
  assert.is(kernel.usedBytes, before);
});

test('a caller overwriting its arrays during an asynchronous sweep gets a settled promise, and the kernel goes on working', async () => {
  if (!kernel.buildInfo().threads) return;
  const random = generator(71);
  const corpus = randomCorpus(random, 300, 400, 500);
  const T = corpus.tokens.length;
  const base = sweepArgs(kernel, corpus, 30, 'lda', { threads: 2 });
  for (const garbage of [0x7fffffff, -1, 499, 123456]) {
    const tokens = kernel.allocInt32(T);
    tokens.set(corpus.tokens);
    const running = kernel.sweep({ ...base, tokens, topicsNext: new Int32Array(T) });
    // the workers read `tokens` in place: scribble over it while they run
    tokens.fill(garbage);
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      running.then(
        () => 'resolved',
        () => 'rejected',
      ),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('hung'), 20000);
      }),
    ]);
    clearTimeout(timer);
    assert.ok(settled === 'resolved' || settled === 'rejected', `sweep with ids overwritten by ${garbage}: ${settled}`);
  }
  const result = await kernel.sweep({ ...base, topicsNext: new Int32Array(T) });
  assert.ok(Number.isFinite(result.logPhi) && result.logPhi < 0);
});

// last: its 100k-element arrays, once collected, would change the memory in use that the test above compares
test("row rebuilds on 2 threads (counts, alias, the sweep's hash tables) equal the 1-thread ones, workers joining or not", async () => {
  if (!kernel.buildInfo().threads) return;
  // large enough for two threads (32768 tokens or entries per thread)
  const random = generator(61);
  const corpus = randomCorpus(random, 400, 600, 20000);
  const T = corpus.tokens.length,
    K = 64,
    V = corpus.V;
  assert.ok(T >= 2 * 32768, `corpus of ${T} tokens`);
  const { wordOffsets, wordTokens } = groupByAction(corpus.tokens, V);
  const countTables = (): CountTables => ({
    rowOffsets: kernel.allocInt32(V + 1),
    rowTopics: kernel.allocInt32(T),
    rowCounts: kernel.allocInt32(T),
    topicTotals: kernel.allocInt32(K),
  });
  const aliasTables = (): AliasTables => ({
    sparseProb: kernel.allocFloat32(T),
    sparseAlias: kernel.allocInt32(T),
    sparseMass: kernel.allocFloat64(V),
    denseProb: kernel.allocFloat32(K),
    denseAlias: kernel.allocInt32(K),
    denseMass: kernel.allocFloat64(1),
  });
  const one = countTables(),
    two = countTables();
  const aliasOne = aliasTables(),
    aliasTwo = aliasTables();
  const topics = kernel.allocInt32(T);
  // element by element, naming the first difference (uvu's diff of 100k-element arrays takes minutes)
  const same = (name: string, actual: ArrayLike<number>, expected: ArrayLike<number>) => {
    assert.is(actual.length, expected.length, `${name} length`);
    for (let i = 0; i < expected.length; i++) {
      if (!Object.is(actual[i], expected[i]))
        assert.unreachable(`${name}[${i}] is ${actual[i]} on 2 threads, ${expected[i]} on 1`);
    }
  };
  const before = kernel.threadedJobs;
  let attempts = 0;
  for (; attempts < 200 && (attempts < 4 || kernel.threadedJobs.workerJoins - before.workerJoins < 3); attempts++) {
    for (let i = 0; i < T; i++) topics[i] = Math.floor(random() * random() * K);
    const nnz = kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, one, 1);
    assert.ok(nnz + V >= 2 * 32768, `${nnz} count entries over ${V} actions: too few for a threaded alias rebuild`);
    assert.is(kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, two, 2), nnz);
    same('rowOffsets', two.rowOffsets, one.rowOffsets);
    same('rowTopics', two.rowTopics.subarray(0, nnz), one.rowTopics.subarray(0, nnz));
    same('rowCounts', two.rowCounts.subarray(0, nnz), one.rowCounts.subarray(0, nnz));
    same('topicTotals', two.topicTotals, one.topicTotals);
    kernel.buildAlias(one, K, 0.05, aliasOne, 1);
    kernel.buildAlias(one, K, 0.05, aliasTwo, 2);
    same('sparseProb', aliasTwo.sparseProb.subarray(0, nnz), aliasOne.sparseProb.subarray(0, nnz));
    same('sparseAlias', aliasTwo.sparseAlias.subarray(0, nnz), aliasOne.sparseAlias.subarray(0, nnz));
    same('sparseMass', aliasTwo.sparseMass, aliasOne.sparseMass);
    same('denseProb', aliasTwo.denseProb, aliasOne.denseProb);
    same('denseAlias', aliasTwo.denseAlias, aliasOne.denseAlias);
    same('denseMass', aliasTwo.denseMass, aliasOne.denseMass);
    if (attempts % 10 === 0) {
      // the sweep builds its count hash tables on the sweep's threads: identical draws either way
      const base: SweepArgs = {
        mode: 'lda',
        exact: false,
        mhSteps: 2,
        proposals: 'cycle',
        numTopics: K,
        vocabularySize: V,
        tokens: corpus.tokens,
        offsets: corpus.offsets,
        topicsPrev: topics,
        topicsNext: new Int32Array(T),
        counts: one,
        alias: aliasOne,
        beta: 0.05,
        alpha: 0.5,
        sequenceSmoothing: 0.1,
        seed: 3,
        iteration: attempts,
        threads: 1,
      };
      // threaded first: the hash tables are not zeroed between calls, so a 1-thread build just before would
      // leave the right tables in the memory the threaded build reuses
      const threaded = { ...base, topicsNext: new Int32Array(T), threads: 2 };
      await kernel.sweep(threaded);
      await kernel.sweep(base);
      same('topicsNext', threaded.topicsNext, base.topicsNext);
    }
  }
  const after = kernel.threadedJobs;
  assert.ok(
    after.jobs - before.jobs >= 2 * attempts,
    `${after.jobs - before.jobs} threaded rebuilds in ${attempts} rounds`,
  );
  assert.ok(
    after.workerJoins > before.workerJoins,
    `a worker joined a threaded rebuild at least once in ${attempts} rounds`,
  );
  // a wrongly grouped word index is still refused on the threaded path
  const misgrouped = wordTokens.slice();
  [misgrouped[0], misgrouped[T - 1]] = [misgrouped[T - 1], misgrouped[0]];
  assert.throws(
    () => kernel.buildCounts(corpus.tokens, wordOffsets, misgrouped, topics, K, two, 2),
    /wordTokens \[0\] is position \d+ whose action is \d+, not 0/,
  );
});

test('the row-ascent check in WebAssembly accepts every right index and refuses a drop inside a row at any lane', () => {
  if (!kernel.buildInfo().threads) return; // without shared memory no array lives in linear memory
  const random = generator(71);
  for (const [D, V] of [
    [30, 7],
    [200, 40],
    [5, 300],
  ]) {
    const corpus = randomCorpus(random, D, 12, V);
    const T = corpus.tokens.length,
      K = 4;
    const grouped = groupByAction(corpus.tokens, V);
    const wordOffsets = kernel.allocInt32(V + 1);
    wordOffsets.set(grouped.wordOffsets);
    const wordTokens = kernel.allocInt32(T);
    const topics = kernel.allocInt32(T);
    const counts: CountTables = {
      rowOffsets: kernel.allocInt32(V + 1),
      rowTopics: kernel.allocInt32(T),
      rowCounts: kernel.allocInt32(T),
      topicTotals: kernel.allocInt32(K),
    };
    wordTokens.set(grouped.wordTokens);
    // the WebAssembly check itself (a wrong "fail" would only send the wrapper to its TypeScript loop, unseen)
    const internals = kernel as unknown as {
      wasm: WasmExports;
      linear: { addressOf(values: Int32Array): number | undefined };
    };
    const ascending = () =>
      internals.wasm.rowsAscending(
        internals.linear.addressOf(wordOffsets)!,
        V,
        internals.linear.addressOf(wordTokens)!,
        T,
      );
    assert.is(ascending(), 1, 'a right index passes');
    assert.ok(kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, counts) > 0, 'and is counted');
    // every place inside a row where two neighbours can be swapped: first lane, inner lanes, the scalar tail
    for (let w = 0; w < V; w++) {
      for (let i = wordOffsets[w] + 1; i < wordOffsets[w + 1]; i++) {
        wordTokens.set(grouped.wordTokens);
        [wordTokens[i - 1], wordTokens[i]] = [wordTokens[i], wordTokens[i - 1]];
        assert.is(ascending(), 0, `a swap at ${i}`);
        assert.throws(
          () => kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, counts),
          new RegExp(
            `wordTokens \\[${i}\\] is position ${grouped.wordTokens[i - 1]}, not above the previous position ${grouped.wordTokens[i]} of action ${w}`,
          ),
        );
      }
    }
  }
});

test('a worker whose view of the memory is stale stays out of every job; the calling thread runs it, with the same results', async () => {
  const pool = kernel.threadPool;
  if (pool === undefined) return;
  const random = generator(67);
  const corpus = randomCorpus(random, 300, 400, 20000);
  const T = corpus.tokens.length,
    K = 32,
    V = corpus.V;
  const { wordOffsets, wordTokens } = groupByAction(corpus.tokens, V);
  const topics = kernel.allocInt32(T);
  for (let i = 0; i < T; i++) topics[i] = Math.floor(random() * K);
  const tables = (): CountTables => ({
    rowOffsets: kernel.allocInt32(V + 1),
    rowTopics: kernel.allocInt32(T),
    rowCounts: kernel.allocInt32(T),
    topicTotals: kernel.allocInt32(K),
  });
  const counts = tables(),
    staleCounts = tables();
  const alias: AliasTables = {
    sparseProb: kernel.allocFloat32(T),
    sparseAlias: kernel.allocInt32(T),
    sparseMass: kernel.allocFloat64(V),
    denseProb: kernel.allocFloat32(K),
    denseAlias: kernel.allocInt32(K),
    denseMass: kernel.allocFloat64(1),
  };
  const nnz = kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, counts, 2);
  kernel.buildAlias(counts, K, 0.05, alias, 2);
  const args = (topicsNext: Int32Array): SweepArgs => ({
    mode: 'lda',
    exact: false,
    mhSteps: 2,
    proposals: 'cycle',
    numTopics: K,
    vocabularySize: V,
    tokens: corpus.tokens,
    offsets: corpus.offsets,
    topicsPrev: topics,
    topicsNext,
    counts,
    alias,
    beta: 0.05,
    alpha: 0.5,
    sequenceSmoothing: 0.1,
    seed: 5,
    iteration: 1,
    threads: 2,
  });
  const expected = new Int32Array(T);
  await kernel.sweep({ ...args(expected), threads: 1 });
  const joinsBefore = kernel.threadedJobs.workerJoins;
  // every worker now believes the memory is 1 GiB larger than it can see, as a worker that missed a growth would
  pool.announcedExtraBytes = 1 << 30;
  try {
    for (let round = 0; round < 20; round++) {
      const stale = new Int32Array(T);
      await kernel.sweep(args(stale));
      for (let i = 0; i < T; i++)
        if (stale[i] !== expected[i]) assert.unreachable(`topicsNext[${i}] is ${stale[i]}, not ${expected[i]}`);
      assert.is(kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, staleCounts, 2), nnz);
    }
    assert.is(kernel.threadedJobs.workerJoins, joinsBefore, 'no worker joined a job whose memory it could not see');
    for (let w = 0; w <= V; w++)
      if (staleCounts.rowOffsets[w] !== counts.rowOffsets[w]) assert.unreachable(`rowOffsets[${w}] differs`);
    for (let e = 0; e < nnz; e++) {
      if (staleCounts.rowTopics[e] !== counts.rowTopics[e] || staleCounts.rowCounts[e] !== counts.rowCounts[e]) {
        assert.unreachable(`count entry ${e} differs`);
      }
    }
  } finally {
    pool.announcedExtraBytes = 0;
  }
  // and the workers join again once they can see the memory (a join depends on a worker waking in time)
  let attempts = 0;
  for (; attempts < 200 && kernel.threadedJobs.workerJoins === joinsBefore; attempts++) {
    const again = new Int32Array(T);
    await kernel.sweep(args(again));
    for (let i = 0; i < T; i++)
      if (again[i] !== expected[i]) assert.unreachable(`topicsNext[${i}] differs once workers join`);
  }
  assert.ok(kernel.threadedJobs.workerJoins > joinsBefore, `a worker joined a sweep within ${attempts} attempts`);
});

test.run();
