/**
 * Inference and prediction with a trained model (SPEC section 9): topic paths of unseen sequences, the next
 * actions after many histories in one batched pass, and the serving session that advances one action at a
 * time. Functions over the trained tables, LSTM weights and kernel that LlaModel (model.ts) hands over.
 */
import type { CellWeights, CopyParameters, CountTables, FilterState, Kernel, KernelMode } from '../kernels/types.js';
import { countsInKernel } from '../kernels/buffers.js';
import type { ChunkOptions } from '../kernels/chunks.js';
import type { Vocabulary } from '../corpus/vocabulary.js';
import type { ActionLstm } from '../lstm/action-lstm.js';
import { referenceLogits } from '../lstm/reference-cell.js';
import { corpusFromSequences, type Sequences } from '../train/data.js';
import { sampleTopicsWithFixedTables } from '../train/sample-topics.js';
import { collapseRepeats, expandBlockTopics, runLengthBefore } from '../train/repeats.js';
import type { ModelKind, ModelSettings } from '../train/settings.js';
import { sequenceLogLikelihoods } from '../eval/perplexity.js';
import { CacheRanker, smoothedUnigram, type CacheParameters } from '../eval/cache.js';
import { CopyRanker } from '../eval/copy.js';
import { historyCounts } from '../eval/history.js';
import { MixtureScorer } from '../eval/phi.js';
import { TopN } from '../eval/top-n.js';

/** Next actions listed unless asked otherwise (predictNext, sessions, `lla predict`). */
export const DEFAULT_NEXT_ACTIONS = 10;
/** E-step sweeps of infer() with the tables fixed unless asked otherwise (also `lla infer --sweeps`). */
export const DEFAULT_INFER_SWEEPS = 10;

export interface NextAction {
  action: string;
  probability: number;
}

/** What inference and serving read of a trained topic model (LlaModel is one). */
export interface ServingModel {
  readonly kernel: Kernel;
  readonly settings: ModelSettings;
  readonly vocabulary: Vocabulary;
  readonly model: ModelKind;
  /** the trained counts and (lla, word-lla) the LSTM's weights in the kernel layout */
  servingTables(): { counts: CountTables; weights: CellWeights | undefined };
  /** the copy component (src/eval/copy.ts), null when the model has none */
  readonly copy: CopyParameters | null;
  /** repeat: [V] the repeat table of repeat blocks (src/train/repeats.ts), null when the model has none */
  readonly repeat: Float64Array | null;
}

/** The ranking of a topic model's next actions: its phi, with the copy component and repeat blocks it has. */
function rankerOf(model: ServingModel, counts: CountTables): CopyRanker {
  const s = model.settings;
  return new CopyRanker(new MixtureScorer(counts, s.beta, s.topics, model.vocabulary.size), model.copy, model.repeat);
}

/**
 * Topic sequences of unseen sequences: `sweeps` E-step sweeps with the trained tables fixed. Unknown actions are
 * skipped and get no topic (-1 in place).
 */
export async function inferTopics(
  model: ServingModel,
  data: Sequences,
  sweeps: number,
  chunks: ChunkOptions = {},
): Promise<number[][]> {
  const vocabulary = model.vocabulary;
  const corpus = corpusFromSequences(data, vocabulary);
  // with repeat blocks the chain runs over blocks, and each token of a run takes its block's topic
  const blocks = model.repeat ? collapseRepeats(corpus) : null;
  const sampled = blocks ?? corpus;
  const { counts, weights } = model.servingTables();
  const blockTopics = await sampleTopicsWithFixedTables(
    {
      kernel: model.kernel,
      mode: model.model as KernelMode,
      settings: model.settings,
      vocabularySize: vocabulary.size,
      counts,
      weights,
      tokens: sampled.tokens,
      offsets: sampled.offsets,
      sweeps,
    },
    chunks,
  );
  const previous = blocks ? expandBlockTopics(corpus, blocks, blockTopics) : blockTopics;
  const offsets = corpus.offsets;
  const result: number[][] = [];
  data.forEach((sequence, d) => {
    let cursor = offsets[d];
    result.push(sequence.map((action) => (vocabulary.id(String(action)) < 0 ? -1 : previous[cursor++])));
  });
  return result;
}

/** Each history plus one placeholder action: what a model predicts at the placeholder is the next action. */
function withPlaceholder(vocabulary: Vocabulary, part: Sequences) {
  const extended = corpusFromSequences(
    part.map((history) => [...history, vocabulary.word(0)]),
    vocabulary,
  );
  const positions = Int32Array.from(part, (_, d) => extended.offsets[d + 1] - 1);
  return { extended, positions };
}

/**
 * The n most probable next actions after each history of a topic model: the particle filter runs over every
 * history at once and its predictive topic mixture after the last action ranks the actions (with the copy
 * component, together with the history's decayed counts).
 */
export async function predictNextManyTopics(
  model: ServingModel,
  histories: Sequences,
  n: number,
  chunks: ChunkOptions = {},
): Promise<NextAction[][]> {
  const s = model.settings;
  const K = s.topics;
  const vocabulary = model.vocabulary;
  const { extended, positions } = withPlaceholder(vocabulary, histories);
  const tables = model.servingTables();
  const counts = countsInKernel(model.kernel, tables.counts);
  // mixtures: [D][K] the filter's predictive topic mixture at each placeholder (before it is seen)
  const mixtures = new Float32Array(histories.length * K);
  await sequenceLogLikelihoods(
    {
      kernel: model.kernel,
      mode: model.model as KernelMode,
      counts,
      beta: s.beta,
      alpha: s.alpha,
      particles: s.particles,
      seed: s.seed,
      threads: s.threads,
      corpus: { tokens: extended.tokens, offsets: extended.offsets },
      numTopics: K,
      vocabularySize: vocabulary.size,
      ...(tables.weights ? { weights: tables.weights } : {}),
      ...chunks,
      ...(model.copy ? { copy: model.copy } : {}),
      ...(model.repeat ? { repeat: model.repeat } : {}),
    },
    undefined,
    { positions, mixtures },
  );
  const ranker = rankerOf(model, counts);
  const copy = model.copy;
  const blocks = model.repeat !== null;
  const results: NextAction[][] = [];
  for (let d = 0; d < histories.length; d++) {
    const start = extended.offsets[d];
    const history = copy ? historyCounts(extended.tokens, start, positions[d], copy.decay, copy.window, blocks) : null;
    // the last known action of the history (-1 for none): after it, a repeat is its own prediction
    const previous = positions[d] > start ? extended.tokens[positions[d] - 1] : -1;
    const run = runLengthBefore(extended.tokens, start, positions[d]);
    results.push(
      ranker
        .top(mixtures.subarray(d * K, (d + 1) * K), history, n, previous, run)
        .map((entry) => ({ action: vocabulary.word(entry.action), probability: entry.probability })),
    );
  }
  return results;
}

/** The same for the recency cache: its own history counts and the training unigram (O(h + n) per history). */
export function predictNextManyCached(
  parameters: CacheParameters,
  trainingCounts: ArrayLike<number>,
  vocabulary: Vocabulary,
  histories: Sequences,
  n: number,
): NextAction[][] {
  const corpus = corpusFromSequences(histories, vocabulary);
  const ranker = new CacheRanker(smoothedUnigram(trainingCounts));
  return histories.map((_, d) => {
    const history = historyCounts(
      corpus.tokens,
      corpus.offsets[d],
      corpus.offsets[d + 1],
      parameters.decay,
      parameters.window,
    );
    return ranker
      .top(history, parameters.mass, Math.min(n, vocabulary.size))
      .map((entry) => ({ action: vocabulary.word(entry.action), probability: entry.probability }));
  });
}

/** The same for the lstm baseline, scored in TF.js in chunks so that the [chunk][V] score table stays near 64 MB. */
export async function predictNextManyActions(
  lstm: ActionLstm,
  vocabulary: Vocabulary,
  histories: Sequences,
  n: number,
  signal?: AbortSignal,
): Promise<NextAction[][]> {
  const V = vocabulary.size;
  const results: NextAction[][] = [];
  const chunk = Math.max(1, Math.floor((1 << 24) / V));
  for (let start = 0; start < histories.length; start += chunk) {
    const part = histories.slice(start, start + chunk);
    const { extended, positions } = withPlaceholder(vocabulary, part);
    const scores = await lstm.nextActionScores(
      { tokens: extended.tokens, offsets: extended.offsets, ...(signal ? { signal } : {}) },
      positions,
    );
    part.forEach((_, d) => {
      const best = new TopN(Math.min(n, V));
      for (let w = 0; w < V; w++) best.push(scores[d * V + w], w);
      results.push(
        best.sorted().map(({ id, score }) => ({ action: vocabulary.word(id), probability: Math.exp(score) })),
      );
    });
  }
  return results;
}

/**
 * A serving session (SPEC section 9): the particle filter's state for one growing sequence, advanced one action
 * at a time by the kernel's filterStep. With the copy component the state also holds the last `window` actions
 * (a ring the kernel writes), so its memory stays bounded however long the sequence grows.
 */
export class ModelSession {
  private readonly model: ServingModel;
  private readonly state: FilterState;
  private readonly mixture: Float32Array;
  private readonly sequenceIndex: number;
  /** actions pushed that were outside the vocabulary (skipped) */
  skipped = 0;
  /** sum of log p(action | history) over the known actions pushed */
  logLikelihood = 0;

  constructor(model: ServingModel, sequenceIndex: number) {
    this.model = model;
    this.sequenceIndex = sequenceIndex;
    const s = model.settings;
    const particles = model.model === 'word-lla' ? 1 : s.particles;
    const kernel = model.kernel;
    this.state = {
      position: kernel.allocInt32(1),
      previousAction: kernel.allocInt32(1),
      weights: kernel.allocFloat64(particles),
      previousTopic: kernel.allocInt32(particles),
      hiddenState: kernel.allocFloat32(particles * s.hidden),
      cellState: kernel.allocFloat32(particles * s.hidden),
      topicCounts: kernel.allocInt32(particles * s.topics),
      ...(model.copy ? { copyHistory: kernel.allocInt32(model.copy.window).fill(-1) } : {}),
      ...(model.repeat ? { runLength: kernel.allocInt32(1) } : {}),
    };
    this.state.previousAction[0] = -1;
    this.state.previousTopic.fill(-1);
    this.state.weights.fill(1 / particles);
    this.mixture = kernel.allocFloat32(s.topics);
  }

  /** ranks next actions (phi, and the copy component when the model has one); made on the first next() */
  private ranker: CopyRanker | undefined;
  /** whether `mixture` holds the kernel's prediction (false before the first known action) */
  private ready = false;

  /** Advances by one action; returns log p(action | history), or null when the action is unknown (skipped). */
  push(action: string | number): number | null {
    const id = this.model.vocabulary.id(String(action));
    if (id < 0) {
      this.skipped++;
      return null;
    }
    const s = this.model.settings;
    const { counts, weights } = this.model.servingTables();
    const logProbability = this.model.kernel.filterStep({
      mode: this.model.model as KernelMode,
      numTopics: s.topics,
      vocabularySize: this.model.vocabulary.size,
      counts,
      beta: s.beta,
      alpha: s.alpha,
      ...(weights ? { weights } : {}),
      particles: this.state.weights.length,
      seed: s.seed,
      state: this.state,
      action: id,
      sequenceIndex: this.sequenceIndex,
      mixtureOut: this.mixture,
      ...(this.model.copy ? { copy: this.model.copy } : {}),
      ...(this.model.repeat ? { repeat: this.model.repeat } : {}),
    });
    this.ready = true;
    this.logLikelihood += logProbability;
    return logProbability;
  }

  /** The predictive topic mixture for the next position [K]. */
  topicMixture(): Float32Array {
    if (!this.ready) return this.beginMixture();
    return this.mixture.slice();
  }

  private beginMixture(): Float32Array {
    // before any action: lda's prior is uniform; the LSTM models predict from the begin symbol
    const s = this.model.settings;
    const { weights } = this.model.servingTables();
    const mix = new Float32Array(s.topics);
    if (!weights || this.model.model === 'lda') {
      mix.fill(1 / s.topics);
      return mix;
    }
    const hidden = new Float32Array(s.hidden);
    const cell = new Float32Array(s.hidden);
    const begin = this.model.model === 'lla' ? s.topics : this.model.vocabulary.size;
    this.model.kernel.lstmSteps(weights, Int32Array.of(begin), hidden, cell);
    const logits = referenceLogits(weights, hidden);
    const max = Math.max(...logits);
    let total = 0;
    for (let k = 0; k < s.topics; k++) total += logits[k] = Math.exp(logits[k] - max);
    for (let k = 0; k < s.topics; k++) mix[k] = logits[k] / total;
    return mix;
  }

  /** The n most probable next actions with their probabilities. */
  next(n = DEFAULT_NEXT_ACTIONS): NextAction[] {
    const { counts } = this.model.servingTables();
    this.ranker ??= rankerOf(this.model, counts);
    return this.ranker
      .top(this.topicMixture(), this.copyHistory(), n, this.state.previousAction[0], this.state.runLength?.[0] ?? 1)
      .map((entry) => ({ action: this.model.vocabulary.word(entry.action), probability: entry.probability }));
  }

  /** The copy history's counts from the ring (oldest first in `recent`), null without the copy component. */
  private copyHistory() {
    const copy = this.model.copy;
    const ring = this.state.copyHistory;
    if (!copy || !ring) return null;
    const position = this.state.position[0];
    const length = Math.min(position, copy.window);
    // recent: [length] the last actions, oldest first (position p sits at p mod window)
    const recent = new Int32Array(length);
    for (let i = 0; i < length; i++) recent[i] = ring[(position - length + i) % copy.window];
    return historyCounts(recent, 0, length, copy.decay, copy.window);
  }

  /** tokens consumed (known actions) */
  get length(): number {
    return this.state.position[0];
  }
}
