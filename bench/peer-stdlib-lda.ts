/**
 * The peer benchmark: the npm package @stdlib/nlp-lda (a plain collapsed Gibbs LDA sampler in JavaScript) on the
 * first documents of the Brown corpus. Its set-up (tokenising, the vocabulary, the dense W x K count matrix,
 * random initial topics) is excluded; only `fit` is timed, with as many sweeps as asked and the burn-in set
 * so that no phi/theta averages are computed (fit only averages when the sweep index exceeds burn-in).
 *
 * Usage: npx tsx bench/peer-stdlib-lda.ts [--documents 200] [--topics 1000] [--sweeps 2] [--alpha 0.05]
 *        [--beta 0.01] [--input ../shared/data/brown.txt.gz] [--json]
 * The last line of --json output is one JSON object (the same keys as `lla bench --json` where they apply).
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { forEachLine } from '../src/corpus/lines.js';

const require = createRequire(import.meta.url);

interface PeerModel {
  fit(iterations: number, burnin: number, thin: number): void;
  /** w[d]: the word ids of document d (the package's own tokenisation) */
  w: number[][];
  W: number;
}

export interface PeerResult {
  peer: string;
  version: string;
  input: string;
  documents: number;
  tokens: number;
  vocabulary: number;
  topics: number;
  alpha: number;
  beta: number;
  iterations: number;
  setupSeconds: number;
  seconds: number;
  tokensPerSecond: number;
  peakRssBytes: number;
}

function positiveNumber(name: string, raw: string | undefined, fallback: number, whole: boolean): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (whole && !Number.isInteger(value))) {
    throw new Error(`peer-stdlib-lda: --${name} must be a positive ${whole ? 'whole ' : ''}number, got '${raw}'`);
  }
  return value;
}

export async function runPeer(options: {
  input: string;
  documents: number;
  topics: number;
  sweeps: number;
  alpha: number;
  beta: number;
}): Promise<PeerResult> {
  const texts: string[] = [];
  await forEachLine(options.input, (line) => {
    if (texts.length < options.documents && line.trim() !== '') texts.push(line);
  });
  if (texts.length === 0) throw new Error(`peer-stdlib-lda: ${options.input} holds no document`);
  const lda = require('@stdlib/nlp-lda') as (
    docs: string[],
    k: number,
    opts: { alpha: number; beta: number },
  ) => PeerModel;
  const version = (require('@stdlib/nlp-lda/package.json') as { version: string }).version;

  const setupStarted = performance.now();
  const model = lda(texts, options.topics, { alpha: options.alpha, beta: options.beta });
  const setupSeconds = (performance.now() - setupStarted) / 1000;
  const tokens = model.w.reduce((sum, document) => sum + document.length, 0);

  const started = performance.now();
  // burn-in = sweeps: fit() computes phi/theta averages only after the burn-in, i.e. never here
  model.fit(options.sweeps, options.sweeps, 1);
  const seconds = (performance.now() - started) / 1000;
  return {
    peer: '@stdlib/nlp-lda',
    version,
    input: options.input,
    documents: texts.length,
    tokens,
    vocabulary: model.W,
    topics: options.topics,
    alpha: options.alpha,
    beta: options.beta,
    iterations: options.sweeps,
    setupSeconds,
    seconds,
    tokensPerSecond: (tokens * options.sweeps) / seconds,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      documents: { type: 'string' },
      topics: { type: 'string' },
      sweeps: { type: 'string' },
      alpha: { type: 'string' },
      beta: { type: 'string' },
      input: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const result = await runPeer({
    input: values.input ?? '../shared/data/brown.txt.gz',
    documents: positiveNumber('documents', values.documents, 200, true),
    topics: positiveNumber('topics', values.topics, 1000, true),
    sweeps: positiveNumber('sweeps', values.sweeps, 2, true),
    alpha: positiveNumber('alpha', values.alpha, 0.05, false),
    beta: positiveNumber('beta', values.beta, 0.01, false),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(
      `${result.peer} ${result.version}: ${result.documents} documents, ${result.tokens} tokens, ` +
        `V=${result.vocabulary}, K=${result.topics}: ${result.iterations} sweeps in ${result.seconds.toFixed(2)} s = ` +
        `${(result.tokensPerSecond / 1e6).toFixed(4)} M tokens/s (set-up ${result.setupSeconds.toFixed(1)} s, ` +
        `peak memory ${(result.peakRssBytes / 1048576).toFixed(0)} MiB)\n`,
    );
  }
}

// run as a script (not when imported by bench/throughput-table.ts)
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!)) {
  cli().catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  });
}
