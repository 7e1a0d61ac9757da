// The flags of issue 15 on the command line: --init hmm:N (its sweeps reported as such), --lookahead, --truth
// (the generating model's perplexity and the topics' distance, in JSON and in text), and their bad values (exit
// 2, a message that names the problem, nothing written).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastJson, runCli } from './helpers/cli.js';
import { LlaModel } from '../src/model/model.js';

const folder = mkdtempSync(join(tmpdir(), 'lla-cli-order-'));
const corpus = join(folder, 'corpus.txt');
const truth = join(folder, 'truth.json');
const SMALL = [
  '--topics',
  '4',
  '--hidden',
  '8',
  '--embedding',
  '4',
  '--lstm-tokens',
  '2000',
  '--particles',
  '8',
  '--threads',
  '1',
];

test.before(async () => {
  const made = await runCli([
    'generate',
    '--out',
    corpus,
    '--truth',
    truth,
    '--topics',
    '4',
    '--vocabulary',
    '60',
    '--sequences',
    '300',
    '--length',
    '20',
    '--seed',
    '2',
  ]);
  assert.is(made.code, 0, made.stderr);
});
test.after(() => rmSync(folder, { recursive: true, force: true }));

test('train --init hmm:2 --truth: hmm sweeps first, the true model and the topic distance reported', async () => {
  const run = await runCli([
    'train',
    corpus,
    ...SMALL,
    '--iterations',
    '4',
    '--init',
    'hmm:2',
    '--truth',
    truth,
    '--json',
  ]);
  assert.is(run.code, 0, run.stderr);
  const lines = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.equal(
    lines.slice(0, -1).map((record) => record.mode),
    ['hmm', 'hmm', 'lla', 'lla'],
  );
  const result = lastJson(run);
  assert.ok(
    result.truePerplexity > 1 && result.truePerplexity < result.unigramPerplexity,
    `true ${result.truePerplexity} vs unigram ${result.unigramPerplexity}`,
  );
  // no model beats the generating one by more than the filter's noise on 2,000 tokens
  assert.ok(
    result.heldOutPerplexity > 0.95 * result.truePerplexity,
    `lla ${result.heldOutPerplexity} vs true ${result.truePerplexity}`,
  );
  assert.ok(
    result.meanTopicTotalVariation >= 0 && result.meanTopicTotalVariation <= 1,
    String(result.meanTopicTotalVariation),
  );
  const text = await runCli([
    'train',
    corpus,
    ...SMALL,
    '--iterations',
    '2',
    '--init',
    'hmm:1',
    '--truth',
    truth,
    '--top',
    '0',
  ]);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /true model +perplexity [\d.]+ on the same held-out tokens/);
  assert.match(text.stdout, /topic recovery +mean total variation 0\.\d{3} to the true topics/);
});

test('the lstm baseline with --truth: the true perplexity, no topic distance', async () => {
  const run = await runCli([
    'train',
    corpus,
    '--model',
    'lstm',
    '--hidden',
    '8',
    '--embedding',
    '4',
    '--iterations',
    '1',
    '--lstm-tokens',
    '1000',
    '--truth',
    truth,
    '--json',
  ]);
  assert.is(run.code, 0, run.stderr);
  const result = lastJson(run);
  assert.ok(result.truePerplexity > 1);
  assert.is(result.meanTopicTotalVariation, null);
});

test('--lookahead 0 and --init hmm2:N are saved with the model; lda ignores --init', async () => {
  const out = join(folder, 'paper.lla');
  const run = await runCli([
    'train',
    corpus,
    ...SMALL,
    '--iterations',
    '2',
    '--lookahead',
    '0',
    '--out',
    out,
    '--json',
  ]);
  assert.is(run.code, 0, run.stderr);
  const model = await LlaModel.load(out, { warn: () => undefined });
  assert.equal([model.settings.lookahead, model.settings.contextStart, model.settings.initHmmSweeps], [false, true, 1]);
  model.dispose();
  const second = join(folder, 'second.lla');
  const hmm2 = await runCli([
    'train',
    corpus,
    ...SMALL,
    '--iterations',
    '3',
    '--init',
    'hmm2:2',
    '--out',
    second,
    '--json',
  ]);
  assert.is(hmm2.code, 0, hmm2.stderr);
  assert.equal(
    hmm2.stdout
      .trim()
      .split('\n')
      .slice(0, -1)
      .map((line) => JSON.parse(line).mode),
    ['hmm', 'hmm', 'lla'],
  );
  const secondModel = await LlaModel.load(second, { warn: () => undefined });
  assert.equal(
    [secondModel.settings.contextStart, secondModel.settings.initHmmSweeps, secondModel.settings.initHmmOrder],
    [false, 2, 2],
  );
  secondModel.dispose();
  const lda = await runCli([
    'train',
    corpus,
    '--model',
    'lda',
    '--topics',
    '4',
    '--iterations',
    '2',
    '--init',
    'hmm:2',
    '--json',
  ]);
  assert.is(lda.code, 0, lda.stderr);
  assert.equal(
    lda.stdout
      .trim()
      .split('\n')
      .slice(0, -1)
      .map((line) => JSON.parse(line).mode),
    ['lda', 'lda'],
  );
});

test('--lookahead auto: both runs reported, the kept setting saved; --from continues it, auto keeps it', async () => {
  const out = join(folder, 'auto.lla');
  const args = ['train', corpus, ...SMALL, '--iterations', '5', '--init', 'hmm:2', '--lookahead', 'auto'];
  const run = await runCli([...args, '--out', out, '--json']);
  assert.is(run.code, 0, run.stderr);
  const lines = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  const result = lines.at(-1);
  assert.equal(
    lines.slice(0, -1).map((record) => record.lookahead ?? null),
    [null, null, true, true, true, false, false, false],
  );
  const choice = result.lookaheadChoice;
  assert.ok(choice && typeof choice.lookahead === 'boolean', JSON.stringify(choice));
  assert.is(choice.lookahead, choice.heldInPerplexity.lookahead <= choice.heldInPerplexity.noLookahead);
  const model = await LlaModel.load(out, { warn: () => undefined });
  assert.equal([model.settings.chooseLookahead, model.settings.lookahead], [true, choice.lookahead]);
  model.dispose();
  const text = await runCli(args);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`lookahead +auto kept ${choice.lookahead ? 1 : 0}: held-in perplexity`));
  // the progress lines say which run each iteration belongs to
  assert.match(text.stderr, /iteration 3\/5 \(lla, auto run 1 of 2: lookahead\)/);
  assert.match(text.stderr, /iteration 3\/5 \(lla, auto run 2 of 2: no lookahead\)/);

  // a continued training has no start to choose from: auto keeps the model's setting, 0 or 1 replaces it
  for (const [flag, expected] of [
    ['auto', choice.lookahead],
    [choice.lookahead ? '0' : '1', !choice.lookahead],
  ] as const) {
    const next = join(folder, `auto-from-${flag}.lla`);
    const continued = await runCli([
      'train',
      corpus,
      ...SMALL,
      '--iterations',
      '1',
      '--from',
      out,
      '--lookahead',
      flag,
      '--out',
      next,
      '--json',
    ]);
    assert.is(continued.code, 0, continued.stderr);
    assert.is(lastJson(continued).lookaheadChoice, null);
    const saved = await LlaModel.load(next, { warn: () => undefined });
    assert.is(saved.settings.lookahead, expected, `--from with --lookahead ${flag}`);
    saved.dispose();
  }
});

test('bad --init, --init-fallback, --lookahead and --truth: exit 2, the problem named, nothing written', async () => {
  const out = join(folder, 'never.lla');
  const notTruth = join(folder, 'not-truth.json');
  writeFileSync(notTruth, '{"format": "something else"}');
  const cases: Array<[string[], RegExp]> = [
    [['--init', 'hmm:5', '--iterations', '3'], /--init hmm:5 needs at least 5 --iterations, got 3/],
    [['--init', 'hmm'], /--init must be 'random', 'lda:N', 'hmm:N' or 'hmm2:N'/],
    [['--init-fallback=-1'], /--init-fallback must be between 0 and 1000000, got -1/],
    [['--init-fallback', 'many'], /--init-fallback must be a whole number, got 'many'/],
    [['--lookahead', '2'], /--lookahead/],
    [['--truth', join(folder, 'missing.json')], /missing\.json: cannot be read \(ENOENT\)/],
    [
      ['--truth', notTruth],
      /not-truth\.json: is not a truth file of lla generate: its format is not lla-synthetic-truth/,
    ],
  ];
  for (const [flags, message] of cases) {
    const run = await runCli(['train', corpus, ...SMALL, '--out', out, ...flags]);
    assert.is(run.code, 2, `${flags.join(' ')}: exit ${run.code}\n${run.stderr}`);
    assert.match(run.stderr, message, flags.join(' '));
    assert.not.match(run.stderr, /^\s+at /m, 'no stack trace');
    assert.not.ok(existsSync(out), `${flags.join(' ')} wrote the model`);
  }
});

test('train: a hmm start that finds no first-order structure says so and runs the second-order fallback (or names --init hmm2 without it); one that does, does not', async () => {
  const secondOrder = join(folder, 'second-order.txt');
  const made = await runCli([
    'generate',
    '--out',
    secondOrder,
    '--dynamics',
    'second-order',
    '--topics',
    '10',
    '--vocabulary',
    '1000',
    '--sequences',
    '3000',
    '--length',
    '30',
    '--seed',
    '3',
  ]);
  assert.is(made.code, 0, made.stderr);
  const flatArgs = ['train', secondOrder, ...SMALL, '--topics', '10', '--iterations', '3', '--init', 'hmm:2'];
  const flat = await runCli([...flatArgs, '--init-fallback', '0']);
  assert.is(flat.code, 0, flat.stderr);
  assert.match(flat.stdout, /initialisation\s+found no first-order structure: the hmm's log-likelihood per token -\d/);
  assert.match(flat.stdout, /try --init hmm2:200 --iterations 220/);
  assert.match(flat.stdout, /training\s+3 iterations/);
  const fallback = await runCli([...flatArgs, '--init-fallback', '5']);
  assert.is(fallback.code, 0, fallback.stderr);
  assert.match(
    fallback.stdout,
    /found no first-order structure.*; 5 second-order hmm sweeps followed \(--init-fallback\)/,
  );
  assert.match(fallback.stdout, /training\s+8 iterations/, 'the fallback grows the run by its sweeps');
  assert.match(fallback.stderr, /iteration 1\/3 \(hmm\)/);
  assert.match(fallback.stderr, /iteration 2\/8 \(hmm\)/, 'the plan grows at the last first-order sweep');
  assert.match(fallback.stderr, /iteration 3\/8 \(hmm2\)/);
  assert.match(fallback.stderr, /iteration 8\/8 \(lla\)/);
  const ordered = await runCli(['train', corpus, ...SMALL, '--iterations', '3', '--init', 'hmm:2', '--json']);
  assert.is(ordered.code, 0, ordered.stderr);
  const start = lastJson(ordered).start as { foundStructure: boolean; fallback: unknown };
  assert.is(start.foundStructure, true);
  assert.is(start.fallback, null);
  assert.is(lastJson(ordered).iterations, 3, 'no fallback after a start that found structure');
  const text = await runCli(['train', corpus, ...SMALL, '--iterations', '3', '--init', 'hmm:2']);
  assert.not.match(text.stdout, /initialisation/);
  // other starts have no check
  const random = await runCli(['train', corpus, ...SMALL, '--iterations', '3', '--init', 'random', '--json']);
  assert.is(lastJson(random).start, null);
});

test.run();
