/**
 * lla: Latent LSTM Allocation for Node.js. The public API (SPEC section 9).
 *
 *   import { LlaModel, loadCorpus } from 'lla';
 *   const model = await LlaModel.create({ model: 'lla', topics: 50 });
 *   await model.train(sequencesOfActions, { onProgress: (r) => console.log(r.iteration), signal });
 *   model.topicWords(0, 10); model.predictNext(['a', 'b'], 5); await model.save('model.lla');
 *
 * The library prints nothing unless asked (the kernel fallback warning goes to the `warn` option's function).
 */
export { LlaModel } from './model/model.js';
export type { ModelOptions, TrainOptions, TrainSummary, TopicWord } from './model/model.js';
export type { CacheReference, FittedCache, References } from './model/references.js';
export type { CopyFitSummary, CopyForm } from './train/copy-fit.js';
export { ModelSession } from './model/inference.js';
export type { NextAction } from './model/inference.js';
export type { EvaluationResult } from './eval/model-evaluation.js';
export type { Sequences, SequenceInput } from './train/data.js';
export {
  DEFAULT_SETTINGS,
  LSTM_BASELINE_DEFAULTS,
  LDA_DEFAULTS,
  MODEL_KINDS,
  COPY_CHOICES,
  REPEATS_CHOICES,
  modelDefaults,
} from './train/settings.js';
export type { ModelKind, ModelSettings, CopyChoice, RepeatsChoice } from './train/settings.js';
export type { IterationRecord } from './train/sem.js';
export { prepareData } from './train/data.js';
export type { PrepareOptions, PreparedData } from './train/data.js';
export { holdoutSplit } from './train/split.js';
export { loadCorpus, readDocuments, toCorpus, buildVocabulary, Vocabulary, corpusStats } from './corpus/index.js';
export type { Corpus, CorpusFormat, RawDocuments, ReadOptions, LoadCorpusOptions } from './corpus/index.js';
export { loadKernel, resolveBackendChoice } from './kernels/loader.js';
export type { Kernel, BuildInfo, BackendName, CopyParameters, KernelLimit, KernelLimitName } from './kernels/types.js';
export { KERNEL_LIMITS } from './kernels/types.js';
export { checkKernelLimits, kernelLimitProblem, KernelLimitError } from './kernels/limits.js';
export { generateSynthetic } from './generate/synthetic.js';
export type { SyntheticOptions, SyntheticCorpus } from './generate/synthetic.js';
export { LlaError, UsageError, InputError, BackendError, InterruptedError } from './errors.js';
export { packageVersion } from './package-info.js';
