/**
 * Repeat-aware prediction (issue 13): the recency cache, lda and lla with and without the copy component, and the
 * action-level LSTM, on both shared files, each run a child process `node bin/lla.js train ... --json` at the
 * model's defaults (every run also reports the unigram and the fitted recency cache on its held-out data).
 *
 *   npx tsx bench/repeat-aware.ts [--data ../shared/data] [--only gitdev|brown] [--quick] [--no-lstm]
 *
 * - gitdev: the held-out-users split (bench/held-out-users-split.ts), written into a temporary folder (removed at
 *   the end): `train.tsv.gz --test test.tsv.gz`. Beside the cache fitted on the training users (what every run
 *   reports), two more caches are scored on the test users at the same positions: the issue's hand-set one
 *   (decay 0.95, mass 10) and an oracle fitted on the test users themselves (the best any cache can do there).
 * - brown: `brown.txt.gz` with its default held-out tenth.
 * Part A uses the full vocabulary (no action-level LSTM: its V-way softmax does not train on TF.js in these
 * minutes); part B caps the vocabulary at the 2,000 most frequent training actions for every model, LSTM included.
 * `lla predict` is timed on the whole event log with the lla models of part A, copy off and on.
 * The tables replace the marked sections of bench/RESULTS.md and README.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildHeldOutUsersSplit } from './held-out-users-split.js';
import { prepareData } from '../src/train/data.js';
import { cacheEvaluation, smoothedUnigram } from '../src/eval/cache.js';
import { historyWindow } from '../src/eval/history.js';
import { fitCache } from '../src/train/cache-fit.js';
import { loadKernel } from '../src/kernels/loader.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const dataFolder = resolve(root, option('--data') ?? '../shared/data');
const only = option('--only');
const quick = args.includes('--quick');
const withLstm = !args.includes('--no-lstm');
const events = join(dataFolder, 'gitdev-events.tsv.gz');
const brown = join(dataFolder, 'brown.txt.gz');
for (const file of [events, brown]) {
  if (!existsSync(file)) {
    console.error(`repeat-aware: ${file} is missing; pass --data <folder holding the shared data files>`);
    process.exit(2);
  }
}

interface Row {
  file: string;
  part: 'A' | 'B';
  model: string;
  perplexity: number;
  recallAt1: number;
  recallAt10: number;
  mrr: number;
  seconds: number;
  note: string;
}

const rows: Row[] = [];
const folder = mkdtempSync(join(tmpdir(), 'lla-repeat-aware-'));
const lla = join(root, 'bin', 'lla.js');

/** One training run; returns its --json result. */
function train(input: string[], flags: string[], out?: string): Record<string, any> {
  const argv = [
    lla,
    'train',
    ...input,
    '--threads',
    '2',
    '--seed',
    '1',
    '--json',
    ...flags,
    ...(quick ? ['--iterations', '3', '--lstm-tokens', '4000'] : []),
    ...(out ? ['--out', out] : []),
  ];
  const started = performance.now();
  const child = spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - started) / 1000;
  if (child.status !== 0)
    throw new Error(
      `repeat-aware: ${argv.slice(1).join(' ')} failed (exit ${child.status}):\n${child.stderr.slice(-2000)}`,
    );
  const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as Record<string, any>;
  result.wallSeconds = seconds;
  console.error(
    `repeat-aware: ${argv.slice(2).join(' ')}: perplexity ${Number(result.heldOutPerplexity).toFixed(1)}, ` +
      `Recall@10 ${Number(result.recallAt10).toFixed(3)}, ${seconds.toFixed(1)} s`,
  );
  return result;
}

function addRuns(file: string, part: 'A' | 'B', input: string[], extra: string[]): Record<string, any> {
  const models: Array<{ label: string; flags: string[]; out?: string }> = [
    { label: 'lda', flags: ['--model', 'lda', '--copy', 'off'] },
    { label: 'lda+copy', flags: ['--model', 'lda', '--copy', 'auto'] },
    {
      label: 'lla',
      flags: ['--model', 'lla', '--copy', 'off'],
      out: part === 'A' && file === 'gitdev' ? join(folder, 'lla.lla') : undefined,
    },
    {
      label: 'lla+copy',
      flags: ['--model', 'lla', '--copy', 'auto'],
      out: part === 'A' && file === 'gitdev' ? join(folder, 'lla-copy.lla') : undefined,
    },
    // every topic model above scores runs of one action as repeat blocks (the default); these two as tokens
    { label: 'lda+copy (tokens)', flags: ['--model', 'lda', '--copy', 'auto', '--repeats', 'tokens'] },
    { label: 'lla+copy (tokens)', flags: ['--model', 'lla', '--copy', 'auto', '--repeats', 'tokens'] },
    ...(part === 'B' && withLstm ? [{ label: 'lstm (action-level)', flags: ['--model', 'lstm'] }] : []),
  ];
  let first: Record<string, any> | null = null;
  const runs: Row[] = [];
  for (const { label, flags, out } of models) {
    const result = train(input, [...flags, ...extra], out);
    first ??= result;
    const copy = result.copy as { kept: boolean; form: string; decay: number } | null;
    runs.push({
      file,
      part,
      model: label,
      perplexity: result.heldOutPerplexity,
      recallAt1: result.recallAt1,
      recallAt10: result.recallAt10,
      mrr: result.mrr,
      seconds: result.wallSeconds,
      note: [
        result.repeatBlocks ? 'repeat blocks' : '',
        copy ? `copy ${copy.kept ? 'kept' : 'dropped'} (${copy.form}, decay ${copy.decay.toFixed(3)})` : '',
      ]
        .filter((part) => part !== '')
        .join('; '),
    });
  }
  // the references every run reports (the same for all of them): the unigram and the fitted cache
  const reference = first!;
  const cache = reference.cache;
  rows.push(
    {
      file,
      part,
      model: 'unigram',
      perplexity: reference.unigramPerplexity,
      recallAt1: NaN,
      recallAt10: NaN,
      mrr: NaN,
      seconds: NaN,
      note: 'add-one training counts',
    },
    {
      file,
      part,
      model: 'cache (fitted)',
      perplexity: cache.perplexity,
      recallAt1: cache.recallAt1,
      recallAt10: cache.recallAt10,
      mrr: cache.mrr,
      seconds: NaN,
      note: `decay ${cache.decay.toFixed(3)}, unigram weight ${cache.mass.toFixed(2)}, fitted on held-in training sequences`,
    },
    ...runs,
  );
  return reference;
}

/** The issue's hand-set cache and an oracle fitted on the test users, at the positions every model uses. */
async function extraCaches(trainFile: string, testFile: string, part: 'A' | 'B', maxVocab?: number): Promise<void> {
  const data = await prepareData(trainFile, { testFile, seed: 1, ...(maxVocab ? { vocabulary: { maxVocab } } : {}) });
  const kernel = await loadKernel({ backend: 'native' });
  const unigram = smoothedUnigram(data.vocabulary.counts!);
  const test = data.test!;
  const oracle = fitCache(data.vocabulary.counts!, test).parameters;
  for (const [label, parameters, note] of [
    [
      'cache (hand-set)',
      { decay: 0.95, mass: 10, window: historyWindow(0.95) },
      "decay 0.95, unigram weight 10 (the issue's)",
    ],
    [
      'cache (oracle)',
      oracle,
      `decay ${oracle.decay.toFixed(3)}, unigram weight ${oracle.mass.toFixed(2)}, fitted on the test users themselves`,
    ],
  ] as const) {
    const scored = cacheEvaluation(unigram, parameters, test, { kernel, seed: 1 });
    rows.push({
      file: 'gitdev',
      part,
      model: label,
      perplexity: scored.perplexity,
      recallAt1: scored.nextAction!.recallAt1,
      recallAt10: scored.nextAction!.recallAt10,
      mrr: scored.nextAction!.meanReciprocalRank,
      seconds: NaN,
      note,
    });
  }
}

function timePredict(model: string): number {
  const started = performance.now();
  const child = spawnSync(process.execPath, [lla, 'predict', model, events, '--json', '--threads', '2'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (child.status !== 0) throw new Error(`repeat-aware: predict with ${model} failed:\n${child.stderr.slice(-2000)}`);
  return (performance.now() - started) / 1000;
}

const predictTimes: string[] = [];
try {
  if (only !== 'brown') {
    const split = await buildHeldOutUsersSplit(events, folder);
    console.error(`repeat-aware: held-out users: ${JSON.stringify(split)}`);
    const input = [split.trainFile, '--test', split.testFile];
    addRuns('gitdev', 'A', input, []);
    await extraCaches(split.trainFile, split.testFile, 'A');
    addRuns('gitdev', 'B', input, ['--max-vocab', '2000']);
    await extraCaches(split.trainFile, split.testFile, 'B', 2000);
    // side by side, alternating, three times each
    const times: Record<string, number[]> = { off: [], copy: [] };
    for (let round = 0; round < 3; round++) {
      times.off.push(timePredict(join(folder, 'lla.lla')));
      times.copy.push(timePredict(join(folder, 'lla-copy.lla')));
    }
    const best = (values: number[]) => Math.min(...values);
    predictTimes.push(
      `\`lla predict\` on the whole event log (2,621 users, best of 3 alternating runs): lla ` +
        `${best(times.off).toFixed(1)} s, lla+copy ${best(times.copy).toFixed(1)} s (${(best(times.copy) / best(times.off)).toFixed(2)}x).`,
    );
  }
  if (only !== 'gitdev') {
    addRuns('brown', 'A', [brown], []);
    addRuns('brown', 'B', [brown], ['--max-vocab', '2000']);
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
function table(part: 'A' | 'B'): string {
  const header =
    '| file | model | held-out perplexity | Recall@1 | Recall@10 | MRR | wall time (s) | note |\n|---|---|---|---|---|---|---|---|';
  const body = rows
    .filter((r) => r.part === part)
    .map(
      (r) =>
        `| ${r.file} | ${r.model} | ${fmt(r.perplexity)} | ` +
        `${fmt(r.recallAt1, 3)} | ${fmt(r.recallAt10, 3)} | ${fmt(r.mrr, 3)} | ${fmt(r.seconds)} | ${r.note} |`,
    );
  return `${header}\n${body.join('\n')}`;
}
const command = `npx tsx bench/repeat-aware.ts${args.length ? ` ${args.join(' ')}` : ''}`;
const section = [
  `Produced by \`${command}\` on ${new Date().toISOString().slice(0, 10)} (2-core machine, native kernels, TF.js ` +
    'wasm for the LSTMs, seed 1, 2 threads, every other setting at its default). gitdev: the held-out-users split ' +
    '(every 10th user in file order, cut to their first 2,000 actions that occur in training; the rest train); ' +
    'brown: its default held-out tenth. Next-action metrics at the same positions for every model.',
  '',
  '**A. Full vocabulary:**',
  '',
  table('A'),
  '',
  '**B. The 2,000 most frequent training actions for every model, with the action-level LSTM:**',
  '',
  table('B'),
  '',
  ...predictTimes,
].join('\n');
writeFileSync(
  join(root, 'bench', 'repeat-aware.json'),
  `${JSON.stringify({ command, rows, predictTimes }, null, 1)}\n`,
);
for (const target of [join(root, 'bench', 'RESULTS.md'), join(root, 'README.md')]) {
  const text = readFileSync(target, 'utf8');
  const begin = '<!-- repeat-aware:begin -->';
  const end = '<!-- repeat-aware:end -->';
  if (!text.includes(begin) || !text.includes(end)) continue;
  writeFileSync(
    target,
    text.slice(0, text.indexOf(begin) + begin.length) + `\n${section}\n` + text.slice(text.indexOf(end)),
  );
}
console.log(section);
