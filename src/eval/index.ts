/** Evaluation (SPEC 4): one import for the trainer, the CLI commands and the library API. */
export { heldOutPerplexity, unigramPerplexity, sequenceLogLikelihoods, checkFilterOptions } from './perplexity.js';
export type { HeldOutOptions, PerplexityResult, UnigramResult } from './perplexity.js';
export { completionPerplexity, splitHalves } from './completion.js';
export type { CompletionOptions, CompletionResult } from './completion.js';
export {
  nextActionEvaluation,
  topNextActions,
  samplePositions,
  chooseNextActionPositions,
  NEXT_ACTION_STREAM,
  NEXT_ACTION_MIN_POSITION,
  NEXT_ACTION_MAX_POSITIONS,
} from './next-action.js';
export type { NextActionOptions, NextActionResult, PredictedAction, ChosenPositions } from './next-action.js';
export { topicCoherence, coherenceOfTopLists, normalisedPmi } from './coherence.js';
export type { CoherenceResult } from './coherence.js';
export { topicTransitionMatrix, empiricalTransitions, trajectory, trajectorySegments } from './transitions.js';
export type { TransitionMatrix, TrajectorySegment } from './transitions.js';
export { topActionsPerTopic, topicActions } from './topics.js';
export type { TopicAction } from './topics.js';
export { MixtureScorer, phiValue, countOf, inverseDenominators, densePhi } from './phi.js';
export {
  evaluateTopicModel,
  evaluateActionLstm,
  actionLstmNextAction,
  PERPLEXITY_PROTOCOLS,
  DEFAULT_PERPLEXITY,
} from './model-evaluation.js';
export type { EvaluationResult, EvaluationCorpus, PerplexityProtocol } from './model-evaluation.js';
export type { SequenceCorpus } from './phi.js';
export { DecayedHistory, historyCounts, historyWindow, HISTORY_WEIGHT_FLOOR, MAX_HISTORY_WINDOW } from './history.js';
export type { HistoryCounts } from './history.js';
export { CacheRanker, cacheEvaluation, cacheLogLikelihoods, smoothedUnigram } from './cache.js';
export type { CacheParameters, CacheEvaluation } from './cache.js';
export { CopyRanker, copyRates } from './copy.js';
export { evaluateCacheModel } from './model-evaluation.js';
