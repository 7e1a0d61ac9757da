/** The training flags shared by `train` (and read back from model files by the other commands). */
import { UsageError } from '../errors.js';
import {
  COPY_CHOICES,
  REPEATS_CHOICES,
  DEFAULT_SETTINGS,
  EXACT_ESTEP_MAX_TOPICS,
  EXACT_LOOKAHEAD_MAX_TOPICS,
  LSTM_ENGINE_CHOICES,
  MODEL_KINDS,
  defaultInitialisation,
  lstmTokensProblem,
  modelDefaults,
  hasInitialisation,
  LSTM_BASELINE_DEFAULTS,
  LDA_DEFAULTS,
  type Initialisation,
  type LstmTokens,
  type ModelSettings,
} from '../train/settings.js';
import { BACKEND_CHOICES, resolveBackendChoice } from '../kernels/loader.js';
import { parseTfBackend, type TfBackendChoice } from '../lstm/tf-backend.js';
import {
  choiceOption,
  intOption,
  limitOption,
  numberOption,
  stringOption,
  type OptionSpecs,
  type ParsedArgs,
} from './options.js';

const d = DEFAULT_SETTINGS;
/** `--estep auto`: the model chooses by K (exactMaxTopics in src/train/settings.ts) */
const ESTEP_DEFAULT = 'auto';

/** Kernel and TF.js backend flags (every command that runs a model). */
export const BACKEND_OPTIONS: OptionSpecs = {
  backend: {
    type: 'string',
    valueName: 'B',
    description: `kernel backend: ${BACKEND_CHOICES.join(', ')} (default: LLA_BACKEND, else auto)`,
  },
  'tf-backend': {
    type: 'string',
    valueName: 'B',
    description: 'TF.js backend for the LSTM: auto, node, wasm, cpu (default: LLA_TF_BACKEND, else auto)',
  },
  threads: {
    type: 'string',
    valueName: 'N',
    description: 'kernel threads (0 = all cores)',
    default: String(d.threads),
  },
};

export const MODEL_OPTIONS: OptionSpecs = {
  model: { type: 'string', valueName: 'M', description: `model: ${MODEL_KINDS.join(', ')}`, default: d.model },
  topics: { type: 'string', short: 'k', valueName: 'K', description: 'number of topics', default: String(d.topics) },
  iterations: {
    type: 'string',
    short: 'n',
    valueName: 'N',
    description: 'SEM iterations (E-step sweeps, lda initialisation included)',
    default: `${d.iterations} (lda: ${LDA_DEFAULTS.iterations}, the lstm baseline: ${LSTM_BASELINE_DEFAULTS.iterations})`,
  },
  init: {
    type: 'string',
    valueName: 'I',
    description:
      "initial topics: 'random', 'lda:N' (the first N sweeps run as lda), " +
      "'hmm:N' (topics from clustering the actions by their neighbours, then the first N sweeps run a first-order hmm " +
      "in place of the LSTM) or 'hmm2:N' (random topics, then N sweeps of a second-order hmm: for dynamics that the " +
      'previous topic alone does not show; it needs about 100 sweeps)',
    default: `hmm:${d.initHmmSweeps} (${d.initHmmSweeps}/${d.iterations} of --iterations)`,
  },
  'init-fallback': {
    type: 'string',
    valueName: 'N',
    description:
      "when the first-order hmm start finds no structure (its log-likelihood no better than the unigram's), run N " +
      "second-order hmm sweeps from random topics before the model's own iterations, which grow by N " +
      '(topics that show only in longer-range order leave the unigram this way); 0: never',
    default: String(d.initFallbackSweeps),
  },
  lookahead: {
    type: 'string',
    valueName: '0|1|auto',
    description:
      "lla's E-step: 1 multiplies each token's target by the next " +
      "topic's probability after it (learns topics from their order), 0 is the paper's sampler; auto trains the " +
      "model's own iterations both ways from the end of the initialisation and keeps the one with the lower held-in " +
      'perplexity (needs --copy auto; else 1)',
    default: lookaheadFlag(d),
  },
  seed: {
    type: 'string',
    valueName: 'S',
    description: 'random seed (sampler, split, LSTM initialisation)',
    default: String(d.seed),
  },
  alpha: {
    type: 'string',
    valueName: 'A',
    description: "lda's prior on in-sequence topic counts",
    default: String(d.alpha),
  },
  beta: {
    type: 'string',
    valueName: 'B',
    description: 'Dirichlet prior of the topic-action distributions',
    default: String(d.beta),
  },
  hidden: { type: 'string', valueName: 'H', description: 'LSTM hidden units', default: String(d.hidden) },
  embedding: { type: 'string', valueName: 'E', description: 'LSTM input embedding size', default: String(d.embedding) },
  lr: {
    type: 'string',
    valueName: 'R',
    description: 'Adam learning rate of the LSTM',
    default: String(d.learningRate),
  },
  batch: { type: 'string', valueName: 'N', description: 'sequences per LSTM minibatch', default: String(d.batch) },
  bptt: {
    type: 'string',
    valueName: 'L',
    description: 'truncated back-propagation window (tokens)',
    default: String(d.bptt),
  },
  'lstm-tokens': {
    type: 'string',
    valueName: 'N',
    description:
      'LSTM training tokens per iteration (M-step budget): a count, a share ' +
      "of the training tokens in (0, 1) (e.g. 0.25), or 'all'",
    default: `${d.lstmTokens} (the lstm baseline: ${LSTM_BASELINE_DEFAULTS.lstmTokens})`,
  },
  'lstm-engine': {
    type: 'string',
    valueName: 'E',
    description:
      "who trains the LSTM: 'kernel' (the kernels' fused trainer, native or " +
      "WASM, all threads), 'tfjs' (TensorFlow.js, --tf-backend) or 'auto' (kernel for lla and word-lla, tfjs for the lstm " +
      'baseline); a model or checkpoint of either engine trains on under the other',
    default: d.lstmEngine,
  },
  tol: {
    type: 'string',
    valueName: 'T',
    description:
      'stop once the training log-likelihood per token improves by less than T ' +
      '(relative) over the last iterations; 0 runs every iteration',
    default: String(d.tol),
  },
  'mh-steps': {
    type: 'string',
    valueName: 'M',
    description: 'Metropolis-Hastings steps per token',
    default: String(d.mhSteps),
  },
  estep: {
    type: 'string',
    valueName: 'E',
    description:
      "E-step sampler: 'mh' (alias-table Metropolis-Hastings), 'exact' (all K terms) or " +
      `'auto' (exact up to ${EXACT_ESTEP_MAX_TOPICS} topics; lla with lookahead up to ${EXACT_LOOKAHEAD_MAX_TOPICS}, its ` +
      `initialisation sweeps up to ${EXACT_ESTEP_MAX_TOPICS}; under --lookahead auto each run by its own setting)`,
    default: ESTEP_DEFAULT,
  },
  'sequence-smoothing': {
    type: 'string',
    valueName: 'A',
    description: 'the constant a of the sequence proposal',
    default: String(d.sequenceSmoothing),
  },
  particles: {
    type: 'string',
    valueName: 'S',
    description: 'particles of the held-out particle filter',
    default: String(d.particles),
  },
  'eval-every': {
    type: 'string',
    valueName: 'N',
    description: 'held-out perplexity every N iterations (0: at the end only)',
    default: String(d.evalEvery),
  },
  copy: {
    type: 'string',
    valueName: 'C',
    description:
      "copy component of lla, word-lla and lda: 'auto' (fitted on a held-in tenth " +
      "of the training sequences, kept where it improves their score) or 'off'",
    default: d.copy,
  },
  repeats: {
    type: 'string',
    valueName: 'R',
    description:
      "lla, word-lla and lda: 'blocks' (a run of one action is one step of the topics, its repeats scored by a " +
      "per-action repeat probability) or 'tokens' (every action is a step, the paper's model)",
    default: d.repeats,
  },
};

/** `--tf-backend` of the command that ran (its name starts every message). */
export function tfBackendFrom(command: string, args: ParsedArgs): TfBackendChoice | undefined {
  const raw = stringOption(command, args, 'tf-backend');
  if (raw === undefined) return undefined;
  try {
    return parseTfBackend(raw, '--tf-backend');
  } catch (error) {
    throw new UsageError(`lla ${command}: ${(error as Error).message}`);
  }
}

/** Backend flags, validated (an unknown --backend or LLA_BACKEND is a usage error). */
export function backendFrom(
  command: string,
  args: ParsedArgs,
  env: NodeJS.ProcessEnv,
): { backend: string; tfBackend: TfBackendChoice | undefined; threads: number } {
  const backend = resolveBackendChoice(stringOption(command, args, 'backend'), env);
  return {
    backend,
    tfBackend: tfBackendFrom(command, args),
    threads: limitOption(command, args, 'threads', 'threads', d.threads),
  };
}

const LOOKAHEAD_CHOICES = ['0', '1', 'auto'] as const;

/** `--lookahead` of settings: auto when the run chooses, else its fixed setting. */
export function lookaheadFlag(
  settings: Pick<ModelSettings, 'lookahead' | 'chooseLookahead'>,
): (typeof LOOKAHEAD_CHOICES)[number] {
  return settings.chooseLookahead ? 'auto' : settings.lookahead ? '1' : '0';
}

/** The settings of a `--lookahead` value: auto's first run is the one with lookahead. */
export function lookaheadSettings(
  flag: (typeof LOOKAHEAD_CHOICES)[number],
): Pick<ModelSettings, 'lookahead' | 'chooseLookahead'> {
  return { lookahead: flag !== '0', chooseLookahead: flag === 'auto' };
}

/** The settings given by flags; `exact` and `initExact` are left undefined for `--estep auto` (the model decides
 * by K). */
export type FlagSettings = Omit<ModelSettings, 'exact' | 'initExact'> & {
  exact: boolean | undefined;
  initExact: boolean | undefined;
};

export function settingsFrom(command: string, args: ParsedArgs): FlagSettings {
  const model = choiceOption(command, args, 'model', MODEL_KINDS, d.model);
  const defaults = modelDefaults(model);
  const iterations = intOption(command, args, 'iterations', defaults.iterations, 1, 1_000_000);
  const init = stringOption(command, args, 'init');
  let initialisation: Initialisation;
  const match = /^(lda|hmm|hmm2):(\d+)$/.exec((init ?? '').trim());
  const none: Initialisation = { initLdaSweeps: 0, contextStart: false, initHmmSweeps: 0, initHmmOrder: 1 };
  if (init === undefined) initialisation = defaultInitialisation(model, iterations);
  else if (init.trim() === 'random') initialisation = none;
  else if (match?.[1] === 'lda') initialisation = { ...none, initLdaSweeps: Number(match[2]) };
  else if (match?.[1] === 'hmm') initialisation = { ...none, contextStart: true, initHmmSweeps: Number(match[2]) };
  else if (match) initialisation = { ...none, initHmmSweeps: Number(match[2]), initHmmOrder: 2 };
  else
    throw new UsageError(
      `lla ${command}: --init must be 'random', 'lda:N', 'hmm:N' or 'hmm2:N' (e.g. hmm:5), got '${init}'`,
    );
  if (!hasInitialisation(model)) initialisation = none;
  const sweeps = Math.max(initialisation.initLdaSweeps, initialisation.initHmmSweeps);
  if (sweeps > iterations) {
    throw new UsageError(`lla ${command}: --init ${init} needs at least ${sweeps} --iterations, got ${iterations}`);
  }
  const estep = choiceOption(command, args, 'estep', ['auto', 'mh', 'exact'] as const, ESTEP_DEFAULT);
  const lstmEngine = choiceOption(command, args, 'lstm-engine', LSTM_ENGINE_CHOICES, d.lstmEngine);
  if (model === 'lstm' && lstmEngine === 'kernel') {
    throw new UsageError(
      `lla ${command}: --lstm-engine kernel trains the topic LSTM of lla and word-lla; the lstm baseline's ` +
        'V-way softmax trains on TF.js only: use --lstm-engine auto or tfjs',
    );
  }
  return {
    model,
    topics: limitOption(command, args, 'topics', 'topics', d.topics),
    iterations,
    ...initialisation,
    initFallbackSweeps: hasInitialisation(model)
      ? intOption(command, args, 'init-fallback', d.initFallbackSweeps, 0, 1_000_000)
      : 0,
    ...lookaheadSettings(choiceOption(command, args, 'lookahead', LOOKAHEAD_CHOICES, lookaheadFlag(d))),
    hidden: limitOption(command, args, 'hidden', 'hidden', d.hidden),
    embedding: intOption(command, args, 'embedding', d.embedding, 1, 4096),
    alpha: limitOption(command, args, 'alpha', 'alpha', d.alpha),
    beta: limitOption(command, args, 'beta', 'beta', d.beta),
    mhSteps: limitOption(command, args, 'mh-steps', 'mhSteps', d.mhSteps),
    exact: estep === 'auto' ? undefined : estep === 'exact',
    initExact: estep === 'auto' ? undefined : estep === 'exact',
    sequenceSmoothing: limitOption(command, args, 'sequence-smoothing', 'sequenceSmoothing', d.sequenceSmoothing),
    particles: limitOption(command, args, 'particles', 'particles', d.particles),
    learningRate: numberOption(command, args, 'lr', d.learningRate, 0, 10, true),
    batch: intOption(command, args, 'batch', d.batch, 1, 100_000),
    bptt: intOption(command, args, 'bptt', d.bptt, 1, 100_000),
    lstmTokens: lstmTokensOption(command, args, defaults.lstmTokens),
    lstmEngine,
    tol: numberOption(command, args, 'tol', d.tol, 0, 0.5),
    evalEvery: intOption(command, args, 'eval-every', d.evalEvery, 0, 1_000_000),
    seed: limitOption(command, args, 'seed', 'seed', d.seed),
    threads: limitOption(command, args, 'threads', 'threads', d.threads),
    copy: choiceOption(command, args, 'copy', COPY_CHOICES, d.copy),
    repeats: choiceOption(command, args, 'repeats', REPEATS_CHOICES, d.repeats),
  };
}

/** `--lstm-tokens`: a count, a share in (0, 1) or 'all' (settings.ts lstmTokenBudget). */
function lstmTokensOption(command: string, args: ParsedArgs, fallback: LstmTokens): LstmTokens {
  const raw = stringOption(command, args, 'lstm-tokens');
  if (raw === undefined) return fallback;
  const text = raw.trim();
  const value: LstmTokens = text === 'all' ? 'all' : /^(\d+|\d*\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  const problem = lstmTokensProblem(value);
  if (problem !== undefined)
    throw new UsageError(`lla ${command}: --lstm-tokens ${problem.replace(/got .*$/, `got '${raw}'`)}`);
  return value;
}
