// The recency cache and the copy component on the command line (issue 13): `lla generate --copy-rate`, `lla train
// --model cache` and its eval and predict, the references (unigram and cache) in every train and eval output, the
// copy component's report in train's, and the typed refusals of topics, export, infer and report on a cache model.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastJson, runCli as runHelper } from './helpers/cli.js';

const folder = mkdtempSync(join(tmpdir(), 'lla-cli-cache-'));
const generated = join(folder, 'generated.txt');
const truth = join(folder, 'truth.json');
const trainPath = join(folder, 'train.txt');
const testPath = join(folder, 'test.txt');
const cachePath = join(folder, 'cache.lla');
const ldaPath = join(folder, 'lda.lla');
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.LLA_BACKEND;
delete env.LLA_TF_BACKEND;
const runCli = (argv: string[]) => runHelper(argv, env);

const cli = suite('recency cache and copy component: command line');
let trained: { cache: Record<string, any>; lda: Record<string, any> };

cli.before(async () => {
  const made = await runCli([
    'generate',
    '--out',
    generated,
    '--truth',
    truth,
    '--topics',
    '5',
    '--vocabulary',
    '300',
    '--sequences',
    '200',
    '--length',
    '40',
    '--seed',
    '5',
    '--copy-rate',
    '0.4',
    '--copy-decay',
    '0.8',
    '--json',
  ]);
  assert.is(made.code, 0, made.stderr);
  const summary = lastJson(made);
  assert.is(summary.copyRate, 0.4);
  // about R of the actions after each sequence's first are copies
  const share = summary.copiedTokens / (summary.tokens - 200);
  assert.ok(Math.abs(share - 0.4) < 0.03, `copied share ${share}`);
  assert.is(JSON.parse(readFileSync(truth, 'utf8')).copiedTokens, summary.copiedTokens);
  const lines = readFileSync(generated, 'utf8').trim().split('\n');
  writeFileSync(trainPath, `${lines.slice(0, 170).join('\n')}\n`);
  writeFileSync(testPath, `${lines.slice(170).join('\n')}\n`);
  const [cache, lda] = await Promise.all([
    runCli(['train', trainPath, '--test', testPath, '--model', 'cache', '--out', cachePath, '--json']),
    runCli([
      'train',
      trainPath,
      '--test',
      testPath,
      '--model',
      'lda',
      '--topics',
      '5',
      '--iterations',
      '8',
      '--out',
      ldaPath,
      '--json',
    ]),
  ]);
  assert.is(cache.code, 0, cache.stderr);
  assert.is(lda.code, 0, lda.stderr);
  trained = { cache: lastJson(cache), lda: lastJson(lda) };
});
cli.after(() => rmSync(folder, { recursive: true, force: true }));

cli('train reports the unigram and the fitted cache beside every model, and the copy fit of a topic model', () => {
  const { cache, lda } = trained;
  for (const run of [cache, lda]) {
    assert.ok(run.unigramPerplexity > run.cache.perplexity, 'the cache beats the unigram on data with copies');
    assert.ok(run.cache.fitted && run.cache.decay > 0.5 && run.cache.decay <= 1 && run.cache.mass > 0);
    assert.ok(run.cache.recallAt10 > 0 && run.cache.recallAt10 <= 1);
  }
  // the cache model's own score is the reference's (same constants, same positions)
  assert.is(cache.heldOutPerplexity, cache.cache.perplexity);
  assert.is(cache.recallAt10, cache.cache.recallAt10);
  assert.is(cache.copy, null);
  assert.ok(lda.copy.kept, JSON.stringify(lda.copy));
  assert.ok(lda.heldOutPerplexity < lda.copy.heldInPerplexityWithout, 'copy helps held-out data too');
});

cli('eval scores a cache model and prints both references; predict ranks its next actions', async () => {
  const [evaluated, text, predicted] = await Promise.all([
    runCli(['eval', cachePath, testPath, '--json']),
    runCli(['eval', ldaPath, testPath]),
    runCli(['predict', cachePath, testPath, '-n', '3', '--json']),
  ]);
  assert.is(evaluated.code, 0, evaluated.stderr);
  const result = lastJson(evaluated);
  assert.is(result.model, 'cache');
  assert.is(result.perplexity, trained.cache.heldOutPerplexity);
  assert.is(result.cache.perplexity, result.perplexity);
  assert.is(result.unigramPerplexity, trained.cache.unigramPerplexity);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /unigram reference\s+\d/);
  assert.match(text.stdout, /recency cache\s+perplexity \d/);
  assert.is(predicted.code, 0, predicted.stderr);
  const lines = predicted.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.is(lines.length, 30);
  const lastActions = readFileSync(testPath, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(/\s+/).at(-1));
  // the most recent action has the largest decayed count: it leads unless the unigram outweighs it
  assert.ok(
    lines.filter((line, d) => line.next[0].action === lastActions[d]).length > 15,
    'the last action leads most lists',
  );
  for (const line of lines) {
    assert.is(line.next.length, 3);
    assert.ok(line.next[0].probability >= line.next[1].probability);
  }
});

cli('topics, export, infer and report refuse a cache model with exit 2 and write nothing', async () => {
  const out = join(folder, 'refused.out');
  const runs = await Promise.all([
    runCli(['topics', cachePath]),
    runCli(['export', cachePath, '--out', `${out}.json`]),
    runCli(['infer', cachePath, testPath]),
    runCli(['report', cachePath, '--out', `${out}.html`]),
  ]);
  for (const run of runs) {
    assert.is(run.code, 2, run.stderr);
    assert.match(run.stderr, /cache/);
    assert.not.match(run.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.not.ok(existsSync(`${out}.json`) || existsSync(`${out}.html`));
});

cli("--copy and the generator's copy flags refuse bad values", async () => {
  const runs = await Promise.all([
    runCli(['train', trainPath, '--copy', 'sometimes']),
    runCli(['generate', '--out', join(folder, 'x.txt'), '--copy-rate', '1.5']),
    runCli(['generate', '--out', join(folder, 'y.txt'), '--copy-decay', '-0.1']),
  ]);
  for (const run of runs) assert.is(run.code, 2, run.stderr);
  assert.match(runs[0].stderr, /--copy/);
});

cli.run();
