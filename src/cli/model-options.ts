/** The training flags shared by `train` (and read back from model files by the other commands). */
import { UsageError } from '../errors.js';
import {
  COPY_CHOICES, DEFAULT_SETTINGS, EXACT_ESTEP_MAX_TOPICS, MODEL_KINDS, defaultInitSweeps, type ModelSettings,
} from '../train/settings.js';
import { BACKEND_CHOICES, resolveBackendChoice } from '../kernels/loader.js';
import { parseTfBackend, type TfBackendChoice } from '../lstm/tf-backend.js';
import { choiceOption, intOption, limitOption, numberOption, stringOption, type OptionSpecs, type ParsedArgs } from './options.js';

const d = DEFAULT_SETTINGS;
/** `--estep auto`: the model chooses by K (exact up to EXACT_ESTEP_MAX_TOPICS) */
const ESTEP_DEFAULT = 'auto';

/** Kernel and TF.js backend flags (every command that runs a model). */
export const BACKEND_OPTIONS: OptionSpecs = {
  backend: { type: 'string', valueName: 'B', description: `kernel backend: ${BACKEND_CHOICES.join(', ')} (default: LLA_BACKEND, else auto)` },
  'tf-backend': { type: 'string', valueName: 'B', description: 'TF.js backend for the LSTM: auto, node, wasm, cpu (default: LLA_TF_BACKEND, else auto)' },
  threads: { type: 'string', valueName: 'N', description: 'kernel threads (0 = all cores)', default: String(d.threads) },
};

export const MODEL_OPTIONS: OptionSpecs = {
  model: { type: 'string', valueName: 'M', description: `model: ${MODEL_KINDS.join(', ')}`, default: d.model },
  topics: { type: 'string', short: 'k', valueName: 'K', description: 'number of topics', default: String(d.topics) },
  iterations: { type: 'string', short: 'n', valueName: 'N', description: 'SEM iterations (E-step sweeps, lda initialisation included)', default: String(d.iterations) },
  init: { type: 'string', valueName: 'I', description: "initial topics: 'random' or 'lda:N' (the first N sweeps run as lda)",
    default: `lda:${d.initLdaSweeps} (${d.initLdaSweeps}/${d.iterations} of --iterations)` },
  seed: { type: 'string', valueName: 'S', description: 'random seed (sampler, split, LSTM initialisation)', default: String(d.seed) },
  alpha: { type: 'string', valueName: 'A', description: "lda's prior on in-sequence topic counts", default: String(d.alpha) },
  beta: { type: 'string', valueName: 'B', description: 'Dirichlet prior of the topic-action distributions', default: String(d.beta) },
  hidden: { type: 'string', valueName: 'H', description: 'LSTM hidden units', default: String(d.hidden) },
  embedding: { type: 'string', valueName: 'E', description: 'LSTM input embedding size', default: String(d.embedding) },
  lr: { type: 'string', valueName: 'R', description: 'Adam learning rate of the LSTM', default: String(d.learningRate) },
  batch: { type: 'string', valueName: 'N', description: 'sequences per LSTM minibatch', default: String(d.batch) },
  bptt: { type: 'string', valueName: 'L', description: 'truncated back-propagation window (tokens)', default: String(d.bptt) },
  'lstm-tokens': { type: 'string', valueName: 'N', description: 'LSTM training tokens per iteration (M-step budget)', default: String(d.lstmTokens) },
  'mh-steps': { type: 'string', valueName: 'M', description: 'Metropolis-Hastings steps per token', default: String(d.mhSteps) },
  estep: { type: 'string', valueName: 'E', description: "E-step sampler: 'mh' (alias-table Metropolis-Hastings), 'exact' (all K terms) or " +
    `'auto' (exact up to ${EXACT_ESTEP_MAX_TOPICS} topics)`, default: ESTEP_DEFAULT },
  'sequence-smoothing': { type: 'string', valueName: 'A', description: 'the constant a of the sequence proposal', default: String(d.sequenceSmoothing) },
  particles: { type: 'string', valueName: 'S', description: 'particles of the held-out particle filter', default: String(d.particles) },
  'eval-every': { type: 'string', valueName: 'N', description: 'held-out perplexity every N iterations (0: at the end only)', default: String(d.evalEvery) },
  copy: { type: 'string', valueName: 'C', description: "copy component of lla, word-lla and lda: 'auto' (fitted on a held-in tenth " +
    "of the training sequences, kept where it improves their score) or 'off'", default: d.copy },
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
export function backendFrom(command: string, args: ParsedArgs, env: NodeJS.ProcessEnv):
  { backend: string; tfBackend: TfBackendChoice | undefined; threads: number } {
  const backend = resolveBackendChoice(stringOption(command, args, 'backend'), env);
  return { backend, tfBackend: tfBackendFrom(command, args), threads: limitOption(command, args, 'threads', 'threads', d.threads) };
}

/** The settings given by flags; `exact` is left undefined for `--estep auto` (the model decides by K). */
export function settingsFrom(command: string, args: ParsedArgs): Omit<ModelSettings, 'exact'> & { exact: boolean | undefined } {
  const model = choiceOption(command, args, 'model', MODEL_KINDS, d.model);
  const iterations = intOption(command, args, 'iterations', d.iterations, 1, 1_000_000);
  const init = stringOption(command, args, 'init');
  let initLdaSweeps: number;
  const match = /^lda:(\d+)$/.exec((init ?? '').trim());
  if (init === undefined) initLdaSweeps = defaultInitSweeps(model, iterations);
  else if (init.trim() === 'random') initLdaSweeps = 0;
  else if (match) initLdaSweeps = Number(match[1]);
  else throw new UsageError(`lla ${command}: --init must be 'random' or 'lda:N' (e.g. lda:5), got '${init}'`);
  if (model === 'lda' || model === 'lstm' || model === 'cache') initLdaSweeps = 0;
  if (initLdaSweeps > iterations) {
    throw new UsageError(`lla ${command}: --init lda:${initLdaSweeps} needs at least ${initLdaSweeps} --iterations, got ${iterations}`);
  }
  const estep = choiceOption(command, args, 'estep', ['auto', 'mh', 'exact'] as const, ESTEP_DEFAULT);
  return {
    model,
    topics: limitOption(command, args, 'topics', 'topics', d.topics),
    iterations,
    initLdaSweeps,
    hidden: limitOption(command, args, 'hidden', 'hidden', d.hidden),
    embedding: intOption(command, args, 'embedding', d.embedding, 1, 4096),
    alpha: limitOption(command, args, 'alpha', 'alpha', d.alpha),
    beta: limitOption(command, args, 'beta', 'beta', d.beta),
    mhSteps: limitOption(command, args, 'mh-steps', 'mhSteps', d.mhSteps),
    exact: estep === 'auto' ? undefined : estep === 'exact',
    sequenceSmoothing: limitOption(command, args, 'sequence-smoothing', 'sequenceSmoothing', d.sequenceSmoothing),
    particles: limitOption(command, args, 'particles', 'particles', d.particles),
    learningRate: numberOption(command, args, 'lr', d.learningRate, 0, 10, true),
    batch: intOption(command, args, 'batch', d.batch, 1, 100_000),
    bptt: intOption(command, args, 'bptt', d.bptt, 1, 100_000),
    lstmTokens: intOption(command, args, 'lstm-tokens', d.lstmTokens, 1, 1_000_000_000),
    evalEvery: intOption(command, args, 'eval-every', d.evalEvery, 0, 1_000_000),
    seed: limitOption(command, args, 'seed', 'seed', d.seed),
    threads: limitOption(command, args, 'threads', 'threads', d.threads),
    copy: choiceOption(command, args, 'copy', COPY_CHOICES, d.copy),
  };
}
