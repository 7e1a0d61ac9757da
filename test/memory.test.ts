// The memory estimate and --max-memory (issue 5 point 3): `lla train` refuses a run above the limit before
// allocating (exit 2, the estimate and its biggest parts named, nothing written) and runs under a generous one;
// the estimate of a mid-size lda run is within a factor of 2 of the resident memory the run really adds. The
// measurement runs in a child process (this file with LLA_MEMORY_CHILD set, node --expose-gc) so that the test
// runner's own heap does not blur it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { estimateTrainingMemory, parseMemorySize } from '../src/train/memory.js';
import { FALLBACK_MAX_TOPICS, hmmOrderNeeded } from '../src/train/settings.js';

const here = fileURLToPath(import.meta.url);
const root = join(here, '..', '..');

/** The child: a generated lda corpus of 3M tokens (V = 20,000, K = 100), trained for 2 sweeps in-process. */
async function measureChild(): Promise<void> {
  const { LlaModel } = await import('../src/model/model.js');
  const { Vocabulary } = await import('../src/corpus/vocabulary.js');
  const gc = (globalThis as { gc?: () => void }).gc!;
  const V = 20_000;
  const K = 100;
  const length = 600;
  const sequences = 5000;
  const heldOutSequences = 500;
  const words = Array.from({ length: V }, (_, w) => `a${w}`);
  gc();
  const before = process.memoryUsage().rss;
  // Zipf-like action frequencies from a seeded generator, as in real logs
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const makeCorpus = (count: number, vocabulary: InstanceType<typeof Vocabulary>) => {
    const tokens = new Int32Array(count * length);
    const offsets = new Int32Array(count + 1);
    for (let d = 0; d < count; d++) {
      offsets[d + 1] = offsets[d] + length;
      for (let t = 0; t < length; t++) tokens[d * length + t] = Math.min(V - 1, Math.floor(V ** next()) - 1);
    }
    return {
      file: 'memory-probe',
      format: 'text' as const,
      vocabulary,
      tokens,
      offsets,
      ids: Array.from({ length: count }, (_, d) => `s${d}`),
      sourceIndex: Int32Array.from({ length: count }, (_, d) => d),
      skippedTokens: 0,
      droppedSequences: 0,
      chunkedSequences: 0,
    };
  };
  const vocabulary = new Vocabulary(words, new Int32Array(V).fill(1));
  const train = makeCorpus(sequences, vocabulary);
  const heldOut = makeCorpus(heldOutSequences, vocabulary);
  const settings = {
    model: 'lda' as const,
    topics: K,
    iterations: 2,
    initLdaSweeps: 0,
    particles: 4,
    threads: 2,
    seed: 3,
  };
  const estimate = estimateTrainingMemory({
    model: 'lda',
    tokens: train.tokens.length,
    sequences,
    heldOutTokens: heldOut.tokens.length,
    heldOutSequences,
    vocabulary: V,
    topics: K,
    hidden: 64,
    embedding: 32,
    particles: 4,
    batch: 32,
    bptt: 32,
    threads: 2,
    lstmEngine: null,
  });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const model = await LlaModel.create({ ...settings, backend: 'native' });
  await model.train(train, { heldOut });
  peak = Math.max(peak, process.memoryUsage().rss);
  clearInterval(sampler);
  process.stdout.write(
    `${JSON.stringify({ estimate, before, peak, growth: peak - before, tokens: train.tokens.length })}\n`,
  );
  process.exit(0);
}

function run(
  command: string,
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      argv,
      { cwd: root, maxBuffer: 1 << 24, env: { ...process.env, NO_COLOR: '1', ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

if (process.env.LLA_MEMORY_CHILD) {
  measureChild().catch((error) => {
    process.stderr.write(`memory child failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
} else {
  const memory = suite('memory estimate and --max-memory');
  const folder = mkdtempSync(join(tmpdir(), 'lla-memory-'));
  const sample = join(root, 'data', 'sample-events.tsv.gz');
  memory.after(() => rmSync(folder, { recursive: true, force: true }));

  memory('--max-memory sizes parse; nonsense is a usage error', () => {
    assert.is(parseMemorySize('512M'), 512 * 1024 ** 2);
    assert.is(parseMemorySize('8G'), 8 * 1024 ** 3);
    assert.is(parseMemorySize('1.5g'), 1.5 * 1024 ** 3);
    assert.is(parseMemorySize('2048'), 2048);
    assert.is(parseMemorySize('64KiB'), 64 * 1024);
    for (const bad of ['', 'lots', '-1G', '0', '12Q', 'G']) assert.throws(() => parseMemorySize(bad), /--max-memory/);
  });

  memory('the estimate grows with the corpus, the topics and the LSTM', () => {
    const base = {
      model: 'lla' as const,
      tokens: 1e6,
      sequences: 1e4,
      heldOutTokens: 1e5,
      heldOutSequences: 1e3,
      vocabulary: 1e4,
      topics: 50,
      hidden: 64,
      embedding: 32,
      particles: 32,
      batch: 32,
      bptt: 32,
      threads: 2,
      lstmEngine: 'kernel' as const,
    };
    const reference = estimateTrainingMemory(base).bytes;
    assert.ok(estimateTrainingMemory({ ...base, tokens: 4e6 }).bytes > 2 * reference);
    assert.ok(estimateTrainingMemory({ ...base, topics: 500 }).bytes > reference);
    assert.ok(estimateTrainingMemory({ ...base, hidden: 512 }).bytes > reference);
    assert.ok(estimateTrainingMemory({ ...base, model: 'lda', lstmEngine: null }).bytes < reference, 'lda has no LSTM');
    // the hmm's transition table, [(K+1)^order][K] doubles and the WASM kernels' copy: K^3 at order 2
    const table = (hmmOrder: number) =>
      estimateTrainingMemory({ ...base, hmmOrder }).parts.find((part) => part.name === 'hmm transition table')?.bytes;
    assert.is(table(0), undefined);
    assert.is(table(1), 2 * 51 * 50 * 8);
    assert.is(table(2), 2 * 51 * 51 * 50 * 8);
    // which order a run may need: 2 where the second-order fallback may run (at most FALLBACK_MAX_TOPICS topics)
    const run = {
      model: 'lla' as const,
      topics: 50,
      initHmmSweeps: 20,
      initHmmOrder: 1,
      initFallbackSweeps: 200,
    };
    assert.equal(
      [
        hmmOrderNeeded(run),
        hmmOrderNeeded({ ...run, initFallbackSweeps: 0 }),
        hmmOrderNeeded({ ...run, topics: FALLBACK_MAX_TOPICS + 1 }),
        hmmOrderNeeded({ ...run, initHmmOrder: 2, topics: FALLBACK_MAX_TOPICS + 1 }),
        hmmOrderNeeded({ ...run, initHmmSweeps: 0 }),
        hmmOrderNeeded({ ...run, model: 'lda' }),
      ],
      [2, 1, 1, 2, 0, 0],
    );
    // --lookahead auto holds two snapshots of the run (topics [T] each at least) beside it, with the copy fit only
    const choosing = estimateTrainingMemory({ ...base, copy: true, chooseLookahead: true }).bytes;
    assert.ok(choosing - estimateTrainingMemory({ ...base, copy: true }).bytes >= 2 * base.tokens * 4);
    assert.is(estimateTrainingMemory({ ...base, chooseLookahead: true }).bytes, reference, 'no held-in fit: no choice');
    // repeat blocks keep the collapsed corpus (tokens and source positions, at most T each) and the table [V]
    const blocks = estimateTrainingMemory({ ...base, repeatBlocks: true }).bytes - reference;
    assert.is(blocks, (2 * base.tokens + base.sequences + 1) * 4 + base.vocabulary * 8);
    // each engine's work space is counted: the kernel trainer's per-block gradients, TF.js's window activations
    const named = (engine: 'kernel' | 'tfjs') =>
      estimateTrainingMemory({ ...base, lstmEngine: engine }).parts.map((part) => part.name);
    assert.ok(named('kernel').some((name) => name.includes('kernel engine')));
    assert.ok(named('tfjs').some((name) => name.startsWith('TF.js training window')));
    const parts = estimateTrainingMemory(base).parts;
    assert.ok(
      parts.every((part, i) => i === 0 || part.bytes <= parts[i - 1].bytes),
      'largest part first',
    );
  });

  memory(
    'lla train refuses a run above --max-memory (exit 2, estimate and biggest parts named, nothing written)',
    async () => {
      const out = join(folder, 'refused.lla');
      const refused = await run(process.execPath, [
        join(root, 'bin', 'lla.js'),
        'train',
        sample,
        '--model',
        'lda',
        '--topics',
        '20',
        '--iterations',
        '2',
        '--max-memory',
        '1M',
        '--out',
        out,
        '--checkpoint-every',
        '1',
      ]);
      assert.is(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /needs about [\d.]+ MiB, more than --max-memory 1M/);
      assert.match(refused.stderr, /biggest parts: .*count tables/);
      assert.match(refused.stderr, /Raise --max-memory/);
      assert.not.match(refused.stderr, /^\s+at /m);
      assert.not.ok(existsSync(out) || existsSync(`${out}.ckpt`), 'nothing written');
    },
  );

  memory('lla train runs under a generous --max-memory and reports its estimate', async () => {
    const out = join(folder, 'accepted.lla');
    const accepted = await run(process.execPath, [
      join(root, 'bin', 'lla.js'),
      'train',
      sample,
      '--model',
      'lda',
      '--topics',
      '20',
      '--iterations',
      '2',
      '--max-memory',
      '64G',
      '--out',
      out,
      '--json',
      '--particles',
      '4',
    ]);
    assert.is(accepted.code, 0, accepted.stderr);
    const result = JSON.parse(accepted.stdout.trim().split('\n').pop()!);
    assert.ok(result.estimatedMemoryBytes > 1024 * 1024, `estimate ${result.estimatedMemoryBytes}`);
    assert.ok(existsSync(out));
  });

  memory('the estimate of a mid-size lda run is within a factor of 2 of the measured RSS growth', async () => {
    const measured = await run(process.execPath, ['--expose-gc', '--import', 'tsx', here], { LLA_MEMORY_CHILD: '1' });
    assert.is(measured.code, 0, measured.stderr);
    const { estimate, growth, tokens } = JSON.parse(measured.stdout.trim().split('\n').pop()!);
    const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
    console.log(
      `  memory: ${tokens.toLocaleString('en-US')} tokens, K=100, V=20,000 lda: estimate ${mib(estimate.bytes)}, ` +
        `measured RSS growth ${mib(growth)} (ratio ${(growth / estimate.bytes).toFixed(2)}); parts: ` +
        estimate.parts.map((part: { name: string; bytes: number }) => `${part.name} ${mib(part.bytes)}`).join('; '),
    );
    assert.ok(
      growth <= 2 * estimate.bytes && growth >= estimate.bytes / 2,
      `estimate ${mib(estimate.bytes)} vs measured growth ${mib(growth)}`,
    );
  });

  memory.run();
}
