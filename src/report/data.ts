/**
 * What the report shows, gathered from a trained (or loaded) model into plain data. The page renderer
 * (html.ts) reads only this, so it can be tested on hand-made data (hostile action names included) without
 * training anything.
 */
import type { LlaModel } from '../model/model.js';
import type { EvaluationResult } from '../eval/model-evaluation.js';
import type { CacheReference } from '../model/references.js';
import type { CopyFitSummary } from '../train/copy-fit.js';
import type { ModelKind, ModelSettings } from '../train/settings.js';
import type { IterationRecord, StopRecord } from '../train/sem.js';
import type { LookaheadChoiceResult } from '../train/lookahead-choice.js';
import { packageVersion } from '../package-info.js';
import { DEFAULT_TOPIC_ACTIONS } from '../eval/topics.js';
import { TRAJECTORIES_KEPT } from '../train/trainer.js';

export interface ReportTopic {
  topic: number;
  /** training tokens assigned to the topic (n_k; blocks, with repeat blocks: a run of one action counts once) */
  tokens: number;
  /** the topic's most probable actions, phi_{k,w}, best first */
  actions: Array<{ action: string; probability: number }>;
}

export interface ReportTrajectory {
  id: string;
  /** actions[t] and topics[t]: the action at position t and its sampled topic */
  actions: string[];
  topics: number[];
}

export interface ReportData {
  /** shown as the page title: usually the model file's name */
  title: string;
  llaVersion: string;
  /** ISO time the report was written (left out when empty, e.g. for reproducible output) */
  generatedAt: string;
  model: ModelKind;
  settings: ModelSettings;
  vocabularySize: number;
  /** backends that trained the model (from its file), and the kernel that loaded it for this report */
  backends: { kernel: string; tf: string | null };
  parameters: { dense: number; total: number };
  heldOut: EvaluationResult | null;
  unigramPerplexity: number | null;
  /** the recency cache on the same held-out data (null when unknown: no held-out data, or an older model file) */
  cache: CacheReference | null;
  /** the copy component: its constants (null when the model has none) and the fit that chose it (null: not fitted) */
  copy: { decay: number; window: number; meanRate: number; meanMass: number } | null;
  copyFit: CopyFitSummary | null;
  /** what a `--lookahead auto` run kept (null: it did not choose), and why the kept run stopped (null: unknown) */
  lookaheadChoice: LookaheadChoiceResult | null;
  stop: StopRecord | null;
  coherence: { umass: number; npmi: number } | null;
  history: IterationRecord[];
  /** null for the lstm baseline, which has no topics */
  topics: ReportTopic[] | null;
  /** transitions: [K][K], row = current topic; 'lstm' = the LSTM's mean next-topic distribution, 'empirical' =
   * counted sampled z_t -> z_{t+1} pairs (lda and word-lla, which have no LSTM over topics) */
  transitions: { matrix: number[][]; source: 'lstm' | 'empirical' } | null;
  trajectories: ReportTrajectory[];
}

export interface ReportOptions {
  title: string;
  /** actions listed per topic */
  topActions?: number;
  /** example sequences drawn (at most the ones stored in the model) */
  trajectories?: number;
  /** positions drawn per example sequence */
  trajectoryLength?: number;
  generatedAt?: string;
}

function mean(values: Float64Array): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Gathers the report's data from a trained or loaded model. */
export function reportDataFromModel(model: LlaModel, options: ReportOptions): ReportData {
  const settings = model.settings;
  const vocabulary = model.vocabulary;
  const results = model.results;
  const hasTopics = settings.model !== 'lstm';
  let topics: ReportTopic[] | null = null;
  let transitions: ReportData['transitions'] = null;
  if (hasTopics) {
    const { counts } = model.servingTables();
    const n = options.topActions ?? DEFAULT_TOPIC_ACTIONS;
    topics = Array.from({ length: settings.topics }, (_, k) => ({
      topic: k,
      tokens: counts.topicTotals[k],
      actions: model.topicWords(k, n).map(({ action, probability }) => ({ action, probability })),
    }));
    let matrix: number[][] | null = null;
    try {
      matrix = model.transitionMatrix();
    } catch {
      // a model file written without its transition section: the page says so instead of failing
      matrix = null;
    }
    // the LSTM only exists once a sweep ran past the initialisation (src/train/trainer.ts: trainingTraces)
    const fromLstm =
      settings.model === 'lla' && settings.iterations > Math.max(settings.initLdaSweeps, settings.initHmmSweeps);
    if (matrix) transitions = { matrix, source: fromLstm ? 'lstm' : 'empirical' };
  }
  const length = options.trajectoryLength ?? 200;
  const trajectories = model.trajectories.slice(0, options.trajectories ?? TRAJECTORIES_KEPT).map((entry) => ({
    id: entry.id,
    actions: entry.actions
      .slice(0, length)
      .map((id) => (id >= 0 && id < vocabulary.size ? vocabulary.word(id) : `#${id}`)),
    topics: entry.topics.slice(0, length),
  }));
  const coherence = results.coherence as { umass?: unknown; npmi?: unknown } | undefined;
  const umass = finiteOrNull(coherence?.umass);
  const npmi = finiteOrNull(coherence?.npmi);
  const trainedWith = model.trainedWith;
  return {
    title: options.title,
    llaVersion: packageVersion(),
    generatedAt: options.generatedAt ?? new Date().toISOString(),
    model: settings.model,
    settings: { ...settings },
    vocabularySize: vocabulary.size,
    backends: { kernel: trainedWith.backend, tf: trainedWith.tfBackend },
    parameters: { dense: model.denseParameters, total: model.parameterCount },
    heldOut: (results.heldOut as EvaluationResult | undefined) ?? null,
    unigramPerplexity: finiteOrNull(results.unigramPerplexity),
    cache: (results.cache as CacheReference | undefined) ?? null,
    copy: model.copy
      ? {
          decay: model.copy.decay,
          window: model.copy.window,
          meanRate: mean(model.copy.rate),
          meanMass: mean(model.copy.mass),
        }
      : null,
    copyFit: (results.copy as CopyFitSummary | null | undefined) ?? null,
    lookaheadChoice: lookaheadChoiceOf(results.lookaheadChoice),
    stop: (results.stop as StopRecord | null | undefined) ?? null,
    coherence: umass !== null || npmi !== null ? { umass: umass ?? NaN, npmi: npmi ?? NaN } : null,
    history: model.history,
    topics,
    transitions,
    trajectories: hasTopics ? trajectories : [],
  };
}

/** A --lookahead auto model's choice from its results, or null (none, or not in the shape lla writes). */
function lookaheadChoiceOf(saved: unknown): LookaheadChoiceResult | null {
  const choice = saved as Partial<LookaheadChoiceResult> | null | undefined;
  const scores = choice?.heldInPerplexity;
  if (typeof choice?.lookahead !== 'boolean' || typeof scores !== 'object' || scores === null) return null;
  return choice as LookaheadChoiceResult;
}
