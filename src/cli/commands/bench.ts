/** `lla bench <input>`: E-step sampler throughput (tokens/s), phase times, MH acceptance and peak memory;
 * `lla bench --mstep`: the LSTM M-step engines side by side (bench-mstep.ts). */
import type { Command, CommandIO } from '../command.js';
import { choiceOption, intOption, limitOption, positionals, type ParsedArgs } from '../options.js';
import { CORPUS_OPTIONS, corpusOptionsFrom } from '../corpus-options.js';
import { loadCorpus } from '../../corpus/corpus.js';
import { BACKEND_CHOICES, loadKernel } from '../../kernels/loader.js';
import { BENCH_DEFAULTS, BENCH_MODES, runSamplerBench, type BenchResult } from '../../bench/sampler-throughput.js';
import type { KernelMode } from '../../kernels/types.js';
import { runMstepCommand } from './bench-mstep.js';
import { MSTEP_BENCH_DEFAULTS } from '../../bench/mstep-throughput.js';
import { UsageError } from '../../errors.js';

const NAME = 'bench';
const d = BENCH_DEFAULTS;

function formatSeconds(seconds: number): string {
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(3)} s`;
}

export function formatBenchTable(result: BenchResult): string {
  const millions = (value: number) => `${(value / 1e6).toFixed(3)} M`;
  const rows: [string, string][] = [
    ['backend', `${result.backend} (${result.instructionSet})`],
    [
      'model',
      `${result.model}${result.hidden === null ? '' : `, hidden ${result.hidden}`}, ` +
        `${result.exact ? 'exact draws' : `${result.mhSteps} MH steps`}${result.lookahead ? ', lookahead' : ''}`,
    ],
    ['topics', String(result.topics)],
    ['threads', `${result.threads === 0 ? 'all' : result.threads} (${result.threadsUsed} used)`],
    ['corpus', `${result.sequences} sequences, ${result.tokens} tokens, ${result.vocabulary} actions`],
    ['iterations', `${result.iterations} timed, after ${result.warmupIterations} untimed warm-up`],
    ['tokens/s', `${millions(result.tokensPerSecond)} (sweeps alone ${millions(result.sweepTokensPerSecond)})`],
    [
      'time',
      `${formatSeconds(result.seconds)} = counts ${formatSeconds(result.phases.counts)} + alias ` +
        `${formatSeconds(result.phases.alias)} + sweeps ${formatSeconds(result.phases.sweep)} (set-up ` +
        `${formatSeconds(result.phases.setup)} and warm-up ${formatSeconds(result.phases.warmup)}, not counted)`,
    ],
    ['MH acceptance', result.acceptanceRate === null ? 'n/a (exact)' : `${(100 * result.acceptanceRate).toFixed(1)} %`],
    ['count non-zeros', String(result.countNonZeros)],
    ['peak memory', `${(result.peakRssBytes / 1048576).toFixed(1)} MiB${result.comparison ? ' (both chains)' : ''}`],
  ];
  const comparison = result.comparison;
  if (comparison !== undefined) {
    rows.push(
      [
        'compared with',
        comparison.lookahead !== result.lookahead
          ? `${comparison.lookahead ? 'lookahead' : 'no lookahead'}, a second chain run turn about with the first, ` +
            'same seed and threads'
          : `${comparison.threads === 0 ? 'all threads' : comparison.threads === 1 ? '1 thread' : `${comparison.threads} threads`} ` +
            `(${comparison.threadsUsed} used), ` +
            'a second chain run turn about with the first, same seed and topics',
      ],
      [
        'its tokens/s',
        `${millions(comparison.tokensPerSecond)} (sweeps alone ${millions(comparison.sweepTokensPerSecond)})`,
      ],
      ['speed-up', `${comparison.speedup.toFixed(2)}x`],
    );
  }
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${label.padEnd(width)}${value}`).join('\n') + '\n';
}

export const command: Command = {
  usage: '<input> [options]   |   lla bench --mstep [options]',
  description:
    'Loads the corpus, sets up the sampler (random initial topics, word-token index, count and alias tables, ' +
    'random fixed LSTM weights of Glorot scale), runs --warmup untimed E-step iterations (the first sweep of a ' +
    "process allocates the kernel's buffers and starts its threads), then --iterations timed ones, each a count " +
    'rebuild, an alias rebuild and one sweep. Reports sampled tokens per second of the timed iterations (loading, ' +
    'set-up and warm-up excluded), the time of each phase, the Metropolis-Hastings acceptance rate and the peak resident ' +
    'memory of the process. --compare-threads N runs a second chain with N threads, the two taking turns iteration ' +
    'by iteration, and reports the speed-up of --threads over N measured side by side (the chains share the seed, so ' +
    'they must sample the same topics; this is checked). --compare-lookahead (lla) does the same with a chain of the ' +
    'other --lookahead setting, so that its speed-up is the cost of lookahead measured side by side. With --json the ' +
    'last line is one JSON object. ' +
    "--mstep times the LSTM M-step alone instead, with no input: lla's topic LSTM trained on the topic sequences of " +
    'a synthetic first-order LLA, by the kernel trainer (native and WASM, at each of --threads) and by TF.js ' +
    '(--tf-backend), engines taking turns round by round, at each K of --topics and H of --hidden (comma-separated ' +
    `lists; default --topics ${MSTEP_BENCH_DEFAULTS.topics.join(',')} --hidden ${MSTEP_BENCH_DEFAULTS.hidden.join(',')} ` +
    `--threads ${MSTEP_BENCH_DEFAULTS.threads.join(',')}): tokens per second, the resident memory each engine added, and ` +
    "the process's peak memory.",
  options: {
    model: {
      type: 'string',
      short: 'm',
      valueName: BENCH_MODES.join('|'),
      description: 'sampler mode',
      default: d.mode,
    },
    topics: { type: 'string', short: 'k', valueName: 'K', description: 'number of topics', default: String(d.topics) },
    threads: {
      type: 'string',
      valueName: 'N',
      description: 'kernel threads (0 = all cores)',
      default: String(d.threads),
    },
    'compare-threads': {
      type: 'string',
      valueName: 'N',
      description: 'also time a chain on N threads, turn about, and report the speed-up',
    },
    backend: {
      type: 'string',
      valueName: 'native|wasm|auto',
      description: 'kernel backend (default: LLA_BACKEND, else auto)',
    },
    iterations: {
      type: 'string',
      short: 'i',
      valueName: 'I',
      description: 'timed E-step iterations',
      default: String(d.iterations),
    },
    warmup: {
      type: 'string',
      valueName: 'W',
      description: 'untimed E-step iterations before the timed ones',
      default: String(d.warmup),
    },
    seed: { type: 'string', valueName: 'S', description: 'random seed', default: String(d.seed) },
    hidden: {
      type: 'string',
      valueName: 'H',
      description: 'LSTM hidden units of the random weights',
      default: String(d.hidden),
    },
    'mh-steps': {
      type: 'string',
      valueName: 'M',
      description: 'Metropolis-Hastings steps per token',
      default: String(d.mhSteps),
    },
    exact: { type: 'boolean', description: 'draw every topic exactly from all K terms instead of MH' },
    lookahead: {
      type: 'string',
      valueName: '0|1',
      description:
        "lla: 1 multiplies each token's target by the next topic's probability after it (train's default), 0 is the paper's sampler",
      default: String(d.lookahead),
    },
    'compare-lookahead': {
      type: 'boolean',
      description:
        'lla: also time a chain with the other --lookahead setting, turn about, and report the ratio (the cost of lookahead side by side)',
    },
    alpha: { type: 'string', valueName: 'A', description: 'lda prior on in-sequence counts', default: String(d.alpha) },
    beta: {
      type: 'string',
      valueName: 'B',
      description: 'Dirichlet prior of the topic-action table',
      default: String(d.beta),
    },
    mstep: { type: 'boolean', description: 'time the LSTM M-step engines side by side instead (no input; see above)' },
    engines: {
      type: 'string',
      valueName: 'LIST',
      description: `--mstep: engines to time, of native, wasm, tfjs`,
      default: MSTEP_BENCH_DEFAULTS.engines.join(','),
    },
    rounds: {
      type: 'string',
      valueName: 'N',
      description: '--mstep: timed rounds per engine (the median is reported)',
      default: String(MSTEP_BENCH_DEFAULTS.rounds),
    },
    seconds: {
      type: 'string',
      valueName: 'S',
      description: '--mstep: about this long each timed call',
      default: String(MSTEP_BENCH_DEFAULTS.seconds),
    },
    'tf-backend': {
      type: 'string',
      valueName: 'B',
      description: '--mstep: TF.js backend: auto, node, wasm, cpu (default: LLA_TF_BACKEND, else auto)',
    },
    ...CORPUS_OPTIONS,
  },

  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    if (args.values.mstep === true) return runMstepCommand(args, io);
    const [input] = positionals(NAME, args, ['input']);
    const mode: KernelMode = choiceOption(NAME, args, 'model', BENCH_MODES, d.mode);
    const topics = limitOption(NAME, args, 'topics', 'topics', d.topics);
    const threads = limitOption(NAME, args, 'threads', 'threads', d.threads);
    const compareThreads =
      args.values['compare-threads'] === undefined
        ? undefined
        : limitOption(NAME, args, 'compare-threads', 'threads', 1);
    const backend = choiceOption(NAME, args, 'backend', BACKEND_CHOICES);
    const iterations = intOption(NAME, args, 'iterations', d.iterations, 1, 1_000_000);
    const warmup = intOption(NAME, args, 'warmup', d.warmup, 0, 1_000_000);
    const seed = limitOption(NAME, args, 'seed', 'seed', d.seed);
    const hidden = limitOption(NAME, args, 'hidden', 'hidden', d.hidden);
    const mhSteps = limitOption(NAME, args, 'mh-steps', 'mhSteps', d.mhSteps);
    const alpha = limitOption(NAME, args, 'alpha', 'alpha', d.alpha);
    const beta = limitOption(NAME, args, 'beta', 'beta', d.beta);
    const exact = args.values.exact === true;
    const lookahead =
      choiceOption(NAME, args, 'lookahead', ['0', '1'] as const, String(d.lookahead) as '0' | '1') === '1';
    if (lookahead && mode !== 'lla')
      throw new UsageError(`lla ${NAME}: --lookahead 1 applies to --model lla only, not ${mode}`);
    const compareLookahead = args.values['compare-lookahead'] === true;
    if (compareLookahead && mode !== 'lla')
      throw new UsageError(`lla ${NAME}: --compare-lookahead applies to --model lla only, not ${mode}`);
    if (compareLookahead && compareThreads !== undefined)
      throw new UsageError(
        `lla ${NAME}: --compare-lookahead and --compare-threads each add a second chain: give one of them per run`,
      );
    const settings = await corpusOptionsFrom(NAME, args);

    // the kernel first: a missing backend fails before minutes of loading
    const kernel = await loadKernel({ backend, env: io.env });
    const corpus = await loadCorpus(input, {
      ...settings.read,
      ...settings.vocabulary,
      ...settings.corpus,
      signal: io.signal,
    });
    const progress = (iteration: number, seconds: number) => {
      if (io.interactive)
        io.stderr.write(`\r\x1b[2Klla bench: iteration ${iteration}/${iterations} (${formatSeconds(seconds)})`);
    };
    let result: BenchResult;
    try {
      result = await runSamplerBench(
        kernel,
        {
          offsets: corpus.offsets,
          tokens: corpus.tokens,
          vocabularySize: corpus.vocabulary.size,
        },
        {
          mode,
          topics,
          threads,
          compareThreads,
          compareLookahead,
          iterations,
          warmup,
          seed,
          hidden,
          mhSteps,
          exact,
          lookahead,
          alpha,
          beta,
          signal: io.signal,
          onIteration: progress,
        },
      );
    } finally {
      if (io.interactive) io.stderr.write('\r\x1b[2K');
    }
    if (args.values.json) io.stdout.write(`${JSON.stringify({ input, ...result })}\n`);
    else io.stdout.write(formatBenchTable(result));
    return 0;
  },
};
