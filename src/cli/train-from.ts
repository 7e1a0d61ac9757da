/**
 * `lla train --from MODEL`: which flags a continued training may change. The saved model fixes what it is (the
 * kind, K, the LSTM's shape, the priors its counts are read with, its vocabulary); a flag given explicitly with
 * another value would be silently ignored, so it is refused, naming every such flag. The flags of the run itself
 * (iterations, seed, threads, the sampler, the M-step budget, the evaluation) apply to the continued training.
 */
import { UsageError } from '../errors.js';
import { validateSettings, type ModelSettings } from '../train/settings.js';
import type { FlagSettings } from './model-options.js';

/** Flags that define the saved model, and the setting each sets. */
const MODEL_FLAGS: ReadonlyArray<[flag: string, key: keyof ModelSettings]> = [
  ['model', 'model'],
  ['topics', 'topics'],
  ['hidden', 'hidden'],
  ['embedding', 'embedding'],
  ['alpha', 'alpha'],
  ['beta', 'beta'],
  ['repeats', 'repeats'],
];

/** Flags that shape the vocabulary, which --from keeps as the model has it. */
const VOCABULARY_FLAGS = ['min-count', 'max-vocab', 'stopwords', 'max-df'] as const;

/** Flags of the run that the continued training takes (iterations, seed and threads always do). */
const RUN_FLAGS: ReadonlyArray<[flag: string, key: keyof ModelSettings]> = [
  ['lr', 'learningRate'],
  ['batch', 'batch'],
  ['bptt', 'bptt'],
  ['lstm-tokens', 'lstmTokens'],
  ['mh-steps', 'mhSteps'],
  ['estep', 'exact'],
  ['sequence-smoothing', 'sequenceSmoothing'],
  ['particles', 'particles'],
  ['eval-every', 'evalEvery'],
  ['lstm-engine', 'lstmEngine'],
  ['tol', 'tol'],
];

/**
 * The settings of training `saved` further: the saved ones, with the run flags given in `explicit` taken from
 * `flags`. Throws a UsageError naming every explicit flag that contradicts the saved model.
 */
export function continuedSettings(
  path: string,
  saved: ModelSettings,
  flags: FlagSettings,
  explicit: ReadonlySet<string>,
  vocabularySize: number,
): ModelSettings {
  const conflicts: string[] = [];
  for (const [flag, key] of MODEL_FLAGS) {
    if (explicit.has(flag) && flags[key] !== saved[key])
      conflicts.push(`--${flag} ${flags[key]} (the model has ${saved[key]})`);
  }
  for (const flag of VOCABULARY_FLAGS) {
    if (explicit.has(flag))
      conflicts.push(`--${flag} (the model keeps its vocabulary of ${vocabularySize.toLocaleString('en-US')} actions)`);
  }
  // the saved LSTM continues, so there is no initialisation to choose
  if (explicit.has('init'))
    conflicts.push('--init (a continued training starts from the model, not from an initialisation)');
  if (conflicts.length > 0) {
    throw new UsageError(
      `lla train: --from ${path} continues that model, which these options contradict: ` +
        `${conflicts.join('; ')}. Drop them, or train a new model without --from`,
    );
  }
  // a continued training starts from the model, not from an initialisation: the saved one's sweeps do not apply (and
  // kept beside fewer --iterations they made the saved model's settings invalid, so that it would not load)
  const settings: ModelSettings = {
    ...saved,
    initLdaSweeps: 0,
    contextStart: false,
    initHmmSweeps: 0,
    initFallbackSweeps: 0,
    iterations: flags.iterations,
    seed: flags.seed,
    threads: flags.threads,
  };
  for (const [flag, key] of RUN_FLAGS) {
    const value = flags[key];
    if (explicit.has(flag) && value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
  }
  // a continued training has no initialisation for --lookahead auto to choose from: auto keeps the model's setting
  if (explicit.has('lookahead') && !flags.chooseLookahead) {
    settings.lookahead = flags.lookahead;
    settings.chooseLookahead = false;
  }
  validateSettings(settings);
  return settings;
}
