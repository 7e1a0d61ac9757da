// One Ctrl-C stops eval, predict, infer and train's final evaluation (issue 16 item 6). The kernels run whole
// corpora per call, so the drivers run a corpus in chunks of sequences and check the signal between chunks
// (src/kernels/chunks.ts). Here, on both backends: a kernel call given `firstSequence` draws exactly what the same
// sequences draw inside one call; every chunked driver (held-out filter with mixtures, document completion,
// inference sweeps) gives bit-identical numbers for any chunk size; an aborted signal stops a driver at the next
// chunk boundary. Then the real CLI: a run sent SIGINT once while it evaluates exits 130 with one interrupt
// message and writes nothing; train keeps its finished training in the checkpoint, and --resume evaluates it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKernel } from '../src/kernels/loader.js';
import type { BackendName, Kernel, KernelMode } from '../src/kernels/types.js';
import { sequenceLogLikelihoods, type HeldOutOptions } from '../src/eval/perplexity.js';
import { completionPerplexity } from '../src/eval/completion.js';
import { sampleTopicsWithFixedTables } from '../src/train/sample-topics.js';
import { DEFAULT_SETTINGS } from '../src/train/settings.js';
import { randomCorpus, randomWeights, sweepArgs, tables } from './helpers/kernel-data.js';
import { mulberry32 } from './helpers/mulberry32.js';
import { rejects } from './helpers/rejects.js';
import { lastJson, projectRoot, runCli } from './helpers/cli.js';

const BACKENDS: BackendName[] = (process.env.LLA_TEST_BACKENDS?.split(',') as BackendName[] | undefined) ?? [
  'native',
  'wasm',
];
const MODES: KernelMode[] = ['lda', 'lla', 'word-lla'];
const K = 5;
const V = 30;
const H = 8;

const chunks = suite('interrupts: a corpus run in chunks of sequences gives the numbers of one call');

/** The sequences [first, end) of a corpus as a corpus of their own (offsets from 0). */
function piece(corpus: { tokens: Int32Array; offsets: Int32Array }, first: number, end: number) {
  const start = corpus.offsets[first];
  return {
    tokens: corpus.tokens.slice(start, corpus.offsets[end]),
    offsets: Int32Array.from(corpus.offsets.subarray(first, end + 1), (offset) => offset - start),
    start,
  };
}

/** A seeded corpus with its count tables and cell weights for every mode. */
function fixture(kernel: Kernel) {
  const random = mulberry32(17);
  const corpus = randomCorpus(random, 23, 12, V);
  const topics = Int32Array.from(corpus.tokens, () => Math.floor(random() * K));
  const { counts } = tables(kernel, corpus, topics, K, 0.1);
  const weightsOf: Record<KernelMode, ReturnType<typeof randomWeights> | undefined> = {
    lda: undefined,
    lla: randomWeights(random, K + 1, K, H),
    'word-lla': randomWeights(random, V + 1, K, H),
  };
  return { corpus, counts, weightsOf };
}

for (const backend of BACKENDS) {
  let cached: Kernel | undefined;
  const kernel = async (): Promise<Kernel> => (cached ??= await loadKernel({ backend }));

  chunks(
    `[${backend}] particleFilter: chunks with firstSequence equal one call (likelihoods and mixtures, bit for bit)`,
    async () => {
      const k = await kernel();
      const { corpus, counts, weightsOf } = fixture(k);
      const D = corpus.offsets.length - 1;
      // positions: every third token; mixtures [P][K]
      const positions = Int32Array.from({ length: Math.floor(corpus.tokens.length / 3) }, (_, i) => 3 * i);
      for (const mode of MODES) {
        const common = {
          mode,
          numTopics: K,
          vocabularySize: V,
          counts,
          beta: 0.1,
          alpha: 0.5,
          particles: 16,
          seed: 9,
          threads: 2,
          ...(weightsOf[mode] ? { weights: weightsOf[mode] } : {}),
        };
        const whole = new Float64Array(D);
        const wholeMixtures = new Float32Array(positions.length * K);
        await k.particleFilter({
          ...common,
          tokens: corpus.tokens,
          offsets: corpus.offsets,
          logLikelihood: whole,
          mixturePositions: positions,
          mixtures: wholeMixtures,
        });
        const split = new Float64Array(D);
        const splitMixtures = new Float32Array(positions.length * K);
        const unshifted = new Float64Array(D);
        for (const [first, end] of [
          [0, 4],
          [4, 5],
          [5, 17],
          [17, D],
        ]) {
          const part = piece(corpus, first, end);
          const from = positions.findIndex((p) => p >= part.start);
          const to = positions.findIndex((p) => p >= corpus.offsets[end]);
          const local = Int32Array.from(
            positions.subarray(from, to < 0 ? positions.length : to),
            (p) => p - part.start,
          );
          await k.particleFilter({
            ...common,
            tokens: part.tokens,
            offsets: part.offsets,
            firstSequence: first,
            logLikelihood: split.subarray(first, end),
            mixturePositions: local,
            mixtures: splitMixtures.subarray(from * K, (from + local.length) * K),
          });
          await k.particleFilter({
            ...common,
            tokens: part.tokens,
            offsets: part.offsets,
            logLikelihood: unshifted.subarray(first, end),
          });
        }
        assert.equal(Array.from(split), Array.from(whole), `${mode}: log-likelihoods`);
        assert.equal(Array.from(splitMixtures), Array.from(wholeMixtures), `${mode}: mixtures`);
        // without firstSequence the later chunks would draw sequence 0's streams: the argument is what keeps them
        if (mode !== 'word-lla')
          assert.not.equal(Array.from(unshifted), Array.from(whole), `${mode}: firstSequence changes nothing`);
      }
    },
  );

  chunks(
    `[${backend}] sweep: chunks with firstSequence equal one call (fixed tables, every mode, MH and exact)`,
    async () => {
      const k = await kernel();
      const { corpus, weightsOf } = fixture(k);
      const D = corpus.offsets.length - 1;
      for (const mode of MODES) {
        for (const exact of [false, true]) {
          const args = sweepArgs(k, corpus, K, mode, {
            exact,
            seed: 4,
            iteration: 3,
            threads: 2,
            ...(weightsOf[mode] ? { weights: weightsOf[mode] } : {}),
          });
          const whole = new Int32Array(corpus.tokens.length);
          await k.sweep({ ...args, topicsNext: whole });
          const split = new Int32Array(corpus.tokens.length);
          for (const [first, end] of [
            [0, 9],
            [9, 10],
            [10, D],
          ]) {
            const part = piece(corpus, first, end);
            const next = new Int32Array(part.tokens.length);
            await k.sweep({
              ...args,
              tokens: part.tokens,
              offsets: part.offsets,
              firstSequence: first,
              topicsNext: next,
              topicsPrev: args.topicsPrev.slice(part.start, part.start + part.tokens.length),
            });
            split.set(next, part.start);
          }
          assert.equal(Array.from(split), Array.from(whole), `${mode} exact=${exact}`);
        }
      }
    },
  );

  chunks(`[${backend}] firstSequence outside the limits is refused on both backends alike`, async () => {
    const k = await kernel();
    const { corpus, counts } = fixture(k);
    const D = corpus.offsets.length - 1;
    for (const bad of [-1, 0.5, 2 ** 53]) {
      await rejects(
        () =>
          k.particleFilter({
            mode: 'lda',
            numTopics: K,
            vocabularySize: V,
            counts,
            beta: 0.1,
            alpha: 0.5,
            particles: 4,
            seed: 1,
            threads: 1,
            tokens: corpus.tokens,
            offsets: corpus.offsets,
            logLikelihood: new Float64Array(D),
            firstSequence: bad,
          }),
        /firstSequence must be a whole number in \[0, 9007199254740991\]/,
      );
    }
  });

  chunks(
    `[${backend}] the chunked drivers give the same numbers for any chunk size (filter, completion, inference)`,
    async () => {
      const k = await kernel();
      const { corpus, counts, weightsOf } = fixture(k);
      const positions = Int32Array.from({ length: 20 }, (_, i) => 1 + 3 * i);
      for (const mode of MODES) {
        const options: HeldOutOptions = {
          kernel: k,
          mode,
          counts,
          beta: 0.1,
          alpha: 0.5,
          particles: 8,
          seed: 3,
          threads: 2,
          corpus,
          numTopics: K,
          vocabularySize: V,
          ...(weightsOf[mode] ? { weights: weightsOf[mode] } : {}),
        };
        const runs = [];
        for (const chunkTokens of [1, 7, 40, 1 << 30]) {
          const mixtures = new Float32Array(positions.length * K);
          const perSequence = await sequenceLogLikelihoods({ ...options, chunkTokens }, corpus, {
            positions,
            mixtures,
          });
          const completion = await completionPerplexity({ ...options, chunkTokens, gibbsSweeps: 4, burnIn: 2 });
          const inferred = await sampleTopicsWithFixedTables(
            {
              kernel: k,
              mode,
              settings: { ...DEFAULT_SETTINGS, topics: K, seed: 3, threads: 2, exact: false },
              vocabularySize: V,
              counts,
              weights: weightsOf[mode],
              tokens: corpus.tokens,
              offsets: corpus.offsets,
              sweeps: 3,
            },
            { chunkTokens },
          );
          runs.push({
            perSequence: Array.from(perSequence),
            mixtures: Array.from(mixtures),
            completion: Array.from(completion.perSequence),
            inferred: Array.from(inferred),
          });
        }
        for (const run of runs.slice(1)) assert.equal(run, runs[0], `${mode}: chunked and whole runs differ`);
      }
    },
  );

  chunks(
    `[${backend}] an aborted signal stops a chunked filter at the next chunk boundary: one kernel call made`,
    async () => {
      const k = await kernel();
      const { corpus, counts } = fixture(k);
      const controller = new AbortController();
      let calls = 0;
      // the kernel's own particleFilter, counting its calls and aborting during the first
      const counting = Object.create(k) as Kernel;
      counting.particleFilter = async (args) => {
        calls++;
        controller.abort();
        return k.particleFilter(args);
      };
      const options: HeldOutOptions = {
        kernel: counting,
        mode: 'lda',
        counts,
        beta: 0.1,
        alpha: 0.5,
        particles: 4,
        seed: 3,
        threads: 1,
        corpus,
        numTopics: K,
        vocabularySize: V,
        chunkTokens: 10,
        signal: controller.signal,
      };
      assert.is((await rejects(() => sequenceLogLikelihoods(options), /interrupted/)).name, 'InterruptedError');
      assert.is(calls, 1);
      // and an already aborted signal makes no call at all
      assert.is((await rejects(() => sequenceLogLikelihoods(options), /interrupted/)).name, 'InterruptedError');
      assert.is(calls, 1);
    },
  );
}

chunks.run();

// ---- the CLI: one SIGINT while a command evaluates ------------------------------------------------------------
// Each run's uninterrupted work is sized to take far longer than the test allows it after the signal (a minute or
// more), so a command that ignores the signal fails by its exit code, its output or its time, not by luck.
const cli = suite(
  "interrupts: one Ctrl-C stops eval, predict, infer and train's final evaluation: exit 130, nothing written",
);
const folder = mkdtempSync(join(tmpdir(), 'lla-interrupt-'));
const at = (name: string) => join(folder, name);
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.LLA_BACKEND;
/** After the signal a run must end within this (the chunks take about 0.1 s; this is for a loaded machine). */
const STOP_SECONDS = 20;

interface Interrupted {
  code: number | null;
  stdout: string;
  stderr: string;
  /** seconds from the signal to the exit (null: the marker never came, no signal sent) */
  afterSignal: number | null;
}

/** Runs `lla ...argv`, sends SIGINT once when stderr matches `marker`, and waits for the exit. */
function interruptWhen(argv: string[], marker: RegExp, extraEnv: NodeJS.ProcessEnv): Promise<Interrupted> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin', 'lla.js'), ...argv], {
      env: { ...env, ...extraEnv },
    });
    let stdout = '';
    let stderr = '';
    let signalled: number | null = null;
    // a run that never stops is killed, so that the test fails instead of hanging
    const guard = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (signalled === null && marker.test(stderr)) {
        signalled = performance.now();
        child.kill('SIGINT');
      }
    });
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({
        code,
        stdout,
        stderr,
        afterSignal: signalled === null ? null : (performance.now() - signalled) / 1000,
      });
    });
  });
}

interface InterruptCase {
  title: string;
  argv: string[];
  backend: BackendName;
  marker: RegExp;
  /** files that must not exist afterwards */
  absent: string[];
  check?: (run: Interrupted) => Promise<void> | void;
  result?: Interrupted;
}

const TRAIN_SETTINGS = ['--model', 'lda', '-k', '6', '-n', '2', '--particles', '2048', '--seed', '5'];
const cases: InterruptCase[] = [];
for (const backend of BACKENDS) {
  cases.push(
    {
      title: `[${backend}] eval`,
      backend,
      marker: /lla eval: scoring/,
      absent: [],
      argv: ['eval', at('lda.lla'), at('big.txt'), '--particles', '8192'],
    },
    {
      title: `[${backend}] predict`,
      backend,
      marker: /lla predict: ranking/,
      absent: [],
      argv: ['predict', at('lda.lla'), at('big.txt'), '--particles', '8192'],
    },
    {
      title: `[${backend}] infer`,
      backend,
      marker: /lla infer: sampling/,
      absent: [],
      argv: ['infer', at('lda.lla'), at('big.txt'), '--sweeps', '20000'],
    },
    {
      // the signal comes during the last iteration or its evaluation: either way the evaluation stops
      title: `[${backend}] train's final evaluation: the finished training kept in the checkpoint, --resume evaluates it`,
      backend,
      marker: /iteration 1\/2/,
      absent: [at(`train-${backend}.lla`)],
      argv: ['train', at('small.txt'), ...TRAIN_SETTINGS, '--test', at('big.txt'), '--out', at(`train-${backend}.lla`)],
      check: async (run) => {
        const out = at(`train-${backend}.lla`);
        assert.match(run.stderr, /final held-out evaluation was interrupted/);
        assert.ok(run.stderr.includes(`${out}.ckpt`), `names the checkpoint: ${run.stderr}`);
        assert.ok(existsSync(`${out}.ckpt`), 'the checkpoint holds the finished training');
        // --resume runs only the evaluation (here on a small test file) and saves: as a run never interrupted
        const [resumed, plain] = await Promise.all([
          runCli(
            ['train', at('small.txt'), ...TRAIN_SETTINGS, '--test', at('test.txt'), '--out', out, '--resume', '--json'],
            { ...env, LLA_BACKEND: backend },
          ),
          runCli(['train', at('small.txt'), ...TRAIN_SETTINGS, '--test', at('test.txt'), '--json'], {
            ...env,
            LLA_BACKEND: backend,
          }),
        ]);
        assert.is(resumed.code, 0, resumed.stderr);
        assert.is(plain.code, 0, plain.stderr);
        const [a, b] = [lastJson(resumed), lastJson(plain)];
        assert.is(a.resumedIterations, 2);
        assert.is(a.out, out);
        assert.is(a.heldOutPerplexity, b.heldOutPerplexity, 'the resumed evaluation equals the uninterrupted one');
        assert.is(a.recallAt10, b.recallAt10);
        assert.not.ok(existsSync(`${out}.ckpt`), 'the checkpoint is removed once the model is saved');
      },
    },
  );
}

cli.before(async () => {
  const common = ['-k', '6', '--vocabulary', '120', '--seed', '3'];
  const made = await Promise.all([
    runCli(['generate', '--out', at('big.txt'), ...common, '--sequences', '3000', '--length', '60'], env),
    runCli(['generate', '--out', at('small.txt'), ...common, '--sequences', '200', '--length', '20'], env),
    runCli(['generate', '--out', at('test.txt'), ...common, '--sequences', '30', '--length', '20', '--seed', '4'], env),
  ]);
  for (const run of made) assert.is(run.code, 0, run.stderr);
  const trained = await runCli(
    ['train', at('small.txt'), '--model', 'lda', '-k', '6', '-n', '3', '--out', at('lda.lla')],
    env,
  );
  assert.is(trained.code, 0, trained.stderr);
  // two at a time: each is a real run of a few seconds on a machine that may be busy
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < cases.length) {
        const item = cases[next++];
        item.result = await interruptWhen(item.argv, item.marker, { LLA_BACKEND: item.backend });
      }
    }),
  );
});

cli.after(() => rmSync(folder, { recursive: true, force: true }));

for (const item of cases) {
  cli(item.title, async () => {
    const run = item.result!;
    const context = `\n$ lla ${item.argv.join(' ')}\nexit ${run.code}\nstderr: ${run.stderr}\nstdout: ${run.stdout.slice(0, 300)}`;
    assert.ok(run.afterSignal !== null, `the marker ${item.marker} never came${context}`);
    assert.is(run.code, 130, `exit code${context}`);
    assert.ok(run.afterSignal! < STOP_SECONDS, `stopped ${run.afterSignal!.toFixed(1)} s after the signal${context}`);
    const lines = run.stderr.split('\n');
    assert.is(lines.filter((line) => /interrupt received/.test(line)).length, 1, `one interrupt notice${context}`);
    assert.is(lines.filter((line) => /interrupted/.test(line)).length, 1, `one interrupted message${context}`);
    assert.not.match(run.stderr, /^\s+at |unexpected failure|bug in lla/m, `a crash report${context}`);
    assert.is(run.stdout, '', `nothing written to stdout${context}`);
    for (const path of item.absent) assert.not.ok(existsSync(path), `${path} was written${context}`);
    await item.check?.(run);
  });
}

cli.run();
