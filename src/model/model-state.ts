/**
 * What an LlaModel holds and reads: its settings and kernel backend, the vocabulary, the trained tables, the LSTM
 * engines and the fitted constants; the getters over them, the creation of the LSTM engines, and the evaluation
 * of a corpus by model kind. model.ts adds the public operations on top (create, train, evaluate, infer,
 * predict, save, load).
 */
import type { CellWeights, CopyParameters, Kernel, KernelMode } from '../kernels/types.js';
import type { Vocabulary } from '../corpus/vocabulary.js';
import { actionLstmShape, createActionLstm, type ActionLstm } from '../lstm/action-lstm.js';
import { createTopicLstm, topicLstmShape, type TopicLstmEngine } from '../lstm/topic-lstm.js';
import { KernelTopicLstm } from '../lstm/kernel-trainer.js';
import { ensureTf, type TfBackendChoice, type TfBackendName } from '../lstm/tf-backend.js';
import { parameterCount, type LstmParameters } from '../lstm/weights.js';
import type { IterationRecord } from '../train/sem.js';
import type { TopicTables, Trajectory } from '../train/trainer.js';
import {
  filterSettings,
  resolveLstmEngine,
  type LstmEngine,
  type ModelKind,
  type ModelSettings,
} from '../train/settings.js';
import {
  evaluateActionLstm,
  evaluateCacheModel,
  evaluateTopicModel,
  type EvaluationCorpus,
  type EvaluationResult,
  type PerplexityProtocol,
} from '../eval/model-evaluation.js';
import { heldOutReferences, trainingCounts, type FittedCache, type References } from './references.js';
import { UsageError } from '../errors.js';

/** The state of an LlaModel and what reads it (LlaModel, model.ts, is its one subclass). */
export abstract class ModelState {
  readonly settings: ModelSettings;
  readonly kernel: Kernel;
  protected vocabularyValue: Vocabulary | null = null;
  protected tables: TopicTables | null = null;
  protected topicLstm: TopicLstmEngine | null = null;
  protected actionLstm: ActionLstm | null = null;
  protected weights: CellWeights | undefined;
  private tfBackendChoice: TfBackendChoice | undefined;
  protected tfBackendUsed: TfBackendName | null = null;
  /** training history, one record per iteration (kept in the model file for reports) */
  history: IterationRecord[] = [];
  /** the K x K topic-transition matrix computed at the end of training (row = current topic) */
  protected transitions: Float64Array | null = null;
  /** the copy component of a topic model (null: none) and the recency cache's constants (null: never fitted) */
  protected copyParameters: CopyParameters | null = null;
  protected cacheParameters: FittedCache | null = null;
  /** repeatTable: [V] r_w of repeat blocks (src/train/repeats.ts); null: every action is a step of the topic chain */
  protected repeatTable: Float64Array | null = null;
  /** a few training sequences' sampled topic paths, for reports */
  trajectories: Trajectory[] = [];
  /** metrics of the last held-out evaluation and of training, stored in the model file */
  results: Record<string, unknown> = {};

  protected constructor(settings: ModelSettings, kernel: Kernel, tfBackend: TfBackendChoice | undefined) {
    this.settings = settings;
    this.kernel = kernel;
    this.tfBackendChoice = tfBackend;
  }

  /** which kernel backend runs the per-token work */
  get backend(): 'native' | 'wasm' {
    return this.kernel.name;
  }

  /** which engine trains this model's LSTM (settings.lstmEngine resolved for its kind); null for lda */
  get lstmEngine(): LstmEngine | null {
    return resolveLstmEngine(this.model, this.settings.lstmEngine);
  }

  /** which TF.js backend trained (or would train) the LSTM; null before any TF.js work (the kernel engine has none) */
  get tfBackend(): TfBackendName | null {
    return this.tfBackendUsed;
  }

  /** the backends that trained this model: as recorded in its file after load(), else the ones in use here */
  get trainedWith(): { backend: string; tfBackend: string | null } {
    return this.trainedWithValue ?? { backend: this.backend, tfBackend: this.tfBackendUsed };
  }
  protected trainedWithValue: { backend: string; tfBackend: string | null } | null = null;

  get vocabulary(): Vocabulary {
    if (!this.vocabularyValue) throw new Error('this model has no vocabulary yet: train it or load a saved one');
    return this.vocabularyValue;
  }

  get trained(): boolean {
    if (this.model === 'cache') return this.cacheParameters !== null;
    return this.model === 'lstm' ? this.actionLstm !== null : this.tables !== null;
  }

  /** The topic model's copy component (src/eval/copy.ts), or null when it has none. */
  get copy(): CopyParameters | null {
    return this.copyParameters;
  }
  /** Keeps `table` as the model's repeat table, in the kernel's memory: a WASM session step then reads it in place
   * instead of copying [V][R] values in at every action. */
  protected useRepeatTable(table: Float64Array | null): void {
    if (table === null) {
      this.repeatTable = null;
      return;
    }
    this.repeatTable = this.kernel.allocFloat64(table.length);
    this.repeatTable.set(table);
  }

  /** The repeat table of a topic model trained with `repeats: 'blocks'` ([V][R] r(w, L)), or null. */
  get repeat(): Float64Array | null {
    return this.repeatTable;
  }
  /** The recency cache's constants (the cache model's own, or the reference's of any model); null if never fitted. */
  get cache(): FittedCache | null {
    return this.cacheParameters;
  }

  get model(): ModelKind {
    return this.settings.model;
  }

  protected get kernelMode(): KernelMode {
    this.requireTopics('kernelMode');
    return this.model as KernelMode;
  }

  /** dense LSTM/softmax parameters */
  get denseParameters(): number {
    const s = this.settings;
    if (this.model === 'lda' || this.model === 'cache') return 0;
    if (this.model === 'lstm') return parameterCount(actionLstmShape(this.vocabulary.size, s.hidden, s.embedding));
    return parameterCount(topicLstmShape(this.model, s.topics, this.vocabulary.size, s.hidden, s.embedding));
  }

  /** dense parameters plus the non-zeros of the count table (SPEC section 2); the cache: its unigram and 2 constants */
  get parameterCount(): number {
    if (this.model === 'cache') return this.vocabulary.size + 2;
    return (
      this.denseParameters + (this.tables?.nonZeros ?? 0) + (this.copyParameters ? 2 * this.settings.topics + 1 : 0)
    );
  }

  protected requireTrained(what: string): void {
    if (!this.trained) throw new Error(`${what}: the model is not trained: call train() or LlaModel.load() first`);
  }

  /** What needs topics (phi, the tables, topic paths, the kernel's filter) is a usage error on the baselines. */
  protected requireTopics(what: string, hint = ''): void {
    if (this.model === 'lstm' || this.model === 'cache') {
      throw new UsageError(
        `${what}: the ${this.model === 'lstm' ? 'lstm baseline' : 'recency cache'} has no topics; ` +
          `${what} needs a topic model (model 'lla', 'word-lla' or 'lda')${hint}`,
      );
    }
  }

  protected async ensureLstm(parameters?: LstmParameters): Promise<void> {
    const s = this.settings;
    if (this.model === 'lda' || this.model === 'cache') return;
    if (this.model !== 'lstm' && this.lstmEngine === 'kernel') {
      // the kernels' trainer: no TF.js at all
      this.topicLstm ??= new KernelTopicLstm({
        kernel: this.kernel,
        variant: this.model,
        numTopics: s.topics,
        vocabularySize: this.vocabulary.size,
        hidden: s.hidden,
        embedding: s.embedding,
        learningRate: s.learningRate,
        seed: s.seed,
        threads: s.threads,
        ...(parameters ? { parameters } : {}),
      });
      return;
    }
    const runtime = await ensureTf(this.tfBackendChoice === undefined ? {} : { backend: this.tfBackendChoice });
    this.tfBackendUsed = runtime.name;
    const common = {
      hidden: s.hidden,
      embedding: s.embedding,
      learningRate: s.learningRate,
      seed: s.seed,
      ...(this.tfBackendChoice === undefined ? {} : { tfBackend: this.tfBackendChoice }),
      ...(parameters ? { parameters } : {}),
    };
    if (this.model === 'lstm') {
      this.actionLstm ??= await createActionLstm({ vocabularySize: this.vocabulary.size, ...common });
    } else if (this.model === 'lla' || this.model === 'word-lla') {
      this.topicLstm ??= await createTopicLstm({
        variant: this.model,
        numTopics: s.topics,
        vocabularySize: this.vocabulary.size,
        ...common,
      });
    }
  }

  protected referencesOf(corpus: EvaluationCorpus, perplexity: PerplexityProtocol): References {
    return heldOutReferences({
      trainingCounts: this.trainingActionCounts,
      cache: this.cacheParameters,
      kernel: this.kernel,
      seed: this.settings.seed,
      corpus,
      perplexity,
    });
  }

  /** training frequency of each action (the unigram reference), from the vocabulary or the counts */
  protected get trainingActionCounts(): Int32Array | null {
    return trainingCounts(this.vocabularyValue, this.tables?.counts ?? null);
  }

  protected async evaluateCorpus(
    corpus: EvaluationCorpus,
    perplexity: PerplexityProtocol,
    nextAction: boolean,
    stop?: AbortSignal,
  ): Promise<EvaluationResult> {
    const s = this.settings;
    const signal = stop ? { signal: stop } : {};
    if (this.model === 'cache') {
      return evaluateCacheModel({
        trainingCounts: this.trainingActionCounts!,
        parameters: this.cacheParameters!,
        kernel: this.kernel,
        seed: s.seed,
        corpus,
        perplexity,
        nextAction,
      });
    }
    if (this.model === 'lstm') {
      return evaluateActionLstm({
        lstm: this.actionLstm!,
        kernel: this.kernel,
        seed: s.seed,
        vocabularySize: this.vocabulary.size,
        corpus,
        nextAction,
        ...signal,
      });
    }
    return evaluateTopicModel({
      kernel: this.kernel,
      mode: this.kernelMode,
      counts: this.tables!.counts,
      ...(this.weights ? { weights: this.weights } : {}),
      ...filterSettings(s),
      vocabularySize: this.vocabulary.size,
      corpus,
      perplexity,
      nextAction,
      ...signal,
      ...(this.copyParameters ? { copy: this.copyParameters } : {}),
      ...(this.repeatTable ? { repeat: this.repeatTable } : {}),
    });
  }
}
