// Every default that `lla <command> --help` shows is the one the command uses: giving each shown default as a
// flag changes nothing. The model settings' defaults are the library's (DEFAULT_SETTINGS).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OptionSpecs, ParsedArgs } from '../src/cli/options.js';
import { BACKEND_OPTIONS, MODEL_OPTIONS, backendFrom, settingsFrom } from '../src/cli/model-options.js';
import { DEFAULT_SETTINGS, LDA_DEFAULTS, LSTM_BASELINE_DEFAULTS } from '../src/train/settings.js';
import { LlaModel } from '../src/model/model.js';
import { lastJson, runCli } from './helpers/cli.js';

const folder = mkdtempSync(join(tmpdir(), 'lla-cli-defaults-'));
const corpus = join(folder, 'corpus.txt');
const model = join(folder, 'model.lla');

/** `--name value` for every option whose help shows a default (its first word: `lda:8 (8/15 ...)` gives lda:8). */
function shownDefaults(specs: OptionSpecs): string[] {
  return Object.entries(specs).flatMap(([name, spec]) =>
    typeof spec.default === 'string' ? [`--${name}`, spec.default.split(' ')[0]] : [],
  );
}

async function optionsOf(name: string): Promise<OptionSpecs> {
  const { command } = await import(`../src/cli/commands/${name}.js`);
  return command.options as OptionSpecs;
}

function parsed(argv: string[]): ParsedArgs {
  const values: ParsedArgs['values'] = {};
  for (let i = 0; i < argv.length; i += 2) values[argv[i].slice(2)] = argv[i + 1];
  return { values, positionals: [] };
}

test.before(async () => {
  const made = await runCli([
    'generate',
    '--out',
    corpus,
    '--topics',
    '4',
    '--vocabulary',
    '60',
    '--sequences',
    '80',
    '--length',
    '20',
    '--seed',
    '3',
  ]);
  assert.is(made.code, 0, made.stderr);
  const trained = await runCli([
    'train',
    corpus,
    '--model',
    'lda',
    '--topics',
    '4',
    '--iterations',
    '2',
    '--out',
    model,
  ]);
  assert.is(trained.code, 0, trained.stderr);
});
test.after(() => rmSync(folder, { recursive: true, force: true }));

test('model and backend flags: the shown defaults parse to what no flag gives, and that is DEFAULT_SETTINGS', () => {
  const explicit = shownDefaults({ ...MODEL_OPTIONS, ...BACKEND_OPTIONS });
  assert.ok(explicit.length >= 2 * 18, `only ${explicit.length / 2} defaults shown`);
  const none = settingsFrom('train', parsed([]));
  assert.equal(settingsFrom('train', parsed(explicit)), none);
  assert.equal(backendFrom('train', parsed(explicit), {}), backendFrom('train', parsed([]), {}));
  // --estep auto leaves `exact` and `initExact` to the model (by K: exactMaxTopics, EXACT_ESTEP_MAX_TOPICS)
  assert.equal(none, { ...DEFAULT_SETTINGS, exact: undefined, initExact: undefined });
});

test('the lstm baseline keeps its own TF.js budget and lda its own iterations unless told otherwise, in the CLI and the API', async () => {
  const cli = settingsFrom('train', parsed(['--model', 'lstm']));
  assert.is(cli.iterations, LSTM_BASELINE_DEFAULTS.iterations);
  assert.is(cli.lstmTokens, LSTM_BASELINE_DEFAULTS.lstmTokens);
  assert.ok(cli.iterations !== DEFAULT_SETTINGS.iterations && cli.lstmTokens !== DEFAULT_SETTINGS.lstmTokens);
  const given = settingsFrom('train', parsed(['--model', 'lstm', '--iterations', '7', '--lstm-tokens', 'all']));
  assert.is(given.iterations, 7);
  assert.is(given.lstmTokens, 'all');
  const api = await LlaModel.create({ model: 'lstm', backend: 'auto' });
  assert.is(api.settings.iterations, LSTM_BASELINE_DEFAULTS.iterations);
  assert.is(api.settings.lstmTokens, LSTM_BASELINE_DEFAULTS.lstmTokens);
  const topicModel = await LlaModel.create({ model: 'lla', backend: 'auto' });
  assert.is(topicModel.settings.iterations, DEFAULT_SETTINGS.iterations);
  // lda has no hmm sweeps: it keeps its own iterations, in the CLI as in the API
  assert.is(settingsFrom('train', parsed(['--model', 'lda'])).iterations, LDA_DEFAULTS.iterations);
  assert.is((await LlaModel.create({ model: 'lda', backend: 'auto' })).settings.iterations, LDA_DEFAULTS.iterations);
  assert.is(topicModel.settings.lstmTokens, DEFAULT_SETTINGS.lstmTokens);
});

test('generate: the same corpus with and without the shown defaults', async () => {
  const explicit = shownDefaults(await optionsOf('generate'));
  assert.ok(explicit.includes('--concentration'));
  const [plain, spelled] = await Promise.all([
    runCli(['generate', '--out', join(folder, 'plain.txt'), '--json']),
    runCli(['generate', '--out', join(folder, 'spelled.txt'), '--json', ...explicit]),
  ]);
  assert.is(plain.code, 0, plain.stderr);
  assert.is(spelled.code, 0, spelled.stderr);
  assert.ok(readFileSync(join(folder, 'plain.txt')).equals(readFileSync(join(folder, 'spelled.txt'))));
  assert.equal({ ...lastJson(plain), out: null, seconds: null }, { ...lastJson(spelled), out: null, seconds: null });
});

test('bench: the same settings and the same sampled chain with and without the shown defaults', async () => {
  const explicit = shownDefaults(await optionsOf('bench'));
  const plain = await runCli(['bench', corpus, '--json']);
  const spelled = await runCli(['bench', corpus, '--json', ...explicit]);
  assert.is(plain.code, 0, plain.stderr);
  assert.is(spelled.code, 0, spelled.stderr);
  const same = [
    'model',
    'topics',
    'threads',
    'iterations',
    'warmupIterations',
    'hidden',
    'mhSteps',
    'exact',
    'tokens',
    'vocabulary',
    'countNonZeros',
    'acceptanceRate',
  ];
  const pick = (result: Record<string, unknown>) => Object.fromEntries(same.map((key) => [key, result[key]]));
  assert.ok(
    same.every((key) => key in lastJson(plain)),
    Object.keys(lastJson(plain)).join(', '),
  );
  assert.equal(pick(lastJson(spelled)), pick(lastJson(plain)));
});

for (const name of ['topics', 'infer', 'predict'] as const) {
  test(`${name}: the same output with and without the shown defaults`, async () => {
    const explicit = shownDefaults(await optionsOf(name));
    assert.ok(explicit.length >= 4, `${name} shows ${explicit.length / 2} defaults`);
    const input = name === 'topics' ? [] : [corpus];
    const [plain, spelled] = await Promise.all([
      runCli([name, model, ...input, '--json']),
      runCli([name, model, ...input, '--json', ...explicit]),
    ]);
    assert.is(plain.code, 0, plain.stderr);
    assert.is(spelled.stdout, plain.stdout);
  });
}

test('export: the same file with and without the shown defaults', async () => {
  const explicit = shownDefaults(await optionsOf('export'));
  const [plain, spelled] = await Promise.all([
    runCli(['export', model, '--out', join(folder, 'plain.json')]),
    runCli(['export', model, '--out', join(folder, 'spelled.json'), ...explicit]),
  ]);
  assert.is(plain.code, 0, plain.stderr);
  assert.is(spelled.code, 0, spelled.stderr);
  assert.is(readFileSync(join(folder, 'spelled.json'), 'utf8'), readFileSync(join(folder, 'plain.json'), 'utf8'));
});

test.run();
