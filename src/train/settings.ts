/**
 * Every training setting with its documented default (SPEC section 3: each one is also a CLI flag). The
 * defaults were chosen on ../shared/data (see bench/RESULTS.md for the runs behind them).
 */
export const MODEL_KINDS = ['lla', 'word-lla', 'lda', 'lstm'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export interface ModelSettings {
  /** lla (Topic-LLA), word-lla, lda (baseline), lstm (action-level baseline, evaluation only) */
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
});

/** Without an explicit initialisation, the same share of the iterations as the defaults (8 of 15) runs as lda,
 * leaving at least one sweep of the model itself; lda and the lstm baseline have none. */
export function defaultInitSweeps(model: ModelKind, iterations: number): number {
  if (model === 'lda' || model === 'lstm') return 0;
  const share = DEFAULT_SETTINGS.initLdaSweeps / DEFAULT_SETTINGS.iterations;
  return Math.max(0, Math.min(iterations - 1, Math.round(iterations * share)));
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
  if (!Number.isSafeInteger(settings.seed) || settings.seed < 0) fail(`seed must be a whole number >= 0, got ${settings.seed}`);
}
