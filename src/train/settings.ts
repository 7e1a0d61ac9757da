/**
 * Every training setting with its documented default (SPEC section 3: each one is also a CLI flag). The
 * defaults were chosen on ../shared/data (see bench/RESULTS.md for the runs behind them).
 */
import { kernelLimitProblem } from '../kernels/limits.js';
import type { KernelLimitName } from '../kernels/types.js';

export const MODEL_KINDS = ['lla', 'word-lla', 'lda', 'lstm', 'cache'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
/** `--copy`: fit the copy component on held-in data and keep it where it improves the held-in score, or never. */
export const COPY_CHOICES = ['auto', 'off'] as const;
export type CopyChoice = (typeof COPY_CHOICES)[number];

export interface ModelSettings {
  /** lla (Topic-LLA), word-lla, lda (baseline), lstm (action-level baseline), cache (the recency cache) */
  model: ModelKind;
  /** K */
  topics: number;
  /** total E-step sweeps (the lda initialisation sweeps included) */
  iterations: number;
  /** the first N sweeps run in lda mode (`--init lda:N`; 0 = uniform random topics) */
  initLdaSweeps: number;
  /** H */
  hidden: number;
  /** E */
  embedding: number;
  /** lda's prior on in-sequence topic counts */
  alpha: number;
  /** the topic-action Dirichlet prior */
  beta: number;
  /** Metropolis-Hastings steps per token */
  mhSteps: number;
  /** draw each topic exactly from all K terms instead of MH (default: exact when K <= EXACT_ESTEP_MAX_TOPICS) */
  exact: boolean;
  /** the constant a of the sequence proposal */
  sequenceSmoothing: number;
  /** particles of the held-out particle filter */
  particles: number;
  /** Adam learning rate of the LSTM M-step */
  learningRate: number;
  /** sequences per LSTM minibatch */
  batch: number;
  /** truncated back-propagation window */
  bptt: number;
  /** LSTM training tokens per SEM iteration */
  lstmTokens: number;
  /** held-out evaluation every N iterations (0: only at the end) */
  evalEvery: number;
  seed: number;
  /** kernel threads; 0 = all cores */
  threads: number;
  /** the copy component of lla, word-lla and lda (src/train/copy-fit.ts) */
  copy: CopyChoice;
}

/**
 * Up to this many topics the E-step draws exactly by default: O(K) per token costs no more than the MH steps'
 * cache misses there, and it mixes much faster (gitdev, K=50, 15 iterations: held-out perplexity 155 exact
 * against 185 with 2 MH steps, bench/RESULTS.md). Above it, Metropolis-Hastings with alias tables.
 */
export const EXACT_ESTEP_MAX_TOPICS = 100;

export const DEFAULT_SETTINGS: Readonly<ModelSettings> = Object.freeze({
  model: 'lla',
  topics: 50,
  iterations: 15,
  initLdaSweeps: 8,
  hidden: 64,
  embedding: 32,
  alpha: 0.1,
  beta: 0.01,
  mhSteps: 2,
  exact: false,
  sequenceSmoothing: 0.1,
  particles: 32,
  learningRate: 0.01,
  batch: 32,
  bptt: 32,
  lstmTokens: 40_000,
  evalEvery: 0,
  seed: 1,
  threads: 0,
  copy: 'auto',
});

/** Without an explicit initialisation, the same share of the iterations as the defaults (8 of 15) runs as lda,
 * leaving at least one sweep of the model itself; lda and the lstm baseline have none. */
export function defaultInitSweeps(model: ModelKind, iterations: number): number {
  if (model === 'lda' || model === 'lstm' || model === 'cache') return 0;
  const share = DEFAULT_SETTINGS.initLdaSweeps / DEFAULT_SETTINGS.iterations;
  return Math.max(0, Math.min(iterations - 1, Math.round(iterations * share)));
}

/** The setting names, in DEFAULT_SETTINGS' order. */
export const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as Array<keyof ModelSettings>;

/**
 * Refuses option names outside `known` (a misspelt option would otherwise be kept and silently do nothing),
 * naming the one meant when it is close: the same letters but for case, '-' and '_', or one or two edits away.
 */
export function checkOptionNames(given: object, known: readonly string[]): void {
  for (const key of Object.keys(given)) {
    if (known.includes(key)) continue;
    const meant = closestName(key, known);
    throw new RangeError(`lla settings: unknown option '${key}'${meant ? ` (did you mean '${meant}'?)` : ''}; ` +
      `the options are ${known.join(', ')}`);
  }
}

function closestName(key: string, known: readonly string[]): string | undefined {
  const plain = (name: string) => name.toLowerCase().replace(/[-_]/g, '');
  const same = known.find((name) => plain(name) === plain(key));
  if (same) return same;
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of known) {
    const distance = editDistance(plain(key), plain(name));
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions of one character. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** Checks settings given through the library API (the CLI validates flags before this). */
export function validateSettings(settings: ModelSettings): void {
  const fail = (message: string): never => {
    throw new RangeError(`lla settings: ${message}`);
  };
  if (!(MODEL_KINDS as readonly string[]).includes(settings.model)) {
    fail(`model must be one of ${MODEL_KINDS.join(', ')}, got '${String(settings.model)}'`);
  }
  const positiveIntegers: Array<keyof ModelSettings> = ['topics', 'iterations', 'hidden', 'embedding', 'mhSteps',
    'particles', 'batch', 'bptt', 'lstmTokens'];
  for (const key of positiveIntegers) {
    const value = settings[key] as number;
    if (!Number.isInteger(value) || value < 1) fail(`${key} must be a whole number >= 1, got ${String(value)}`);
  }
  for (const key of ['initLdaSweeps', 'evalEvery', 'threads'] as const) {
    if (!Number.isInteger(settings[key]) || settings[key] < 0) fail(`${key} must be a whole number >= 0, got ${settings[key]}`);
  }
  for (const key of ['alpha', 'beta', 'sequenceSmoothing', 'learningRate'] as const) {
    if (!(settings[key] > 0) || !Number.isFinite(settings[key])) fail(`${key} must be a number > 0, got ${settings[key]}`);
  }
  if (settings.initLdaSweeps > settings.iterations) {
    fail(`the lda initialisation (${settings.initLdaSweeps} sweeps) cannot exceed the iterations (${settings.iterations})`);
  }
  // and every setting a kernel takes, within the limits both backends honour: refused now, not after training
  for (const [key, limit] of Object.entries(KERNEL_LIMIT_OF) as Array<[keyof typeof KERNEL_LIMIT_OF, KernelLimitName]>) {
    const problem = kernelLimitProblem(limit, settings[key]);
    if (problem !== undefined) fail(`${key} ${problem}`);
  }
  if (!(COPY_CHOICES as readonly string[]).includes(settings.copy)) {
    fail(`copy must be one of ${COPY_CHOICES.join(', ')}, got '${String(settings.copy)}'`);
  }
}

/** The settings that reach a kernel, and the kernel limit (KERNEL_LIMITS) that bounds each. */
const KERNEL_LIMIT_OF = {
  topics: 'topics', hidden: 'hidden', particles: 'particles', mhSteps: 'mhSteps', threads: 'threads', alpha: 'alpha',
  beta: 'beta', sequenceSmoothing: 'sequenceSmoothing', seed: 'seed',
} as const satisfies Partial<Record<keyof ModelSettings, KernelLimitName>>;
