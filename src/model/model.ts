/**
 * The public model class (SPEC section 9), in the spirit of tomotopy: construct with settings, train on a
 * corpus, then infer, predict, evaluate, inspect and save. A thin facade: it owns the kernel backend, the TF.js
 * LSTM and the trained tables (model-state.ts), and hands them to the code that does each job: training (src/train/trainer.ts,
 * action-lstm-trainer.ts), evaluation (src/eval/model-evaluation.ts), inference and serving (inference.ts),
 * the model file (model-file.ts). The per-token work always runs in the kernel.
 */
import type { CellWeights, CountTables, Kernel } from '../kernels/types.js';
import { loadKernel } from '../kernels/loader.js';
import { checkKernelLimits } from '../kernels/limits.js';
import type { TfBackendChoice } from '../lstm/tf-backend.js';
import type { StopRecord } from '../train/sem.js';
import type { StartCheck } from '../train/start-check.js';
import type { LookaheadChoiceResult } from '../train/lookahead-choice.js';
import {
  isCorpus,
  sequenceCorpus,
  vocabularyFromSequences,
  type SequenceInput,
  type Sequences,
} from '../train/data.js';
import { trainTopicModel, type TrainingLoopOptions } from '../train/trainer.js';
import { trainActionLstm } from '../train/action-lstm-trainer.js';
import { fitCache } from '../train/cache-fit.js';
import { copyFitStage, copyFitSummary, type CopyFitSummary } from '../train/copy-fit.js';
import { actionCounts, splitHeldIn } from '../train/held-in.js';
import { repeatBlocks, type RepeatStatistics } from '../train/repeats.js';
import {
  DEFAULT_SETTINGS,
  EXACT_ESTEP_MAX_TOPICS,
  SETTING_KEYS,
  checkOptionNames,
  defaultInitialisation,
  exactFor,
  filterSettings,
  modelDefaults,
  validateSettings,
  type ModelSettings,
} from '../train/settings.js';
import {
  DEFAULT_PERPLEXITY,
  type EvaluationCorpus,
  type EvaluationResult,
  type PerplexityProtocol,
} from '../eval/model-evaluation.js';
import { densePhi } from '../eval/phi.js';
import { DEFAULT_TOPIC_ACTIONS, topicActions } from '../eval/topics.js';
import {
  DEFAULT_INFER_SWEEPS,
  DEFAULT_NEXT_ACTIONS,
  inferTopics,
  ModelSession,
  predictNextManyActions,
  predictNextManyCached,
  predictNextManyTopics,
  type NextAction,
} from './inference.js';
import { readModel, writeModel } from './model-file.js';
import type { References } from './references.js';
import { ModelState } from './model-state.js';
import { InputError, InterruptedError } from '../errors.js';
import type { ModelOptions, TopicWord, TrainOptions, TrainSummary } from './model-types.js';

export type { ModelOptions, TopicWord, TrainOptions, TrainSummary } from './model-types.js';

/**
 * A corpus within the kernel limits (tokens T, sequences D and, for training, actions V), checked before any
 * work: throws a KernelLimitError naming `what`.
 */
function checkCorpusLimits(
  corpus: { tokens: Int32Array; offsets: Int32Array },
  what: string,
  vocabularySize?: number,
): void {
  checkKernelLimits(
    {
      tokens: corpus.tokens.length,
      sequences: corpus.offsets.length - 1,
      ...(vocabularySize === undefined ? {} : { vocabulary: vocabularySize }),
    },
    what,
  );
}

export class LlaModel extends ModelState {
  /** `exact` as given at creation (undefined: `--estep auto`, resolved by K and lookahead): a `--lookahead auto`
   * run resolves it for each of its two runs. A loaded model keeps its saved value. */
  private exactGiven: boolean | undefined;

  private constructor(
    settings: ModelSettings,
    kernel: Kernel,
    tfBackend: TfBackendChoice | undefined,
    exactGiven: boolean | undefined,
  ) {
    super(settings, kernel, tfBackend);
    this.exactGiven = exactGiven;
  }

  /**
   * A new, untrained model. Refuses an option it does not know (naming it), then loads the kernel backend now
   * (so a missing backend fails before any work).
   */
  static async create(options: ModelOptions = {}): Promise<LlaModel> {
    checkOptionNames(options, [...SETTING_KEYS, 'backend', 'tfBackend', 'warn']);
    const { backend, tfBackend, warn, ...given } = options;
    const settings: ModelSettings = { ...modelDefaults(given.model ?? DEFAULT_SETTINGS.model) };
    for (const [key, value] of Object.entries(given)) {
      if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
    }
    settings.exact = exactFor(settings, settings.lookahead, given.exact);
    // the initialisation sweeps (lda, hmm) cost O(K) per token: exact by the plain rule unless told otherwise
    if (given.initExact === undefined) settings.initExact = given.exact ?? settings.topics <= EXACT_ESTEP_MAX_TOPICS;
    const initialisation = defaultInitialisation(settings.model, settings.iterations);
    if ((given.initLdaSweeps ?? 0) > 0) Object.assign(initialisation, { contextStart: false, initHmmSweeps: 0 }); // lda replaces it
    for (const key of ['initLdaSweeps', 'contextStart', 'initHmmSweeps', 'initHmmOrder'] as const) {
      if (given[key] === undefined) (settings as unknown as Record<string, unknown>)[key] = initialisation[key];
    }
    validateSettings(settings);
    const kernel = await loadKernel({ ...(backend === undefined ? {} : { backend }), ...(warn ? { warn } : {}) });
    return new LlaModel(settings, kernel, tfBackend, given.exact);
  }

  /**
   * Trains on `data` (a corpus, or sequences of action strings whose vocabulary is built here). A model that
   * was trained or loaded before continues from its LSTM weights (`--from`), keeping its vocabulary. A held-in
   * tenth of the training sequences fits the recency cache's constants (every model reports the cache; it is all
   * the `cache` model learns) and, with `copy: 'auto'`, a topic model's copy component, for which phi and the
   * LSTM train on the other sequences.
   */
  async train(data: SequenceInput, options: TrainOptions = {}): Promise<TrainSummary> {
    const started = performance.now();
    this.vocabularyValue ??= isCorpus(data) ? data.vocabulary : vocabularyFromSequences(data);
    const train = sequenceCorpus(data, this.vocabulary);
    if (train.tokens.length === 0) {
      throw new InputError('no training tokens: every action of the training data is outside the vocabulary');
    }
    const heldOut = options.heldOut === undefined ? null : sequenceCorpus(options.heldOut, this.vocabulary);
    checkCorpusLimits(train, 'the training data', this.vocabulary.size);
    if (heldOut) checkCorpusLimits(heldOut, 'the held-out data');
    const perplexity = options.perplexity ?? DEFAULT_PERPLEXITY;
    const { rest, heldIn } = splitHeldIn(train, this.settings.seed);
    const cache = fitCache(actionCounts(rest, this.vocabulary.size), heldIn);
    this.cacheParameters = { ...cache.parameters, fitted: cache.fitted };
    const outcome = { started, tokens: train.tokens.length, heldOutCorpus: heldOut, perplexity };
    if (this.model === 'cache') {
      this.history = [];
      const own = heldOut && heldOut.tokens.length > 0 ? await this.evaluateCorpus(heldOut, perplexity, true) : null;
      return this.summarise({
        ...outcome,
        iterations: 0,
        resumed: 0,
        estepSeconds: 0,
        mstepSeconds: 0,
        heldOut: own,
        stop: null,
      });
    }
    const previousParameters = this.topicLstm ? await this.topicLstm.getParameters() : undefined;
    await this.ensureLstm(previousParameters);
    const loop: TrainingLoopOptions = {
      heldOut,
      perplexity,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
    };

    if (this.model === 'lstm') {
      const run = await trainActionLstm({
        ...loop,
        kernel: this.kernel,
        settings: this.settings,
        vocabularySize: this.vocabulary.size,
        lstm: this.actionLstm!,
        train,
        onIteration: (live) => {
          this.history = live.history;
        },
      });
      this.history = run.history;
      if (run.interrupted) throw new InterruptedError(`training interrupted after iteration ${run.iterations}`);
      return this.summarise({
        ...outcome,
        iterations: run.iterations,
        resumed: 0,
        estepSeconds: 0,
        mstepSeconds: run.mstepSeconds,
        heldOut: run.heldOut,
        stop: null,
      });
    }
    const s = this.settings;
    const { repeat, statistics, topicCorpora } = repeatBlocks(s.repeats, train, this.vocabulary.size);
    this.useRepeatTable(repeat); // before training: a progress callback may read the model as it trains
    const copying =
      s.copy === 'auto' && heldIn !== null
        ? copyFitStage({
            kernel: this.kernel,
            mode: this.kernelMode,
            ...filterSettings(s),
            vocabularySize: this.vocabulary.size,
            heldIn: topicCorpora(heldIn),
          })
        : null;
    const run = await trainTopicModel({
      ...loop,
      kernel: this.kernel,
      settings: this.settings,
      vocabulary: this.vocabulary,
      train: topicCorpora(copying ? rest : train),
      lstm: this.topicLstm,
      ...(repeat ? { repeat } : {}),
      ...(copying ?? {}),
      ...(this.exactGiven === undefined ? {} : { exactGiven: this.exactGiven }),
      lstmTrainedBefore: previousParameters !== undefined,
      previous: this.tables ? { tables: this.tables, weights: this.weights } : null,
      history: this.history,
      onIteration: (live) => {
        this.tables = live.tables;
        this.weights = live.weights;
        this.history = live.history;
      },
    });
    this.history = run.history;
    this.tables = run.tables;
    this.weights = run.weights;
    this.transitions = run.transitions;
    this.trajectories = run.trajectories;
    this.copyParameters = run.copy;
    if (run.lookaheadChoice) {
      // the model is the run it kept: its lookahead and sampler are what inference, fold-in and --from continue with
      this.settings.lookahead = run.lookaheadChoice.lookahead;
      this.settings.exact = run.lookaheadChoice.exact;
    }
    this.results = {
      ...this.results,
      coherence: run.coherence,
      stop: run.stop,
      copy: run.copyFit ? copyFitSummary(run.copyFit) : null,
      lookaheadChoice: run.lookaheadChoice,
      repeatBlocks: statistics,
    };
    if (run.interrupted) {
      const checkpoint = options.checkpoint;
      throw new InterruptedError(
        `training interrupted after iteration ${run.iterations}` +
          (checkpoint
            ? `; the checkpoint ${checkpoint.out}.ckpt holds it: rerun with the same arguments and --resume`
            : ''),
      );
    }
    return this.summarise({
      ...outcome,
      iterations: run.iterations,
      resumed: run.resumedIterations,
      estepSeconds: run.estepSeconds,
      mstepSeconds: run.mstepSeconds,
      heldOut: run.heldOut,
      stop: run.stop,
      start: run.start,
      lookaheadChoice: run.lookaheadChoice,
    });
  }

  private summarise(run: {
    started: number;
    iterations: number;
    resumed: number;
    tokens: number;
    estepSeconds: number;
    mstepSeconds: number;
    heldOut: EvaluationResult | null;
    heldOutCorpus: EvaluationCorpus | null;
    perplexity: PerplexityProtocol;
    stop: StopRecord | null;
    /** the first-order hmm start's check (topic models only) */
    start?: StartCheck | null;
    /** what a --lookahead auto run chose (null: it did not choose) */
    lookaheadChoice?: LookaheadChoiceResult | null;
  }): TrainSummary {
    const references: References = run.heldOutCorpus
      ? this.referencesOf(run.heldOutCorpus, run.perplexity)
      : { unigramPerplexity: null, cache: null };
    this.results = {
      ...this.results,
      ...(run.heldOut ? { heldOut: run.heldOut } : {}),
      ...(references.unigramPerplexity !== null ? { unigramPerplexity: references.unigramPerplexity } : {}),
      ...(references.cache !== null ? { cache: references.cache } : {}),
      parameterCount: this.parameterCount,
      denseParameters: this.denseParameters,
    };
    return {
      iterations: run.iterations,
      seconds: (performance.now() - run.started) / 1000,
      tokens: run.tokens,
      resumedIterations: run.resumed,
      trainingSeconds: this.history.reduce((total, record) => total + record.seconds, 0),
      estepSeconds: run.estepSeconds,
      mstepSeconds: run.mstepSeconds,
      heldOut: run.heldOut,
      ...references,
      stop: run.stop,
      start: run.start ?? null,
      copy: (this.results.copy as CopyFitSummary | null | undefined) ?? null,
      lookaheadChoice: run.lookaheadChoice ?? null,
      repeatBlocks: (this.results.repeatBlocks as RepeatStatistics | null | undefined) ?? null,
    };
  }

  /** The unigram and recency-cache references on `data` (what `lla eval` prints beside the model's scores). */
  references(data: SequenceInput, options: { perplexity?: PerplexityProtocol } = {}): References {
    this.requireTrained('references');
    return this.referencesOf(sequenceCorpus(data, this.vocabulary), options.perplexity ?? DEFAULT_PERPLEXITY);
  }

  /**
   * Held-out perplexity and next-action metrics of `data` (SPEC section 4). `signal`: an abort stops the
   * evaluation at the next sequence boundary with an InterruptedError (no partial result).
   */
  async evaluate(
    data: SequenceInput,
    options: { perplexity?: PerplexityProtocol; nextAction?: boolean; signal?: AbortSignal } = {},
  ): Promise<EvaluationResult> {
    this.requireTrained('evaluate');
    const corpus = sequenceCorpus(data, this.vocabulary);
    if (corpus.tokens.length === 0) {
      throw new InputError(
        `nothing to evaluate: all ${corpus.skippedTokens} actions are outside the model's vocabulary`,
      );
    }
    checkCorpusLimits(corpus, 'the data to evaluate');
    return this.evaluateCorpus(
      corpus,
      options.perplexity ?? DEFAULT_PERPLEXITY,
      options.nextAction ?? true,
      options.signal,
    );
  }

  /** held-out perplexity exp(-sum log p(w_d) / sum N_d) of `data` */
  async perplexity(data: SequenceInput): Promise<number> {
    return (await this.evaluate(data, { nextAction: false })).perplexity;
  }

  /** The n most probable actions of topic k. */
  topicWords(k: number, n = DEFAULT_TOPIC_ACTIONS): TopicWord[] {
    this.requireTrained('topicWords');
    this.requireTopics('topicWords');
    if (!Number.isInteger(k) || k < 0 || k >= this.settings.topics) {
      throw new RangeError(`topicWords: topic ${k} does not exist (0..${this.settings.topics - 1})`);
    }
    return topicActions(this.tables!.counts, this.settings.beta, k, n, this.settings.topics, this.vocabulary.size).map(
      (entry) => ({ action: this.vocabulary.word(entry.action), probability: entry.phi }),
    );
  }

  /** The K x K topic-transition matrix (row = current topic, columns the next topic's distribution). */
  transitionMatrix(): number[][] {
    this.requireTrained('transitionMatrix');
    this.requireTopics('transitionMatrix');
    if (!this.transitions) throw new Error('transitionMatrix: this model has no topics');
    const K = this.settings.topics;
    return Array.from({ length: K }, (_, j) => Array.from(this.transitions!.subarray(j * K, (j + 1) * K)));
  }

  /** phi as [K][V] rows (dense: for export only). */
  phi(): Float64Array {
    this.requireTrained('phi');
    this.requireTopics('phi');
    return densePhi(this.tables!.counts, this.settings.beta, this.settings.topics, this.vocabulary.size);
  }

  /**
   * Topic sequences of unseen sequences: `sweeps` E-step sweeps with the trained tables fixed (the LSTM steps
   * on the topics sampled so far, as in training). Unknown actions are skipped and get no topic (-1 in place).
   * `signal`: an abort stops at the next sequence boundary with an InterruptedError (no partial result).
   */
  async infer(data: Sequences, options: { sweeps?: number; signal?: AbortSignal } = {}): Promise<number[][]> {
    this.requireTrained('infer');
    this.requireTopics('infer');
    return inferTopics(
      this,
      data,
      options.sweeps ?? DEFAULT_INFER_SWEEPS,
      options.signal ? { signal: options.signal } : {},
    );
  }

  /** A serving session: push actions one at a time, ask for the next ones (no re-reading of the history). */
  session(options: { sequenceIndex?: number } = {}): ModelSession {
    this.requireTrained('session');
    this.requireTopics('session', `; predictNextMany ranks the ${this.model} baseline's next actions`);
    return new ModelSession(this, options.sequenceIndex ?? 0);
  }

  /** The n most probable next actions after `history`. */
  predictNext(history: ReadonlyArray<string | number>, n = DEFAULT_NEXT_ACTIONS): NextAction[] {
    if (this.model === 'cache') {
      this.requireTrained('predictNext');
      return predictNextManyCached(this.cacheParameters!, this.trainingActionCounts!, this.vocabulary, [history], n)[0];
    }
    const session = this.session();
    for (const action of history) session.push(action);
    return session.next(n);
  }

  /**
   * The n most probable next actions after each of `histories`, in one batched kernel pass (threads as in
   * evaluation) instead of a session per history. Topic models run the particle filter over each history and
   * read its predictive topic mixture after the last action; the lstm baseline scores all histories in TF.js
   * (its exact next-action distribution). Actions outside the vocabulary are skipped. Ties: the smaller action
   * id (the more frequent action) first. History d uses the filter's random streams of sequence index d.
   * `signal`: an abort stops at the next sequence boundary with an InterruptedError (no partial result).
   */
  async predictNextMany(
    histories: Sequences,
    n = DEFAULT_NEXT_ACTIONS,
    options: { signal?: AbortSignal } = {},
  ): Promise<NextAction[][]> {
    this.requireTrained('predictNextMany');
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`predictNextMany: n must be a whole number >= 0, got ${n}`);
    if (histories.length === 0) return [];
    if (this.model === 'lstm')
      return predictNextManyActions(this.actionLstm!, this.vocabulary, histories, n, options.signal);
    if (this.model === 'cache') {
      return predictNextManyCached(this.cacheParameters!, this.trainingActionCounts!, this.vocabulary, histories, n);
    }
    return predictNextManyTopics(this, histories, n, options.signal ? { signal: options.signal } : {});
  }

  /** The trained counts and LSTM weights in the kernel layout (sessions, exports and reports read them). */
  servingTables(): { counts: CountTables; weights: CellWeights | undefined } {
    this.requireTrained('servingTables');
    this.requireTopics('servingTables');
    return { counts: this.tables!.counts, weights: this.weights };
  }

  /** Writes the model file atomically (SPEC section 6). */
  async save(path: string): Promise<void> {
    this.requireTrained('save');
    const lstm = this.topicLstm ?? this.actionLstm;
    writeModel(
      path,
      {
        settings: this.settings,
        vocabulary: this.vocabulary,
        history: this.history,
        results: this.results,
        trajectories: this.trajectories,
        tables: this.tables,
        transitions: this.transitions,
        copy: this.copyParameters,
        repeat: this.repeatTable,
        cache: this.cacheParameters,
      },
      { backend: this.backend, tfBackend: this.tfBackendUsed },
      lstm ? await lstm.packedParameters() : null,
    );
  }

  /** Loads a model file; the kernel backend is chosen as in create(). */
  static async load(
    path: string,
    options: Pick<ModelOptions, 'backend' | 'tfBackend' | 'warn' | 'threads' | 'lstmEngine'> = {},
  ): Promise<LlaModel> {
    const saved = readModel(path, options.threads);
    // the engine that trains it from here: a model of either engine loads, evaluates and trains on under the other
    if (options.lstmEngine !== undefined) saved.settings.lstmEngine = options.lstmEngine;
    const model = await LlaModel.create({
      ...saved.settings,
      ...(options.backend ? { backend: options.backend } : {}),
      ...(options.tfBackend ? { tfBackend: options.tfBackend } : {}),
      ...(options.warn ? { warn: options.warn } : {}),
    });
    model.vocabularyValue = saved.vocabulary;
    model.history = saved.history;
    model.results = saved.results;
    model.trajectories = saved.trajectories;
    model.trainedWithValue = saved.trainedWith;
    model.tables = saved.tables;
    model.transitions = saved.transitions;
    model.copyParameters = saved.copy;
    model.useRepeatTable(saved.repeat);
    model.cacheParameters = saved.cache;
    if (saved.lstm) {
      await model.ensureLstm(saved.lstm);
      if (model.topicLstm) model.weights = await model.topicLstm.cellWeights();
    }
    return model;
  }

  /** Frees the LSTM's memory (TF.js tensors; the model cannot train afterwards). */
  dispose(): void {
    this.topicLstm?.dispose();
    this.actionLstm?.dispose();
    this.topicLstm = null;
    this.actionLstm = null;
  }
}
