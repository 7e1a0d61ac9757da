/**
 * The recovery benchmark (issue 15): corpora drawn by `lla generate` from known topics and dynamics, first- and
 * second-order, K in {10, 50}, V in {1000, 10000}, each trained as lda, lla, word-lla and the action-level lstm
 * with `--truth`, so that every run also reports the generating model's exact held-out perplexity (the floor) and,
 * for the topic models, the mean total variation of the learned topics to the true ones (matched one to one).
 *
 *   npx tsx bench/recovery.ts [--quick] [--sequences D] [--length L] [--models lla,lda,...] [--fresh]
 *                             [--lstm-max-vocabulary V]
 *
 * --quick: one small corpus per dynamics (K=10, V=1000, 1,000 sequences) and 3 iterations per model (lla-hmm2: 30
 * hmm sweeps and 3 iterations), to try the script. Each run is its own child process (`node bin/lla.js train ...
 * --json`) with the model's defaults but --topics (the lstm baseline: --hidden 32, as in the issue's table; lla-hmm2:
 * --init hmm2:100 --iterations 110); a finished run is kept in
 * bench/recovery/cache/ (ignored by git), so an interrupted benchmark resumes where it stopped (--fresh: rerun).
 * --lstm-max-vocabulary V: train the lstm baseline only on corpora of at most V actions (its V-way softmax trains on
 * TF.js alone: about 4 minutes at V=1,000 on two cores, over 20 at V=10,000); skipped cells read "not run".
 * The table replaces the section between the recovery markers of bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name: string): string | undefined => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const sequences = Number(option('sequences') ?? (quick ? 1000 : 10000));
const length = Number(option('length') ?? 50);
/** the models, each at its defaults but --topics; lla-hmm2 is lla with --init hmm2:100 (random topics, 100 sweeps of a
 * second-order hmm, then the defaults' 10 lla iterations), the initialisation for dynamics the previous topic hides */
const MODELS: Record<string, string[]> = {
  lda: ['--model', 'lda'],
  lla: ['--model', 'lla'],
  'word-lla': ['--model', 'word-lla'],
  lstm: ['--model', 'lstm', '--hidden', '32'],
  'lla-hmm2': ['--model', 'lla', '--init', 'hmm2:100', '--iterations', '110'],
};
const lstmMaxVocabulary = Number(option('lstm-max-vocabulary') ?? Infinity);
if (!(lstmMaxVocabulary >= 1)) {
  console.error(
    `recovery: --lstm-max-vocabulary takes a number of actions >= 1, got '${option('lstm-max-vocabulary')}'`,
  );
  process.exit(2);
}
const models = (option('models') ?? Object.keys(MODELS).join(',')).split(',');
for (const model of models) {
  if (!(model in MODELS)) {
    console.error(`recovery: unknown model '${model}'; use ${Object.keys(MODELS).join(', ')}`);
    process.exit(2);
  }
}
const DYNAMICS = ['first-order', 'second-order'] as const;
const SIZES = quick
  ? [{ topics: 10, vocabulary: 1000 }]
  : [
      { topics: 10, vocabulary: 1000 },
      { topics: 10, vocabulary: 10000 },
      { topics: 50, vocabulary: 1000 },
      { topics: 50, vocabulary: 10000 },
    ];
const folder = join(root, 'bench', 'recovery', 'cache');
mkdirSync(folder, { recursive: true });

interface Run {
  dynamics: string;
  topics: number;
  vocabulary: number;
  model: string;
  heldOutPerplexity: number;
  unigramPerplexity: number;
  truePerplexity: number;
  meanTopicTotalVariation: number | null;
  seconds: number;
}

function lla(argv: string[]): string {
  const child = spawnSync(process.execPath, [join(root, 'bin', 'lla.js'), ...argv], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (child.status !== 0)
    throw new Error(`recovery: lla ${argv.join(' ')} failed (exit ${child.status}):\n${child.stderr.slice(-2000)}`);
  return child.stdout;
}

/** The corpus and its truth for one configuration, generated once. */
function corpusName(dynamics: string, topics: number, vocabulary: number): string {
  return `${dynamics}-k${topics}-v${vocabulary}-d${sequences}-l${length}`;
}

function corpus(dynamics: string, topics: number, vocabulary: number): { text: string; truth: string } {
  const name = corpusName(dynamics, topics, vocabulary);
  const text = join(folder, `${name}.txt`);
  const truth = join(folder, `${name}.truth.json`);
  if (!existsSync(text) || !existsSync(truth)) {
    lla([
      'generate',
      '--out',
      text,
      '--truth',
      truth,
      '--topics',
      String(topics),
      '--vocabulary',
      String(vocabulary),
      '--sequences',
      String(sequences),
      '--length',
      String(length),
      '--dynamics',
      dynamics,
      '--seed',
      '1',
    ]);
  }
  return { text, truth };
}

function train(dynamics: string, topics: number, vocabulary: number, model: string): Run {
  const files = corpus(dynamics, topics, vocabulary);
  const modelArgs = !quick
    ? MODELS[model]
    : model === 'lla-hmm2'
      ? ['--model', 'lla', '--init', 'hmm2:30', '--iterations', '33']
      : [...MODELS[model], '--iterations', '3'];
  const argv = [
    'train',
    files.text,
    ...modelArgs,
    '--truth',
    files.truth,
    '--seed',
    '1',
    '--json',
    ...(model === 'lstm' ? [] : ['--topics', String(topics)]),
  ];
  const cacheFile = join(folder, `${corpusName(dynamics, topics, vocabulary)}-${model}${quick ? '-quick' : ''}.json`);
  if (!args.includes('--fresh') && existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, 'utf8')) as Run;
  const started = performance.now();
  const result = JSON.parse(lla(argv).trim().split('\n').pop()!) as Record<string, number | null>;
  const run: Run = {
    dynamics,
    topics,
    vocabulary,
    model,
    heldOutPerplexity: result.heldOutPerplexity!,
    unigramPerplexity: result.unigramPerplexity!,
    truePerplexity: result.truePerplexity!,
    meanTopicTotalVariation: result.meanTopicTotalVariation ?? null,
    seconds: (performance.now() - started) / 1000,
  };
  writeFileSync(cacheFile, JSON.stringify(run));
  console.error(
    `recovery: ${dynamics} K=${topics} V=${vocabulary} ${model}: perplexity ${run.heldOutPerplexity.toFixed(1)} ` +
      `(true ${run.truePerplexity.toFixed(1)}) in ${run.seconds.toFixed(0)} s`,
  );
  return run;
}

const load = loadavg()
  .map((value) => value.toFixed(2))
  .join(' / ');
const started = performance.now();
const runs: Run[] = [];
for (const dynamics of DYNAMICS) {
  for (const { topics, vocabulary } of SIZES) {
    for (const model of models) {
      if (model === 'lstm' && vocabulary > lstmMaxVocabulary) continue;
      runs.push(train(dynamics, topics, vocabulary, model));
    }
  }
}

const cell = (run: Run | undefined) =>
  run === undefined
    ? 'not run'
    : run.meanTopicTotalVariation === null
      ? run.heldOutPerplexity.toFixed(1)
      : `${run.heldOutPerplexity.toFixed(1)} (${run.meanTopicTotalVariation.toFixed(2)})`;
const rows = [
  `| dynamics | K | V | true model | unigram | ${models.join(' | ')} |`,
  `|---|---|---|---|---|${models.map(() => '---|').join('')}`,
];
for (const dynamics of DYNAMICS) {
  for (const { topics, vocabulary } of SIZES) {
    const mine = runs.filter(
      (run) => run.dynamics === dynamics && run.topics === topics && run.vocabulary === vocabulary,
    );
    rows.push(
      `| ${dynamics} | ${topics} | ${vocabulary} | ${mine[0].truePerplexity.toFixed(1)} | ${mine[0].unigramPerplexity.toFixed(1)} | ` +
        `${models.map((model) => cell(mine.find((run) => run.model === model))).join(' | ')} |`,
    );
  }
}
const section = [
  `Command: \`npx tsx bench/recovery.ts${quick ? ' --quick' : ''}${Number.isFinite(lstmMaxVocabulary) ? ` --lstm-max-vocabulary ${lstmMaxVocabulary}` : ''}\` (${sequences.toLocaleString('en-US')} sequences of mean length ` +
    `${length} per corpus, \`lla generate --seed 1\`; each model at its defaults but --topics, the lstm baseline with --hidden 32` +
    (Number.isFinite(lstmMaxVocabulary) ? ` on corpora of at most ${lstmMaxVocabulary} actions` : '') +
    ', ' +
    'lla-hmm2 lla with --init hmm2:100 --iterations 110; ' +
    `holdout 0.1, seed 1). ${cpus().length} cores, load average before ${load}, ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  '',
  'Held-out perplexity, and in brackets the mean total variation of the learned topics to the true ones (matched one to one):',
  '',
  ...rows,
].join('\n');
const results = join(root, 'bench', 'RESULTS.md');
const text = readFileSync(results, 'utf8');
const begin = '<!-- recovery:begin -->';
const end = '<!-- recovery:end -->';
if (text.includes(begin) && text.includes(end)) {
  writeFileSync(
    results,
    `${text.slice(0, text.indexOf(begin) + begin.length)}\n${section}\n${text.slice(text.indexOf(end))}`,
  );
  console.error(`recovery: the table is in ${results}`);
}
console.log(section);
