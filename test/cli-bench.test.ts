// `lla bench`: on a small generated corpus, both backends print a last JSON line with every key and a positive
// throughput, the backend that ran is the one asked for, phase times add up, bad flags exit 2.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomCellWeights } from '../src/bench/sampler-throughput.js';
import { runCli } from './helpers/cli.js';

const folder = mkdtempSync(join(tmpdir(), 'lla-bench-'));
const corpusPath = join(folder, 'small.txt');
const SEQUENCES = 300;

const REQUIRED_KEYS = [
  'backend',
  'model',
  'topics',
  'threads',
  'tokens',
  'iterations',
  'tokensPerSecond',
  'peakRssBytes',
  'hidden',
  'seconds',
  'acceptanceRate',
  'instructionSet',
];

const cli = suite('bench: command line');

let corpusTokens = 0;
cli.before(async () => {
  const made = await runCli([
    'generate',
    '--out',
    corpusPath,
    '--topics',
    '8',
    '--vocabulary',
    '400',
    '--sequences',
    String(SEQUENCES),
    '--length',
    '40',
    '--seed',
    '5',
    '--json',
  ]);
  assert.is(made.code, 0, made.stderr);
  corpusTokens = JSON.parse(made.stdout.trim().split('\n').pop()!).tokens;
});

for (const backend of ['native', 'wasm']) {
  for (const [model, threads] of [
    ['lda', '1'],
    ['lla', '2'],
    ['word-lla', '1'],
  ] as const) {
    cli(
      `${backend} ${model} (${threads} thread${threads === '1' ? '' : 's'}): the last line has every key, positive tokens/s`,
      async () => {
        const result = await runCli([
          'bench',
          corpusPath,
          '--backend',
          backend,
          '--model',
          model,
          '--topics',
          '8',
          '--threads',
          threads,
          '--iterations',
          '3',
          '--hidden',
          '16',
          '--seed',
          '2',
          '--json',
        ]);
        assert.is(result.code, 0, result.stderr);
        const last = JSON.parse(result.stdout.trim().split('\n').pop()!);
        for (const key of REQUIRED_KEYS) assert.ok(key in last, `missing key ${key}`);
        assert.is(last.backend, backend);
        assert.is(last.model, model);
        assert.is(last.topics, 8);
        assert.is(last.threads, Number(threads));
        assert.is(last.iterations, 3);
        assert.is(last.warmupIterations, 1);
        assert.ok(last.phases.warmup > 0, 'the warm-up iteration ran, untimed');
        assert.is(last.tokens, corpusTokens);
        assert.is(last.sequences, SEQUENCES);
        assert.is(last.hidden, model === 'lda' ? null : 16);
        assert.ok(last.tokensPerSecond > 0 && Number.isFinite(last.tokensPerSecond));
        // throughput is tokens x iterations over the timed phases, which add up to `seconds`
        const phases = last.phases.counts + last.phases.alias + last.phases.sweep;
        assert.ok(Math.abs(phases - last.seconds) < 1e-9, `phases ${phases} vs seconds ${last.seconds}`);
        assert.ok(Math.abs(last.tokensPerSecond - (last.tokens * 3) / last.seconds) / last.tokensPerSecond < 1e-9);
        assert.ok(last.acceptanceRate > 0 && last.acceptanceRate <= 1, `acceptance ${last.acceptanceRate}`);
        assert.ok(last.peakRssBytes > 10 * 1048576, `peak RSS ${last.peakRssBytes}`);
        assert.ok(typeof last.instructionSet === 'string' && last.instructionSet.length > 0);
        assert.ok(last.countNonZeros > 0 && last.countNonZeros <= corpusTokens);
      },
    );
  }
}

cli('--exact reports no acceptance rate; the human table names the backend', async () => {
  const exact = await runCli([
    'bench',
    corpusPath,
    '--backend',
    'native',
    '--model',
    'lla',
    '--topics',
    '8',
    '--iterations',
    '1',
    '--hidden',
    '8',
    '--exact',
    '--json',
  ]);
  assert.is(exact.code, 0, exact.stderr);
  const last = JSON.parse(exact.stdout.trim().split('\n').pop()!);
  assert.is(last.acceptanceRate, null);
  assert.is(last.exact, true);
  const human = await runCli([
    'bench',
    corpusPath,
    '--backend',
    'wasm',
    '--model',
    'lda',
    '--topics',
    '8',
    '--iterations',
    '1',
  ]);
  assert.is(human.code, 0, human.stderr);
  assert.match(human.stdout, /backend\s+wasm/);
  assert.match(human.stdout, /tokens\/s\s+\d+\.\d+ M/);
  assert.match(human.stdout, /MH acceptance\s+\d+\.\d %/);
});

cli('bad flags and inputs exit 2 with a message, no stack trace', async () => {
  const cases: [string[], RegExp][] = [
    [['bench', corpusPath, '--model', 'lstm'], /--model must be one of lda, lla, word-lla/],
    [['bench', corpusPath, '--topics', '0'], /--topics must be between 1/],
    [['bench', corpusPath, '--iterations', 'many'], /--iterations must be a whole number/],
    [['bench', corpusPath, '--warmup=-1'], /--warmup must be between 0/],
    [['bench', corpusPath, '--backend', 'gpu'], /--backend must be one of auto, native, wasm/],
    [['bench', corpusPath, '--threads=-1'], /--threads must be between 0/],
    [['bench', corpusPath, '--beta', '0'], /--beta must be between 1e-100 and 1e\+100, got 0/],
    [['bench', corpusPath, '--turbo'], /Unknown option '--turbo'/],
    [['bench'], /expected <input>/],
    [['bench', join(folder, 'missing.txt')], /missing\.txt/],
  ];
  for (const [argv, message] of cases) {
    const result = await runCli(argv);
    assert.is(result.code, 2, `${argv.join(' ')} exited ${result.code}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.not.match(result.stderr, /\n\s+at /, 'no stack trace');
  }
});

cli.after(() => rmSync(folder, { recursive: true, force: true }));
cli.run();

const weights = suite('bench: random LSTM weights');

weights('CellWeights layout and Glorot scale, deterministic for a seed', () => {
  const lla = randomCellWeights('lla', 10, 50, 4, 3);
  assert.is(lla.hidden, 4);
  assert.is(lla.inputTable.length, (10 + 1) * 16);
  assert.is(lla.recurrent.length, 16 * 4);
  assert.is(lla.gateBias.length, 16);
  assert.is(lla.outputWeights.length, 10 * 4);
  assert.is(lla.outputBias.length, 10);
  const word = randomCellWeights('word-lla', 10, 50, 4, 3);
  assert.is(word.inputTable.length, (50 + 1) * 16);
  // forget-gate bias 1, the others 0 (Keras' unit forget bias)
  assert.equal(Array.from(lla.gateBias), [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  const recurrentLimit = Math.sqrt(6 / (4 + 16));
  const maxAbs = lla.recurrent.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(maxAbs <= recurrentLimit && maxAbs > 0.7 * recurrentLimit, `recurrent max |w| ${maxAbs}`);
  const outputLimit = Math.sqrt(6 / (4 + 10));
  assert.ok(lla.outputWeights.every((v) => Math.abs(v) <= outputLimit));
  assert.equal(randomCellWeights('lla', 10, 50, 4, 3).recurrent, lla.recurrent);
  assert.not.equal(randomCellWeights('lla', 10, 50, 4, 4).recurrent, lla.recurrent);
  assert.throws(() => randomCellWeights('lda', 10, 50, 4, 3), /lda mode has no LSTM/);
});

weights.run();

const warm = suite('bench: warm-up iterations');

/** Each backend's kernel (asserting which one loaded) with a small fixed corpus: 40 sequences of 30 actions from 50. */
async function* backendsWithCorpus() {
  const { loadKernel } = await import('../src/kernels/loader.js');
  for (const backend of ['native', 'wasm'] as const) {
    const kernel = await loadKernel({ backend });
    assert.is(kernel.name, backend);
    const offsets = Int32Array.from({ length: 41 }, (_, d) => 30 * d);
    const tokens = Int32Array.from({ length: 1200 }, (_, i) => (i * 7 + Math.floor(i / 30)) % 50);
    yield { kernel, corpus: { offsets, tokens, vocabularySize: 50 } };
  }
}

warm('warm-up iterations are real, untimed iterations: warmup 2 + 1 timed ends where 0 + 3 timed ends', async () => {
  const { runSamplerBench } = await import('../src/bench/sampler-throughput.js');
  for await (const { kernel, corpus } of backendsWithCorpus()) {
    const base = { mode: 'lda' as const, topics: 6, threads: 1, seed: 4, hidden: 8, mhSteps: 2, exact: false };
    const warmed = await runSamplerBench(kernel, corpus, { ...base, iterations: 1, warmup: 2 });
    const cold = await runSamplerBench(kernel, corpus, { ...base, iterations: 3, warmup: 0 });
    assert.is(warmed.warmupIterations, 2);
    assert.is(cold.warmupIterations, 0);
    assert.ok(warmed.phases.warmup > 0, 'warm-up time is reported');
    assert.is(cold.phases.warmup, 0);
    // the third sweep of both runs starts from the same topics with the same iteration number
    assert.is(warmed.logPhiPerToken, cold.logPhiPerToken);
    assert.is(warmed.countNonZeros, cold.countNonZeros);
    assert.ok(Math.abs(warmed.tokensPerSecond - warmed.tokens / warmed.seconds) / warmed.tokensPerSecond < 1e-9);
    // and the default is one warm-up iteration
    const byDefault = await runSamplerBench(kernel, corpus, { ...base, iterations: 1 });
    assert.is(byDefault.warmupIterations, 1);
    await runSamplerBench(kernel, corpus, { ...base, iterations: 1, warmup: -1 }).then(
      () => assert.unreachable('a negative warm-up must be refused'),
      (error: Error) => assert.match(error.message, /warmup must be a whole number >= 0/),
    );
  }
});

warm.run();

const compare = suite('bench: a comparison chain on other threads, turn about');

compare(
  '--compare-threads times a second chain side by side; it samples the same topics, and a kernel that does not is caught',
  async () => {
    const { runSamplerBench } = await import('../src/bench/sampler-throughput.js');
    for await (const { kernel, corpus } of backendsWithCorpus()) {
      const base = {
        mode: 'lda' as const,
        topics: 6,
        threads: 2,
        seed: 4,
        hidden: 8,
        mhSteps: 2,
        exact: false,
        iterations: 3,
      };
      const alone = await runSamplerBench(kernel, corpus, base);
      assert.is(alone.comparison, undefined);
      const both = await runSamplerBench(kernel, corpus, { ...base, compareThreads: 1 });
      // the main chain is the same chain with or without a comparison beside it
      assert.is(both.logPhiPerToken, alone.logPhiPerToken);
      assert.is(both.countNonZeros, alone.countNonZeros);
      const comparison = both.comparison!;
      assert.is(comparison.threads, 1);
      assert.is(comparison.threadsUsed, 1);
      assert.ok(
        Math.abs(comparison.tokensPerSecond - (both.tokens * 3) / comparison.seconds) / comparison.tokensPerSecond <
          1e-9,
      );
      assert.ok(Math.abs(comparison.speedup - both.tokensPerSecond / comparison.tokensPerSecond) < 1e-9);
      assert.ok(comparison.phases.sweep > 0 && comparison.phases.warmup > 0);
      // a kernel whose 1-thread sweep differs from its 2-thread sweep is reported, not timed
      const skewed = Object.create(kernel) as typeof kernel;
      skewed.sweep = async (args) => {
        const result = await kernel.sweep(args);
        if (args.threads === 1) args.topicsNext[5] = (args.topicsNext[5]! + 1) % 6;
        return result;
      };
      await runSamplerBench(skewed, corpus, { ...base, compareThreads: 1 }).then(
        () => assert.unreachable('different topics must be refused'),
        (error: Error) =>
          assert.match(error.message, /2 and 1 threads sampled different topics \(token \d+\)/, error.message),
      );
      await runSamplerBench(kernel, corpus, { ...base, compareThreads: -1 }).then(
        () => assert.unreachable('a negative thread count must be refused'),
        (error: Error) => assert.match(error.message, /compareThreads must be a whole number >= 0/),
      );
    }
  },
);

compare(
  '--compare-lookahead times a chain of the other lookahead setting side by side; each chain is the one it would be alone',
  async () => {
    const { runSamplerBench } = await import('../src/bench/sampler-throughput.js');
    for await (const { kernel, corpus } of backendsWithCorpus()) {
      const base = {
        mode: 'lla' as const,
        topics: 6,
        threads: 1,
        seed: 4,
        hidden: 8,
        mhSteps: 2,
        exact: false,
        iterations: 2,
      };
      const withLookahead = await runSamplerBench(kernel, corpus, { ...base, lookahead: true });
      const without = await runSamplerBench(kernel, corpus, { ...base, lookahead: false });
      // lookahead changes what is sampled, so the two lone chains differ and the pairing below is informative
      assert.is.not(withLookahead.logPhiPerToken, without.logPhiPerToken);
      const both = await runSamplerBench(kernel, corpus, { ...base, lookahead: true, compareLookahead: true });
      assert.is(both.logPhiPerToken, withLookahead.logPhiPerToken);
      assert.is(both.lookahead, true);
      const comparison = both.comparison!;
      assert.is(comparison.lookahead, false);
      assert.is(comparison.threads, 1);
      assert.ok(Math.abs(comparison.speedup - both.tokensPerSecond / comparison.tokensPerSecond) < 1e-9);
      await runSamplerBench(kernel, corpus, { ...base, mode: 'lda', compareLookahead: true }).then(
        () => assert.unreachable('lookahead outside lla must be refused'),
        (error: Error) => assert.match(error.message, /lookahead applies to the lla mode only, not lda/),
      );
      await runSamplerBench(kernel, corpus, { ...base, compareLookahead: true, compareThreads: 2 }).then(
        () => assert.unreachable('two comparison chains must be refused'),
        (error: Error) => assert.match(error.message, /compare either threads or lookahead in one run, not both/),
      );
    }
  },
);

compare.run();
