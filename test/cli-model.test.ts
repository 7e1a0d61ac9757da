// The model-consuming commands (eval, infer, predict, topics, export) against one small model trained once on a
// generated corpus: JSON keys and shapes, determinism, probabilities, both kernel backends, and bad inputs
// (exit 2, the file named, nothing written).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastJson, runCli as runHelper } from './helpers/cli.js';

const folder = mkdtempSync(join(tmpdir(), 'lla-cli-model-'));
const generated = join(folder, 'generated.txt');
const trainPath = join(folder, 'train.txt');
const testPath = join(folder, 'test.txt');
const modelPath = join(folder, 'model.lla');
const lstmPath = join(folder, 'lstm.lla');
const K = 6;
const TEST_SEQUENCES = 30;
/** two actions the model never saw, put into the first test sequence */
const UNKNOWN = ['never_seen_1', 'never_seen_2'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** the caller's environment without backend overrides, so each test's --backend is what decides */
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.LLA_BACKEND;
delete env.LLA_TF_BACKEND;

const runCli = (argv: string[]): Promise<Run> => runHelper(argv, env);

function jsonLines(run: Run): Array<Record<string, any>> {
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

let trainVocabulary = new Set<string>();
let testSequences: string[][] = [];

const cli = suite('model commands: command line');

cli.before(async () => {
  const made = await runCli([
    'generate',
    '--out',
    generated,
    '--topics',
    String(K),
    '--vocabulary',
    '150',
    '--sequences',
    '230',
    '--length',
    '30',
    '--seed',
    '11',
  ]);
  assert.is(made.code, 0, made.stderr);
  const lines = readFileSync(generated, 'utf8').trim().split('\n');
  const train = lines.slice(0, lines.length - TEST_SEQUENCES);
  testSequences = lines.slice(lines.length - TEST_SEQUENCES).map((line) => line.split(/\s+/));
  testSequences[0] = [testSequences[0][0], UNKNOWN[0], ...testSequences[0].slice(1), UNKNOWN[1]];
  writeFileSync(trainPath, `${train.join('\n')}\n`);
  writeFileSync(testPath, `${testSequences.map((sequence) => sequence.join(' ')).join('\n')}\n`);
  trainVocabulary = new Set(train.flatMap((line) => line.split(/\s+/)));
  const [topicModel, lstmModel] = await Promise.all([
    runCli([
      'train',
      trainPath,
      '--topics',
      String(K),
      '--iterations',
      '4',
      '--init',
      'lda:2',
      '--lstm-tokens',
      '3000',
      '--hidden',
      '16',
      '--embedding',
      '8',
      '--holdout',
      '0',
      '--seed',
      '3',
      '--out',
      modelPath,
      '--json',
    ]),
    runCli([
      'train',
      trainPath,
      '--model',
      'lstm',
      '--iterations',
      '1',
      '--lstm-tokens',
      '300',
      '--hidden',
      '8',
      '--embedding',
      '4',
      '--holdout',
      '0',
      '--out',
      lstmPath,
      '--json',
    ]),
  ]);
  assert.is(topicModel.code, 0, topicModel.stderr);
  assert.is(lstmModel.code, 0, lstmModel.stderr);
});

cli.after(() => rmSync(folder, { recursive: true, force: true }));

/** test tokens outside the training vocabulary (the two inserted ones at least) */
function expectedOutOfVocabulary(): number {
  return testSequences.flat().filter((action) => !trainVocabulary.has(action)).length;
}

const EVAL_KEYS = [
  'perplexity',
  'recallAt1',
  'recallAt10',
  'mrr',
  'tokens',
  'sequences',
  'outOfVocabulary',
  'model',
  'backend',
];

cli(
  'eval: every key, on both kernel backends, each reporting the backend it ran; identical numbers when repeated',
  async () => {
    const [native, nativeAgain, wasm] = await Promise.all([
      runCli(['eval', modelPath, testPath, '--backend', 'native', '--json']),
      runCli(['eval', modelPath, testPath, '--backend', 'native', '--json']),
      runCli(['eval', modelPath, testPath, '--backend', 'wasm', '--json']),
    ]);
    for (const run of [native, nativeAgain, wasm]) assert.is(run.code, 0, run.stderr);
    const first = lastJson(native);
    const second = lastJson(nativeAgain);
    const onWasm = lastJson(wasm);
    for (const key of EVAL_KEYS) assert.ok(key in first, `missing key ${key}`);
    assert.is(first.backend, 'native');
    assert.is(onWasm.backend, 'wasm');
    assert.is(first.model, 'lla');
    const oov = expectedOutOfVocabulary();
    assert.ok(oov >= UNKNOWN.length);
    assert.is(first.outOfVocabulary, oov);
    assert.is(first.tokens + first.outOfVocabulary, testSequences.flat().length);
    assert.is(first.sequences, TEST_SEQUENCES);
    assert.ok(
      Number.isFinite(first.perplexity) && first.perplexity > 1 && first.perplexity < trainVocabulary.size,
      `perplexity ${first.perplexity} should lie between 1 and V`,
    );
    for (const key of ['recallAt1', 'recallAt10', 'mrr'])
      assert.ok(first[key] >= 0 && first[key] <= 1, `${key} ${first[key]}`);
    assert.ok(first.recallAt10 >= first.recallAt1);
    for (const key of [
      'perplexity',
      'recallAt1',
      'recallAt10',
      'mrr',
      'logLikelihood',
      'tokens',
      'nextActionPositions',
    ]) {
      assert.is(second[key], first[key], `${key} differs between two identical runs`);
    }
    // the backends share one definition; their float arithmetic may differ slightly, not the estimate
    assert.ok(
      Math.abs(onWasm.perplexity - first.perplexity) / first.perplexity < 0.05,
      `native ${first.perplexity} vs wasm ${onWasm.perplexity}`,
    );
    assert.is(onWasm.tokens, first.tokens);
  },
);

cli('eval: the completion protocol and a human-readable report', async () => {
  const [completion, human] = await Promise.all([
    runCli(['eval', modelPath, testPath, '--perplexity', 'completion', '--json']),
    runCli(['eval', modelPath, testPath]),
  ]);
  assert.is(completion.code, 0, completion.stderr);
  const result = lastJson(completion);
  assert.is(result.perplexityMethod, 'completion');
  assert.ok(Number.isFinite(result.perplexity) && result.perplexity > 1);
  assert.is(human.code, 0, human.stderr);
  // the model is a default lla: its held-out runs of one action are scored as repeat blocks
  assert.match(human.stdout, /perplexity\s+\d+\.\d+ \(left-to-right, repeat blocks\)/);
  assert.is(result.repeatBlocks, true);
  assert.match(human.stdout, /Recall@1 \d\.\d{4}, Recall@10 \d\.\d{4}, MRR \d\.\d{4}/);
  assert.match(human.stdout, new RegExp(`${expectedOutOfVocabulary()} tokens skipped`));
});

cli('infer: one JSON line per sequence, a topic per action, null exactly at unknown actions; runs match', async () => {
  const [json, human] = await Promise.all([
    runCli(['infer', modelPath, testPath, '--sweeps', '3', '--json']),
    runCli(['infer', modelPath, testPath, '--sweeps', '3']),
  ]);
  assert.is(json.code, 0, json.stderr);
  const lines = jsonLines(json);
  assert.is(lines.length, TEST_SEQUENCES);
  lines.forEach((line, d) => {
    assert.is(line.id, String(d + 1), 'text ids are 1-based line numbers');
    assert.is(line.topics.length, testSequences[d].length);
    line.topics.forEach((topic: number | null, t: number) => {
      if (trainVocabulary.has(testSequences[d][t])) {
        assert.ok(Number.isInteger(topic) && topic! >= 0 && topic! < K, `topic ${topic}`);
      } else {
        assert.is(topic, null);
      }
    });
    assert.is(line.unknown, testSequences[d].filter((action) => !trainVocabulary.has(action)).length);
  });
  assert.ok(new Set(lines.flatMap((line) => line.topics)).size > 2, 'more than one topic used');
  // the human runs expand to the same paths (the same seed samples the same topics)
  assert.is(human.code, 0, human.stderr);
  const rows = human.stdout.trim().split('\n');
  assert.is(rows.length, TEST_SEQUENCES);
  rows.forEach((row, d) => {
    const [id, runs] = row.split('\t');
    assert.is(id, String(d + 1));
    const expanded = runs.split(' ').flatMap((run) => {
      const [topic, count] = run.split('x');
      return Array.from({ length: Number(count) }, () => (topic === '?' ? null : Number(topic)));
    });
    assert.equal(expanded, lines[d].topics);
  });
});

cli('predict: top-n next actions per sequence, probabilities in (0, 1] and sorted, known actions only', async () => {
  const run = await runCli(['predict', modelPath, testPath, '-n', '7', '--json']);
  assert.is(run.code, 0, run.stderr);
  const lines = jsonLines(run);
  assert.is(lines.length, TEST_SEQUENCES);
  lines.forEach((line, d) => {
    assert.is(line.id, String(d + 1));
    assert.is(line.next.length, 7);
    const seen = new Set<string>();
    line.next.forEach((entry: { action: string; probability: number }, i: number) => {
      assert.ok(trainVocabulary.has(entry.action), `${entry.action} is not a training action`);
      assert.ok(!seen.has(entry.action), 'each action once');
      seen.add(entry.action);
      assert.ok(entry.probability > 0 && entry.probability <= 1, `probability ${entry.probability}`);
      if (i > 0) assert.ok(entry.probability <= line.next[i - 1].probability, 'sorted, most probable first');
    });
  });
  lines.forEach((line, d) =>
    assert.is(line.unknown, testSequences[d].filter((action) => !trainVocabulary.has(action)).length),
  );
  assert.ok(lines[0].unknown >= UNKNOWN.length);
  // different histories lead to different predictions (the sequence is actually read)
  assert.ok(
    new Set(lines.map((line) => line.next[0].action)).size > 1 ||
      new Set(lines.map((line) => line.next[0].probability)).size > 1,
  );
});

/** predict -n V lists every action once: its probabilities form the whole next-action distribution */
function assertFullDistributions(lines: Array<Record<string, any>>): void {
  assert.is(lines.length, TEST_SEQUENCES);
  for (const line of lines) {
    assert.is(line.next.length, trainVocabulary.size);
    assert.is(new Set(line.next.map((entry: { action: string }) => entry.action)).size, trainVocabulary.size);
    const total = line.next.reduce((sum: number, entry: { probability: number }) => sum + entry.probability, 0);
    assert.ok(Math.abs(total - 1) < 1e-5, `next-action probabilities add up to ${total}`);
  }
}

cli('predict -n V: the whole next-action distribution, adding up to 1', async () => {
  const run = await runCli(['predict', modelPath, testPath, '-n', String(trainVocabulary.size), '--json']);
  assert.is(run.code, 0, run.stderr);
  assertFullDistributions(jsonLines(run));
});

cli('topics: K topics of n actions, sorted, shares adding up to 1', async () => {
  const run = await runCli(['topics', modelPath, '-n', '4', '--json']);
  assert.is(run.code, 0, run.stderr);
  const result = lastJson(run);
  assert.is(result.numTopics, K);
  assert.is(result.topics.length, K);
  let share = 0;
  for (const topic of result.topics) {
    assert.is(topic.actions.length, 4);
    for (let i = 1; i < 4; i++) assert.ok(topic.actions[i].probability <= topic.actions[i - 1].probability);
    for (const word of topic.actions) assert.ok(trainVocabulary.has(word.action));
    share += topic.share;
  }
  assert.ok(Math.abs(share - 1) < 1e-9, `shares add up to ${share}`);
});

cli(
  'export JSON: dense phi K x V with rows summing to 1, sparse phi reconstructs it, topics and transitions',
  async () => {
    const dense = join(folder, 'export-dense.json');
    const sparse = join(folder, 'export-sparse.json');
    const [denseRun, sparseRun] = await Promise.all([
      runCli(['export', modelPath, '--out', dense, '-n', '5', '--json']),
      runCli(['export', modelPath, '--out', sparse, '--phi', 'sparse']),
    ]);
    assert.is(denseRun.code, 0, denseRun.stderr);
    assert.is(sparseRun.code, 0, sparseRun.stderr);
    assert.equal(lastJson(denseRun).files, [dense]);
    const exported = JSON.parse(readFileSync(dense, 'utf8'));
    const V = exported.numActions;
    assert.is(V, trainVocabulary.size);
    assert.is(exported.numTopics, K);
    assert.is(exported.actions.length, V);
    assert.is(exported.phi.layout, 'dense');
    assert.is(exported.phi.rows.length, K);
    for (const row of exported.phi.rows) {
      assert.is(row.length, V);
      const total = row.reduce((a: number, b: number) => a + b, 0);
      assert.ok(Math.abs(total - 1) < 1e-9, `phi row sums to ${total}`);
    }
    assert.is(exported.topics.length, K);
    for (const topic of exported.topics) {
      assert.is(topic.actions.length, 5);
      // the top actions are phi's largest entries of the row
      const row: number[] = exported.phi.rows[topic.topic];
      assert.is(topic.actions[0].probability, Math.max(...row));
      assert.is(row[exported.actions.indexOf(topic.actions[0].action)], topic.actions[0].probability);
    }
    assert.is(exported.transitions.length, K);
    for (const row of exported.transitions) {
      assert.is(row.length, K);
      assert.ok(Math.abs(row.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-6);
    }
    const compact = JSON.parse(readFileSync(sparse, 'utf8'));
    assert.is(compact.phi.layout, 'sparse');
    assert.is(compact.phi.rows.length, K);
    compact.phi.rows.forEach((row: { actions: number[]; probabilities: number[] }, k: number) => {
      const rebuilt = new Array(V).fill(compact.phi.floor[k]);
      row.actions.forEach((w, i) => {
        rebuilt[w] = row.probabilities[i];
      });
      assert.equal(rebuilt, exported.phi.rows[k]);
      assert.ok(row.actions.length < V, 'sparse rows list only the actions with a count');
    });
  },
);

cli('export CSV: three files with --what all (K rows, V columns), one exact file with --what', async () => {
  const base = join(folder, 'tables.csv');
  const single = join(folder, 'phi-sparse.csv');
  const [all, one] = await Promise.all([
    runCli(['export', modelPath, '--out', base, '-n', '3']),
    runCli(['export', modelPath, '--out', single, '--what', 'phi', '--phi', 'sparse']),
  ]);
  assert.is(all.code, 0, all.stderr);
  assert.is(one.code, 0, one.stderr);
  assert.not.ok(existsSync(base), 'with --what all, --out is the base name');
  const V = trainVocabulary.size;
  const phi = readFileSync(join(folder, 'tables.phi.csv'), 'utf8').trim().split('\n');
  assert.is(phi.length, K + 1);
  assert.is(phi[0].split(',').length, V + 1);
  assert.is(phi[0].split(',')[0], 'topic');
  for (let k = 0; k < K; k++) {
    const cells = phi[k + 1].split(',').map(Number);
    assert.is(cells.length, V + 1);
    assert.is(cells[0], k);
    assert.ok(Math.abs(cells.slice(1).reduce((a, b) => a + b, 0) - 1) < 1e-9);
  }
  const topics = readFileSync(join(folder, 'tables.topics.csv'), 'utf8').trim().split('\n');
  assert.is(topics[0], 'topic,rank,action,probability,topic_tokens');
  assert.is(topics.length, 1 + K * 3);
  const transitions = readFileSync(join(folder, 'tables.transitions.csv'), 'utf8').trim().split('\n');
  assert.is(transitions.length, K + 1);
  for (const line of transitions) assert.is(line.split(',').length, K + 1);
  const sparse = readFileSync(single, 'utf8').trim().split('\n');
  assert.is(sparse[0], 'topic,action_id,action,probability');
  const floors = sparse.slice(1).filter((line) => line.split(',')[1] === '-1');
  assert.is(floors.length, K, 'one floor row per topic');
  // sparse rows plus the floor for the unlisted actions add up to 1 per topic
  for (let k = 0; k < K; k++) {
    const rows = sparse
      .slice(1)
      .map((line) => line.split(','))
      .filter((cells) => Number(cells[0]) === k);
    const listed = rows.filter((cells) => cells[1] !== '-1');
    const floor = Number(rows.find((cells) => cells[1] === '-1')![3]);
    const total = listed.reduce((sum, cells) => sum + Number(cells[3]), 0) + (V - listed.length) * floor;
    assert.ok(Math.abs(total - 1) < 1e-9, `topic ${k} sums to ${total}`);
  }
});

/** Files in the folder that a failed command must not have added. */
function snapshot(): string[] {
  return readdirSync(folder).sort();
}

cli('bad inputs: exit 2 with the file named, no stack trace, nothing written', async () => {
  const before = snapshot();
  const missingModel = join(folder, 'no-such-model.lla');
  const damaged = join(folder, 'damaged.lla');
  const whole = readFileSync(modelPath);
  writeFileSync(damaged, whole.subarray(0, Math.floor(whole.length / 2)));
  const missingInput = join(folder, 'no-such-input.txt');
  const unknownOnly = join(folder, 'unknown-only.txt');
  writeFileSync(unknownOnly, 'zz_1 zz_2\nzz_3\n');
  const out = join(folder, 'must-not-exist.json');
  const cases: Array<{ argv: string[]; names: string }> = [
    { argv: ['eval', missingModel, testPath], names: missingModel },
    { argv: ['topics', damaged], names: damaged },
    { argv: ['export', damaged, '--out', out], names: damaged },
    { argv: ['infer', modelPath, missingInput], names: missingInput },
    { argv: ['predict', modelPath, missingInput], names: missingInput },
    { argv: ['eval', modelPath, missingInput], names: missingInput },
    { argv: ['eval', modelPath, unknownOnly], names: unknownOnly },
    { argv: ['export', modelPath, '--out', out, '--phi', 'dense', '--max-dense', '10'], names: '--max-dense' },
    { argv: ['export', modelPath], names: '--out' },
    { argv: ['export', modelPath, '--out', modelPath], names: modelPath },
    { argv: ['eval', modelPath], names: '<input>' },
    { argv: ['eval', modelPath, testPath, '--perplexity', 'sideways'], names: '--perplexity' },
    { argv: ['eval', modelPath, testPath, '--backend', 'quantum'], names: 'quantum' },
  ];
  const runs = await Promise.all(cases.map((c) => runCli(c.argv)));
  runs.forEach((run, i) => {
    const label = cases[i].argv.join(' ');
    assert.is(run.code, 2, `${label}: exit ${run.code}, stderr ${run.stderr}`);
    assert.ok(run.stderr.includes(cases[i].names), `${label}: stderr should name ${cases[i].names}: ${run.stderr}`);
    assert.not.match(run.stderr, /\n\s+at /, `${label}: no stack trace`);
    assert.is(run.stdout, '', `${label}: no output`);
  });
  assert.equal(snapshot(), [...before, 'damaged.lla', 'unknown-only.txt'].sort());
  assert.not.ok(existsSync(out));
});

cli(
  'a model of the wrong kind: topic commands on the lstm baseline exit 2 with a clear message; eval and predict work',
  async () => {
    const out = join(folder, 'lstm-export.json');
    const runs = await Promise.all([
      runCli(['topics', lstmPath]),
      runCli(['infer', lstmPath, testPath, '--json']),
      runCli(['export', lstmPath, '--out', out]),
    ]);
    runs.forEach((run, index) => {
      assert.is(run.code, 2, run.stderr);
      assert.match(run.stderr, /'lstm' baseline model, which has no topics/);
      assert.ok(run.stderr.includes(lstmPath));
      if (index === 1) {
        // with --json the outcome is the last stdout line: an error object
        const error = JSON.parse(run.stdout);
        assert.is(error.exitCode, 2);
        assert.match(error.error, /'lstm' baseline model, which has no topics/);
      } else {
        assert.is(run.stdout, '');
      }
    });
    assert.not.ok(existsSync(out));
    const [evaluated, predicted] = await Promise.all([
      runCli(['eval', lstmPath, testPath, '--json']),
      runCli(['predict', lstmPath, testPath, '-n', String(trainVocabulary.size), '--json']),
    ]);
    assert.is(evaluated.code, 0, evaluated.stderr);
    const result = lastJson(evaluated);
    assert.is(result.model, 'lstm');
    assert.ok(Number.isFinite(result.perplexity) && result.perplexity > 1);
    assert.is(predicted.code, 0, predicted.stderr);
    assertFullDistributions(jsonLines(predicted));
  },
);

cli('--help on every command', async () => {
  const runs = await Promise.all(
    ['eval', 'infer', 'predict', 'topics', 'export'].map((name) => runCli([name, '--help'])),
  );
  runs.forEach((run, i) => {
    assert.is(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Usage: lla \w+ <model>/);
    assert.match(run.stdout, /--backend B/);
    if (i === 4) assert.match(run.stdout, /--what T/);
  });
});

cli.run();
