/**
 * Every training setting with its documented default (SPEC section 3: each one is also a CLI flag). The
 * defaults were chosen on ../shared/data (see bench/RESULTS.md for the runs behind them).
 */
import { kernelLimitProblem } from '../kernels/limits.js';
import type { KernelLimitName } from '../kernels/types.js';
import { REPEATS_CHOICES, type RepeatsChoice } from './repeats.js';

export { REPEATS_CHOICES, type RepeatsChoice } from './repeats.js';

export const MODEL_KINDS = ['lla', 'word-lla', 'lda', 'lstm', 'cache'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
/** `--copy`: fit the copy component on held-in data and keep it where it improves the held-in score, or never. */
export const COPY_CHOICES = ['auto', 'off'] as const;
export type CopyChoice = (typeof COPY_CHOICES)[number];

/** Who trains the LSTM (the M-step): the kernels' fused trainer, TF.js, or auto (the kernels for lla and word-lla,
 * TF.js for the lstm baseline, whose V-way softmax the kernel trainer does not take). */
export const LSTM_ENGINE_CHOICES = ['auto', 'kernel', 'tfjs'] as const;
export type LstmEngineChoice = (typeof LSTM_ENGINE_CHOICES)[number];
export type LstmEngine = Exclude<LstmEngineChoice, 'auto'>;

/** The M-step budget: tokens per iteration (a whole number >= 1), a share of the training tokens (in (0, 1)), or
 * 'all' of them. */
export type LstmTokens = number | 'all';

export interface ModelSettings {
  /** lla (Topic-LLA), word-lla, lda (baseline), lstm (action-level baseline), cache (the recency cache) */
  model: ModelKind;
  /** K */
  topics: number;
  /** total E-step sweeps (the lda initialisation sweeps included) */
  iterations: number;
  /** the first N sweeps run in lda mode (`--init lda:N`; 0 = uniform random topics) */
  initLdaSweeps: number;
  /** `--init hmm:N`: topics start from the context clustering of the actions (src/train/context-start.ts), then
   * the first `initHmmSweeps` sweeps run the hmm, a transition table re-estimated from counts in place of the LSTM */
  contextStart: boolean;
  initHmmSweeps: number;
  /** the hmm's order: 1 (`--init hmm:N`, the default) or 2 (`--init hmm2:N`: p(z_t | z_{t-2}, z_{t-1}), from random
   * topics, for dynamics that the previous topic alone does not show) */
  initHmmOrder: number;
  /** when a first-order hmm start finds no structure (start-check.ts), this many second-order hmm sweeps from random
   * topics follow it before the model's own iterations, which the run then extends by as many (`--init-fallback N`;
   * 0: never). Topics that show only in longer-range order leave the unigram that way and in no other. */
  initFallbackSweeps: number;
  /** the lda and hmm initialisation sweeps draw exactly (default: K <= EXACT_ESTEP_MAX_TOPICS; they cost O(K)) */
  initExact: boolean;
  /** lla's E-step multiplies each token's target by the next topic's probability after it (`--lookahead 1`);
   * false is the paper's sampler */
  lookahead: boolean;
  /** lla: train the model's own iterations twice from the end of its initialisation, with lookahead and without, and
   * keep the run with the lower held-in perplexity (`--lookahead auto`; lookahead-choice.ts); `lookahead` and `exact`
   * then say which was kept. Needs the held-in slice (`copy: 'auto'`) and an initialisation; else `lookahead` holds */
  chooseLookahead: boolean;
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
  /** draw each topic exactly from all K terms instead of MH (default: exact when K <= exactMaxTopics(lookahead)) */
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
  /** LSTM training tokens per SEM iteration: a count, a share of the training tokens, or 'all' (lstmTokenBudget) */
  lstmTokens: LstmTokens;
  /** the M-step engine (resolveLstmEngine); model files and checkpoints without it load as 'auto' */
  lstmEngine: LstmEngineChoice;
  /** stop once the training log-likelihood per token improves by less than `tol` (relative) over the last
   * CONVERGENCE_WINDOW iterations against the ones before (convergence.ts); 0 runs every iteration */
  tol: number;
  /** held-out evaluation every N iterations (0: only at the end) */
  evalEvery: number;
  seed: number;
  /** kernel threads; 0 = all cores */
  threads: number;
  /** the copy component of lla, word-lla and lda (src/train/copy-fit.ts) */
  copy: CopyChoice;
  /** lla, word-lla and lda: a run of one action is one step of the topic chain (`blocks`, src/train/repeats.ts), or
   * every action is (`tokens`, the paper's model) */
  repeats: RepeatsChoice;
}

/** What the held-out particle filter takes from the settings (src/eval/perplexity.ts HeldOutOptions), wherever it
 * runs: the final evaluation, the copy fit, `lla eval`, inference. */
export function filterSettings(s: ModelSettings): {
  beta: number;
  alpha: number;
  particles: number;
  seed: number;
  threads: number;
  numTopics: number;
} {
  return {
    beta: s.beta,
    alpha: s.alpha,
    particles: s.particles,
    seed: s.seed,
    threads: s.threads,
    numTopics: s.topics,
  };
}

/** The engine that trains the LSTM of `model` (null for lda, which has none); throws for a choice the model cannot take. */
export function resolveLstmEngine(model: ModelKind, choice: LstmEngineChoice): LstmEngine | null {
  if (model === 'lda' || model === 'cache') return null;
  if (model === 'lstm') {
    if (choice === 'kernel') {
      throw new RangeError(
        "lstmEngine 'kernel' trains the topic LSTM of lla and word-lla; the lstm baseline's V-way " +
          "softmax trains on TF.js only: use lstmEngine 'auto' or 'tfjs'",
      );
    }
    return 'tfjs';
  }
  return choice === 'tfjs' ? 'tfjs' : 'kernel';
}

/** The M-step's tokens per iteration for a training corpus of `trainTokens` tokens (at least one). */
export function lstmTokenBudget(lstmTokens: LstmTokens, trainTokens: number): number {
  if (lstmTokens === 'all') return Math.max(1, trainTokens);
  if (lstmTokens < 1) return Math.max(1, Math.round(lstmTokens * trainTokens));
  return lstmTokens;
}

/** What is wrong with `value` as an M-step budget, or undefined. */
export function lstmTokensProblem(value: unknown): string | undefined {
  if (value === 'all') return undefined;
  if (
    typeof value === 'number' &&
    ((Number.isInteger(value) && value >= 1 && value <= 1e12) || (value > 0 && value < 1))
  )
    return undefined;
  return `must be a whole number of tokens >= 1, a share of the training tokens in (0, 1), or 'all', got ${JSON.stringify(value)}`;
}

/**
 * Up to this many topics the E-step draws exactly by default: O(K) per token costs no more than the MH steps'
 * cache misses there, and it mixes much faster (gitdev, K=50, 15 iterations: held-out perplexity 155 exact
 * against 185 with 2 MH steps, bench/RESULTS.md). Above it, Metropolis-Hastings with alias tables.
 */
export const EXACT_ESTEP_MAX_TOPICS = 100;

/**
 * With lookahead, lla's exact draw evaluates all K candidate next states, O(K^2 H) per token: up to this many topics
 * it is still the default. On the generated first-order corpus (K=10) exact draws reached 149.3 against 154.9 with
 * 2 MH steps (the true model 147.8); at K=50 they cost 14x the E-step time (0.02-0.03 against 0.34-0.41 M tokens/s on
 * one thread) and the event log was no better for it (116.0 against 116.7). bench/RESULTS.md, issue 15.
 */
export const EXACT_LOOKAHEAD_MAX_TOPICS = 10;

/** The most topics for which `--estep auto` draws exactly: fewer for lla with lookahead, whose exact draw is O(K^2 H). */
export function exactMaxTopics(model: ModelKind, lookahead: boolean): number {
  return model === 'lla' && lookahead ? EXACT_LOOKAHEAD_MAX_TOPICS : EXACT_ESTEP_MAX_TOPICS;
}

/**
 * Whether the E-step of a run with this lookahead setting draws exactly: as given (`exactGiven`, from --estep mh
 * or exact), else by the `--estep auto` rule (exactMaxTopics). A new model resolves its `exact` so, and each of
 * `--lookahead auto`'s two runs draws as a run with its own setting alone would.
 */
export function exactFor(
  settings: Pick<ModelSettings, 'model' | 'topics'>,
  lookahead: boolean,
  exactGiven: boolean | undefined,
): boolean {
  return exactGiven ?? settings.topics <= exactMaxTopics(settings.model, lookahead);
}

export const DEFAULT_SETTINGS: Readonly<ModelSettings> = Object.freeze({
  model: 'lla',
  topics: 50,
  iterations: 120,
  initLdaSweeps: 0,
  contextStart: true,
  initHmmSweeps: 100,
  initHmmOrder: 1,
  initFallbackSweeps: 200,
  initExact: true,
  lookahead: true,
  chooseLookahead: false,
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
  lstmTokens: 'all',
  lstmEngine: 'auto',
  tol: 0.001,
  evalEvery: 0,
  seed: 1,
  threads: 0,
  copy: 'auto',
  repeats: 'blocks',
});

/**
 * The action-level lstm baseline trains on TF.js only (its V-way softmax has no kernel trainer), at 3-10 k tokens/s:
 * the topic models' budget (the whole training corpus in each of 40 iterations) would take over an hour on the event
 * log, so it keeps the budget it had before the kernel trainer: 15 iterations of 40,000 tokens (the yardstick of the
 * study and of issue 13's tables). Explicit --iterations and --lstm-tokens override it.
 */
export const LSTM_BASELINE_DEFAULTS: Readonly<Pick<ModelSettings, 'iterations' | 'lstmTokens'>> = Object.freeze({
  iterations: 15,
  lstmTokens: 40_000,
});

/**
 * lda has no initialisation: the topic models' 120 iterations are 100 cheap hmm sweeps and 20 of the model, and lda
 * keeps the 40 sweeps it had (with --tol it stops once converged). Explicit --iterations overrides it.
 */
export const LDA_DEFAULTS: Readonly<Pick<ModelSettings, 'iterations'>> = Object.freeze({ iterations: 40 });

/** The defaults of one model kind: DEFAULT_SETTINGS, with the lstm baseline's own budget and lda's iterations. */
export function modelDefaults(model: ModelKind): Readonly<ModelSettings> {
  if (model === 'lstm') return { ...DEFAULT_SETTINGS, model, ...LSTM_BASELINE_DEFAULTS };
  if (model === 'lda') return { ...DEFAULT_SETTINGS, model, ...LDA_DEFAULTS };
  return { ...DEFAULT_SETTINGS, model };
}

/** Whether `model` starts from an initialisation (`--init`, `--init-fallback`): lla and word-lla do; lda, the lstm
 * baseline and the cache have none. */
export function hasInitialisation(model: ModelKind): boolean {
  return model === 'lla' || model === 'word-lla';
}

/** The initialisation of a run (`--init`): random topics, lda sweeps, or the context start and hmm sweeps. */
export type Initialisation = Pick<ModelSettings, 'initLdaSweeps' | 'contextStart' | 'initHmmSweeps' | 'initHmmOrder'>;

/** Without an explicit initialisation, the defaults' (the context start, then hmm sweeps) with the same share of
 * the iterations, leaving at least one sweep of the model itself; lda and the lstm baseline have none. */
export function defaultInitialisation(model: ModelKind, iterations: number): Initialisation {
  if (!hasInitialisation(model)) return { initLdaSweeps: 0, contextStart: false, initHmmSweeps: 0, initHmmOrder: 1 };
  const share = DEFAULT_SETTINGS.initHmmSweeps / DEFAULT_SETTINGS.iterations;
  return {
    initLdaSweeps: 0,
    contextStart: true,
    initHmmSweeps: Math.max(0, Math.min(iterations - 1, Math.round(iterations * share))),
    initHmmOrder: 1,
  };
}

/**
 * Settings saved before these keys existed meant: no lookahead (the paper's sampler), no repeat blocks, no context start or hmm
 * sweeps, no second-order fallback, and the initialisation sweeps as exact as the model's. Model files and checkpoints fill a missing key
 * from here, so that they load (and resume) as what they were.
 */
export function withLegacyDefaults(saved: Partial<ModelSettings>): Partial<ModelSettings> {
  return {
    lookahead: false,
    chooseLookahead: false,
    repeats: 'tokens',
    contextStart: false,
    initHmmSweeps: 0,
    initHmmOrder: 1,
    initFallbackSweeps: 0,
    initExact: saved.exact ?? DEFAULT_SETTINGS.exact,
    ...saved,
  };
}

/**
 * The second-order fallback's table has (K+1)^2 x K entries, growing as K^3: 8 MB at 100 topics, 8 GB at 1,000. Above
 * this many topics the fallback does not run (the run says what it found and advises instead).
 */
export const FALLBACK_MAX_TOPICS = 100;

/** Whether a run's first-order hmm start may be followed by the second-order fallback: it has fallback sweeps and at
 * most FALLBACK_MAX_TOPICS topics. SemState decides on it, the memory estimate counts its table by it. */
export function fallbackMayRun(initHmmOrder: number, initFallbackSweeps: number, topics: number): boolean {
  return initHmmOrder === 1 && initFallbackSweeps > 0 && topics <= FALLBACK_MAX_TOPICS;
}

/** The largest hmm order a run of `settings` may sweep: its initialisation's, or 2 when the fallback may run. */
export function hmmOrderNeeded(
  settings: Pick<ModelSettings, 'model' | 'topics' | 'initHmmSweeps' | 'initHmmOrder' | 'initFallbackSweeps'>,
): number {
  if (!hasInitialisation(settings.model) || settings.initHmmSweeps === 0) return 0;
  return fallbackMayRun(settings.initHmmOrder, settings.initFallbackSweeps, settings.topics)
    ? 2
    : settings.initHmmOrder;
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
    throw new RangeError(
      `lla settings: unknown option '${key}'${meant ? ` (did you mean '${meant}'?)` : ''}; ` +
        `the options are ${known.join(', ')}`,
    );
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
  const positiveIntegers: Array<keyof ModelSettings> = [
    'topics',
    'iterations',
    'hidden',
    'embedding',
    'mhSteps',
    'particles',
    'batch',
    'bptt',
  ];
  for (const key of positiveIntegers) {
    const value = settings[key] as number;
    if (!Number.isInteger(value) || value < 1) fail(`${key} must be a whole number >= 1, got ${String(value)}`);
  }
  for (const key of ['initLdaSweeps', 'initHmmSweeps', 'initFallbackSweeps', 'evalEvery', 'threads'] as const) {
    if (!Number.isInteger(settings[key]) || settings[key] < 0)
      fail(`${key} must be a whole number >= 0, got ${settings[key]}`);
  }
  for (const key of ['alpha', 'beta', 'sequenceSmoothing', 'learningRate'] as const) {
    if (!(settings[key] > 0) || !Number.isFinite(settings[key]))
      fail(`${key} must be a number > 0, got ${settings[key]}`);
  }
  const budgetProblem = lstmTokensProblem(settings.lstmTokens);
  if (budgetProblem !== undefined) fail(`lstmTokens ${budgetProblem}`);
  if (!(LSTM_ENGINE_CHOICES as readonly string[]).includes(settings.lstmEngine)) {
    fail(`lstmEngine must be one of ${LSTM_ENGINE_CHOICES.join(', ')}, got ${JSON.stringify(settings.lstmEngine)}`);
  }
  try {
    resolveLstmEngine(settings.model, settings.lstmEngine);
  } catch (error) {
    fail((error as Error).message);
  }
  if (!(settings.tol >= 0 && settings.tol < 1))
    fail(`tol must be a number in [0, 1) (0 runs every iteration), got ${settings.tol}`);
  for (const key of ['contextStart', 'initExact', 'lookahead', 'chooseLookahead', 'exact'] as const) {
    if (typeof settings[key] !== 'boolean') fail(`${key} must be true or false, got ${String(settings[key])}`);
  }
  if (settings.initLdaSweeps > settings.iterations) {
    fail(
      `the lda initialisation (${settings.initLdaSweeps} sweeps) cannot exceed the iterations (${settings.iterations})`,
    );
  }
  if (settings.initHmmSweeps > settings.iterations) {
    fail(
      `the hmm initialisation (${settings.initHmmSweeps} sweeps) cannot exceed the iterations (${settings.iterations})`,
    );
  }
  if (settings.initHmmOrder !== 1 && settings.initHmmOrder !== 2)
    fail(`initHmmOrder must be 1 or 2, got ${String(settings.initHmmOrder)}`);
  if (settings.initLdaSweeps > 0 && (settings.initHmmSweeps > 0 || settings.contextStart)) {
    fail(
      'choose one initialisation: lda sweeps (initLdaSweeps) or the context start and hmm sweeps (contextStart, ' +
        'initHmmSweeps), not both',
    );
  }
  // and every setting a kernel takes, within the limits both backends honour: refused now, not after training
  for (const [key, limit] of Object.entries(KERNEL_LIMIT_OF) as Array<
    [keyof typeof KERNEL_LIMIT_OF, KernelLimitName]
  >) {
    const problem = kernelLimitProblem(limit, settings[key]);
    if (problem !== undefined) fail(`${key} ${problem}`);
  }
  if (!(COPY_CHOICES as readonly string[]).includes(settings.copy)) {
    fail(`copy must be one of ${COPY_CHOICES.join(', ')}, got '${String(settings.copy)}'`);
  }
  if (!(REPEATS_CHOICES as readonly string[]).includes(settings.repeats)) {
    fail(`repeats must be one of ${REPEATS_CHOICES.join(', ')}, got '${String(settings.repeats)}'`);
  }
}

/** The settings that reach a kernel, and the kernel limit (KERNEL_LIMITS) that bounds each. */
const KERNEL_LIMIT_OF = {
  topics: 'topics',
  hidden: 'hidden',
  particles: 'particles',
  mhSteps: 'mhSteps',
  threads: 'threads',
  alpha: 'alpha',
  beta: 'beta',
  sequenceSmoothing: 'sequenceSmoothing',
  seed: 'seed',
} as const satisfies Partial<Record<keyof ModelSettings, KernelLimitName>>;
