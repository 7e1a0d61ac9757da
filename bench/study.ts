/**
 * The study (one command): on both shared data files, train lda, lla, word-lla and the lstm baseline and
 * tabulate held-out perplexity, next-action Recall@10, dense parameters, parameters (dense + count non-zeros)
 * and wall time; draw perplexity against parameters like the paper's main figure.
 *
 *   npx tsx bench/study.ts [--quick] [--fresh] [--data ../shared/data]
 *
 * Part A (the training issue's table): K=50, holdout 0.1, seed 1, 2 threads, full vocabulary, every other setting
 *   (iterations, --tol, initialisation, M-step budget, copy) at the package's defaults; lla / word-lla / lda.
 * Part B (the comparison with the action-level LSTM, which needs a capped vocabulary to stay trainable): one
 *   common vocabulary of the 2,000 most frequent training actions for every model, a few sizes each.
 * Each run is its own child process (`node bin/lla.js train ... --json`), so times and memory are per run.
 * Results go to bench/study/results.json, the SVG charts to bench/study/, and the tables replace the marked
 * sections of bench/RESULTS.md and README.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineChart, topicColour } from '../src/report/charts.js';
import { DEFAULT_SETTINGS } from '../src/train/settings.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const dataIndex = args.indexOf('--data');
const dataFolder = resolve(root, dataIndex >= 0 ? args[dataIndex + 1] : '../shared/data');
const FILES = [
  { name: 'gitdev-events', path: join(dataFolder, 'gitdev-events.tsv.gz') },
  { name: 'brown', path: join(dataFolder, 'brown.txt.gz') },
];
for (const file of FILES) {
  if (!existsSync(file.path)) {
    console.error(`study: ${file.path} is missing; pass --data <folder holding the shared data files>`);
    process.exit(2);
  }
}

interface Run {
  part: 'A' | 'B';
  file: string;
  model: string;
  topics: number | null;
  hidden: number;
  maxVocab: number | null;
  heldOutPerplexity: number;
  unigramPerplexity: number;
  /** the recency cache's held-out perplexity and Recall@10 (reported by every run; NaN in runs before issue 13) */
  cachePerplexity: number;
  cacheRecallAt10: number;
  recallAt10: number;
  denseParameters: number;
  parameterCount: number;
  wallSeconds: number;
  mstepShare: number;
  vocabulary: number;
  heldOutTokens: number;
  peakRssMiB: number;
}

function train(
  part: 'A' | 'B',
  file: { name: string; path: string },
  model: string,
  topics: number,
  hidden: number,
  maxVocab: number | null,
): Run {
  // the package's defaults (iterations and --tol included), so the table shows what a user gets; --quick: 3 iterations
  const argv = [
    join(root, 'bin', 'lla.js'),
    'train',
    file.path,
    '--model',
    model,
    ...(model === 'lstm' ? [] : ['--topics', String(topics)]),
    '--hidden',
    String(hidden),
    ...(quick ? ['--iterations', '3'] : []),
    '--threads',
    '2',
    '--seed',
    '1',
    '--holdout',
    '0.1',
    '--json',
  ];
  if (maxVocab !== null) argv.push('--max-vocab', String(maxVocab));
  if (quick) argv.push('--lstm-tokens', '4000');
  // a finished run is kept in bench/study/cache/ (ignored by git) so an interrupted study resumes where it stopped
  const cacheFile = join(
    root,
    'bench',
    'study',
    'cache',
    `${argv
      .slice(2)
      .join('_')
      .replace(/[^\w.-]+/g, '_')}.json`,
  );
  if (!args.includes('--fresh') && existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, 'utf8')) as Run;
  const started = performance.now();
  const child = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...argv], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const wallSeconds = (performance.now() - started) / 1000;
  if (child.status !== 0) {
    throw new Error(`study: ${model} on ${file.name} failed (exit ${child.status}):\n${child.stderr.slice(-2000)}`);
  }
  const last = JSON.parse(child.stdout.trim().split('\n').pop()!) as Record<string, number> & {
    cache: { perplexity: number; recallAt10: number } | null;
  };
  const rssKiB = Number(child.stderr.trim().split('\n').pop());
  const run: Run = {
    part,
    file: file.name,
    model,
    topics: model === 'lstm' ? null : topics,
    hidden,
    maxVocab,
    heldOutPerplexity: last.heldOutPerplexity,
    unigramPerplexity: last.unigramPerplexity,
    recallAt10: last.recallAt10,
    cachePerplexity: last.cache?.perplexity ?? NaN,
    cacheRecallAt10: last.cache?.recallAt10 ?? NaN,
    denseParameters: last.denseParameters,
    parameterCount: last.parameterCount,
    wallSeconds,
    mstepShare: last.mstepShare,
    vocabulary: last.vocabulary,
    heldOutTokens: last.heldOutTokens,
    peakRssMiB: Number.isFinite(rssKiB) ? rssKiB / 1024 : NaN,
  };
  mkdirSync(dirname(cacheFile), { recursive: true });
  writeFileSync(cacheFile, JSON.stringify(run));
  console.error(
    `study: ${part} ${file.name} ${model} K=${topics} H=${hidden} V<=${maxVocab ?? 'all'}: ` +
      `perplexity ${run.heldOutPerplexity.toFixed(1)}, Recall@10 ${run.recallAt10.toFixed(3)}, ${wallSeconds.toFixed(1)} s`,
  );
  return run;
}

const runs: Run[] = [];
for (const file of FILES) {
  for (const model of ['lla', 'word-lla', 'lda']) runs.push(train('A', file, model, 50, 64, null));
}
const COMMON_VOCABULARY = 2000;
for (const file of FILES) {
  for (const topics of [10, 50]) {
    for (const model of ['lla', 'word-lla', 'lda']) runs.push(train('B', file, model, topics, 64, COMMON_VOCABULARY));
  }
  for (const hidden of [16, 64]) runs.push(train('B', file, 'lstm', 0, hidden, COMMON_VOCABULARY));
}

const outFolder = join(root, 'bench', 'study');
mkdirSync(outFolder, { recursive: true });
writeFileSync(join(outFolder, 'results.json'), `${JSON.stringify({ quick, runs }, null, 2)}\n`);

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const int = (value: number) => Math.round(value).toLocaleString('en-US');
function table(rows: Run[]): string {
  const header =
    '| file | model | K | H | held-out perplexity | unigram | cache (Recall@10) | Recall@10 | dense parameters | parameters (dense + non-zeros) | wall time (s) | M-step share | peak RSS (MiB) |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const body = rows.map(
    (r) =>
      `| ${r.file} | ${r.model} | ${r.topics ?? '-'} | ${r.model === 'lda' ? '-' : r.hidden} | ` +
      `${fmt(r.heldOutPerplexity)} | ${fmt(r.unigramPerplexity)} | ${fmt(r.cachePerplexity ?? NaN)} (${fmt(r.cacheRecallAt10 ?? NaN, 3)}) | ` +
      `${fmt(r.recallAt10, 3)} | ${int(r.denseParameters)} | ` +
      `${int(r.parameterCount)} | ${fmt(r.wallSeconds)} | ${fmt(100 * r.mstepShare, 0)}% | ${fmt(r.peakRssMiB, 0)} |`,
  );
  return `${header}\n${body.join('\n')}`;
}

const charts: string[] = [];
for (const file of FILES) {
  const rows = runs.filter((r) => r.part === 'B' && r.file === file.name);
  const series = ['lla', 'word-lla', 'lda', 'lstm'].map((model, i) => ({
    name: model,
    colour: topicColour(i * 3),
    points: rows
      .filter((r) => r.model === model)
      .sort((a, b) => a.parameterCount - b.parameterCount)
      .map((r) => ({ x: Math.log10(r.parameterCount), y: r.heldOutPerplexity })),
  }));
  const svg = lineChart({
    title: `${file.name}: held-out perplexity against parameters (common vocabulary of ${COMMON_VOCABULARY})`,
    xLabel: 'log10 parameters (dense + count non-zeros)',
    yLabel: 'held-out perplexity',
    series,
    width: 560,
    height: 320,
  });
  const name = `perplexity-vs-parameters-${file.name}.svg`;
  // a standalone file: the chart's classes are styled by the report page's CSS, so bring a copy of it along
  const style =
    '<style>text{font-family:sans-serif}.tick{font-size:11px;fill:#4a5561}.axis-title,.legend{font-size:12px;' +
    'fill:#1d232b}.grid{stroke:#e6e9ed}.axis{stroke:#8a939e}.frame{fill:none;stroke:#8a939e}</style>' +
    '<rect width="100%" height="100%" fill="#fff"/>';
  const standalone = (
    svg.includes('xmlns=') ? svg : svg.replace('<svg', '<svg xmlns="http://www.w3.org/2000/svg"')
  ).replace(/(<svg[^>]*>)/, `$1${style}`);
  writeFileSync(join(outFolder, name), standalone);
  charts.push(`![${file.name}: perplexity against parameters](bench/study/${name})`);
}

/** The defaults the runs used, as lla train --help states them (so that the text follows them when they change). */
function describeDefaults(): string {
  const d = DEFAULT_SETTINGS;
  const init = d.contextStart
    ? `hmm:${d.initHmmSweeps} initialisation`
    : d.initLdaSweeps > 0
      ? `lda:${d.initLdaSweeps} initialisation`
      : 'random topics';
  const iterations = quick ? '3 iterations' : `up to ${d.iterations} iterations, --tol ${d.tol}`;
  return `${iterations}, ${init}, lookahead ${d.lookahead ? 1 : 0}, --copy ${d.copy}, M-step tokens ${d.lstmTokens}, --estep auto`;
}

const command = `npx tsx bench/study.ts${quick ? ' --quick' : ''}`;
const section = [
  `Produced by \`${command}\` on ${new Date().toISOString().slice(0, 10)} (2-core machine, native kernels, TF.js ` +
    `${'wasm'} backend for the LSTMs, seed 1, holdout 0.1, every other setting at its default: ` +
    `${describeDefaults()}, 2 threads).`,
  '',
  "**A. Full vocabulary, K=50** (the training issue's settings):",
  '',
  table(runs.filter((r) => r.part === 'A')),
  '',
  `**B. One common vocabulary (the ${COMMON_VOCABULARY} most frequent training actions) for every model, a few sizes:**`,
  '',
  table(runs.filter((r) => r.part === 'B')),
  '',
  ...charts.map((chart) => chart),
].join('\n');

for (const target of [join(root, 'bench', 'RESULTS.md'), join(root, 'README.md')]) {
  const text = existsSync(target) ? readFileSync(target, 'utf8') : '';
  const begin = '<!-- study:begin -->';
  const end = '<!-- study:end -->';
  const block = `${begin}\n${target.endsWith('README.md') ? section.replaceAll('](bench/', '](bench/') : section.replaceAll('](bench/study/', '](study/')}\n${end}`;
  const updated =
    text.includes(begin) && text.includes(end)
      ? text.slice(0, text.indexOf(begin)) + block + text.slice(text.indexOf(end) + end.length)
      : `${text.trimEnd()}\n\n## Study: LLA against LDA and the LSTM baseline\n\n${block}\n`;
  writeFileSync(target, updated);
}
console.log(section);
