/**
 * The public model class (SPEC section 9), in the spirit of tomotopy: construct with settings, train on a
 * corpus, then infer, predict, evaluate, inspect and save. It owns the kernel backend, the TF.js LSTM and the
 * trained tables; the per-token work always runs in the kernel.
 */
import type { CellWeights, CountTables, FilterState, Kernel, KernelMode } from '../kernels/types.js';
import { loadKernel } from '../kernels/loader.js';
import { Vocabulary } from '../corpus/vocabulary.js';
import type { Corpus } from '../corpus/corpus.js';
import { createTopicLstm, type TopicLstm } from '../lstm/topic-lstm.js';
import { createActionLstm, type ActionLstm } from '../lstm/action-lstm.js';
import { ensureTf, type TfBackendChoice, type TfBackendName } from '../lstm/tf-backend.js';
import { parameterCount, unpackParameters, type LstmParameters } from '../lstm/weights.js';
import { topicLstmShape } from '../lstm/topic-lstm.js';
import { referenceLogits } from '../lstm/reference-cell.js';
import { actionLstmShape } from '../lstm/action-lstm.js';
import { SemState, type IterationRecord, type LstmTrainer } from '../train/sem.js';
import { allocAlias, compactCounts, countsInKernel, toKernelInt32 } from '../kernels/buffers.js';
import { corpusFromSequences, vocabularyFromSequences } from '../train/data.js';
import { heldOutPerplexity, sequenceLogLikelihoods, unigramPerplexity } from '../eval/perplexity.js';
import { completionPerplexity } from '../eval/completion.js';
import { nextActionEvaluation, topNextActions } from '../eval/next-action.js';
import { topicCoherence } from '../eval/coherence.js';
import { empiricalTransitions, topicTransitionMatrix } from '../eval/transitions.js';
import { topicActions } from '../eval/topics.js';
import { TopN } from '../eval/top-n.js';
import type { SectionArray } from '../io/format.js';
import { readModelFile, requireSection } from '../io/format-read.js';
import { writeModelFile } from '../io/format-write.js';
import { readCheckpoint, writeCheckpoint } from '../train/checkpoint.js';
import { restoreTrainerState, trainerStateToCheckpoint } from '../lstm/trainer-checkpoint.js';
import { DEFAULT_SETTINGS, EXACT_ESTEP_MAX_TOPICS, defaultInitSweeps, validateSettings, type ModelKind, type ModelSettings } from '../train/settings.js';
import { InputError, InterruptedError } from '../errors.js';

export type Sequences = ReadonlyArray<ReadonlyArray<string | number>>;
/** Training or evaluation data: a corpus read by src/corpus, or sequences of action strings. */
export type SequenceInput = Corpus | Sequences;

export interface ModelOptions extends Partial<ModelSettings> {
  /** kernel backend: auto (default: native, else WASM), native or wasm; LLA_BACKEND when absent */
  backend?: string;
  /** TF.js backend for the LSTM: auto, node, wasm or cpu; LLA_TF_BACKEND when absent */
  tfBackend?: TfBackendChoice;
  /** receives the one kernel fallback warning (default: stderr) */
  warn?: (message: string) => void;
}

export interface EvaluationResult {
  model: ModelKind;
  /** held-out perplexity (left to right, or document completion) */
  perplexity: number;
  perplexityMethod: string;
  logLikelihood: number;
  tokens: number;
  sequences: number;
  outOfVocabulary: number;
  recallAt1: number;
  recallAt10: number;
  mrr: number;
  nextActionPositions: number;
}

export interface TrainOptions {
  /** held-out data evaluated every `evalEvery` iterations and at the end */
  heldOut?: SequenceInput;
  onProgress?: (record: IterationRecord) => void;
  signal?: AbortSignal;
  /** write a checkpoint to `<checkpoint.out>.ckpt` every `every` iterations; `resume` continues from it */
  checkpoint?: { out: string; every: number; resume: boolean; arguments?: unknown };
  /** held-out perplexity protocol */
  perplexity?: 'left-to-right' | 'completion';
}

export interface TrainSummary {
  iterations: number;
  seconds: number;
  tokens: number;
  /** iterations that came from a checkpoint (--resume) */
  resumedIterations: number;
  estepSeconds: number;
  mstepSeconds: number;
  heldOut: EvaluationResult | null;
  unigramPerplexity: number | null;
}

export interface TopicWord {
  action: string;
  probability: number;
}

export interface NextAction {
  action: string;
  probability: number;
}

/** Internal: what a model file holds. */
const MODEL_FILE_SCHEMA = 1;

function isCorpus(input: SequenceInput): input is Corpus {
  return !Array.isArray(input) && typeof input === 'object' && input !== null && 'tokens' in input && 'offsets' in input;
}

/** The trained state of a topic model kept after training (or loaded). */
interface TopicTables {
  counts: CountTables;
  nonZeros: number;
}

export class LlaModel {
  readonly settings: ModelSettings;
  readonly kernel: Kernel;
  private vocabularyValue: Vocabulary | null = null;
  private tables: TopicTables | null = null;
  private topicLstm: TopicLstm | null = null;
  private actionLstm: ActionLstm | null = null;
  private weights: CellWeights | undefined;
  private tfBackendChoice: TfBackendChoice | undefined;
  private tfBackendUsed: TfBackendName | null = null;
  /** training history, one record per iteration (kept in the model file for reports) */
  history: IterationRecord[] = [];
  /** the K x K topic-transition matrix computed at the end of training (row = current topic) */
  private transitions: Float64Array | null = null;
  /** a few training sequences' sampled topic paths, for reports */
  trajectories: Array<{ id: string; actions: number[]; topics: number[] }> = [];
  /** metrics of the last held-out evaluation and of training, stored in the model file */
  results: Record<string, unknown> = {};

  private constructor(settings: ModelSettings, kernel: Kernel, tfBackend: TfBackendChoice | undefined) {
    this.settings = settings;
    this.kernel = kernel;
    this.tfBackendChoice = tfBackend;
  }

  /** A new, untrained model. Loads the kernel backend now (so a missing backend fails before any work). */
  static async create(options: ModelOptions = {}): Promise<LlaModel> {
    const { backend, tfBackend, warn, ...given } = options;
    const settings: ModelSettings = { ...DEFAULT_SETTINGS };
    for (const [key, value] of Object.entries(given)) {
      if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
    }
    if (given.exact === undefined) settings.exact = settings.topics <= EXACT_ESTEP_MAX_TOPICS;
    if (given.initLdaSweeps === undefined) settings.initLdaSweeps = defaultInitSweeps(settings.model, settings.iterations);
    validateSettings(settings);
    const kernel = await loadKernel({ ...(backend === undefined ? {} : { backend }), ...(warn ? { warn } : {}) });
    return new LlaModel(settings, kernel, tfBackend);
  }

  /** which kernel backend runs the per-token work */
  get backend(): 'native' | 'wasm' {
    return this.kernel.name;
  }

  /** which TF.js backend trained (or would train) the LSTM; null before any LSTM work */
  get tfBackend(): TfBackendName | null {
    return this.tfBackendUsed;
  }

  /** the backends that trained this model: as recorded in its file after load(), else the ones in use here */
  get trainedWith(): { backend: string; tfBackend: string | null } {
    return this.trainedWithValue ?? { backend: this.backend, tfBackend: this.tfBackendUsed };
  }
  private trainedWithValue: { backend: string; tfBackend: string | null } | null = null;

  get vocabulary(): Vocabulary {
    if (!this.vocabularyValue) throw new Error('this model has no vocabulary yet: train it or load a saved one');
    return this.vocabularyValue;
  }

  get trained(): boolean {
    return this.model === 'lstm' ? this.actionLstm !== null : this.tables !== null;
  }

  get model(): ModelKind {
    return this.settings.model;
  }

  private get kernelMode(): KernelMode {
    if (this.model === 'lstm') throw new Error('the lstm baseline has no topics');
    return this.model;
  }

  /** dense LSTM/softmax parameters */
  get denseParameters(): number {
    const s = this.settings;
    if (this.model === 'lda') return 0;
    if (this.model === 'lstm') return parameterCount(actionLstmShape(this.vocabulary.size, s.hidden, s.embedding));
    return parameterCount(topicLstmShape(this.model, s.topics, this.vocabulary.size, s.hidden, s.embedding));
  }

  /** dense parameters plus the non-zeros of the count table (SPEC section 2) */
  get parameterCount(): number {
    return this.denseParameters + (this.tables?.nonZeros ?? 0);
  }

  private requireTrained(what: string): void {
    if (!this.trained) throw new Error(`${what}: the model is not trained: call train() or LlaModel.load() first`);
  }

  private toSequenceCorpus(input: SequenceInput): { tokens: Int32Array; offsets: Int32Array; skippedTokens: number; ids: string[] } {
    if (isCorpus(input)) {
      if (input.vocabulary !== this.vocabularyValue && this.vocabularyValue) {
        // a corpus built with another vocabulary: remap through ours by action string
        const words = input.vocabulary.words;
        const sequences: string[][] = [];
        for (let d = 0; d + 1 < input.offsets.length; d++) {
          sequences.push(Array.from(input.tokens.subarray(input.offsets[d], input.offsets[d + 1]), (id) => words[id]));
        }
        const mapped = corpusFromSequences(sequences, this.vocabularyValue);
        return { ...mapped, skippedTokens: mapped.skippedTokens + input.skippedTokens, ids: input.ids };
      }
      return { tokens: input.tokens, offsets: input.offsets, skippedTokens: input.skippedTokens, ids: input.ids };
    }
    const mapped = corpusFromSequences(input, this.vocabulary);
    return { ...mapped, ids: input.map((_, d) => String(d)) };
  }

  private async tfRuntimeName(): Promise<TfBackendName> {
    const runtime = await ensureTf(this.tfBackendChoice === undefined ? {} : { backend: this.tfBackendChoice });
    this.tfBackendUsed = runtime.name;
    return runtime.name;
  }

  private async ensureLstm(parameters?: LstmParameters): Promise<void> {
    const s = this.settings;
    await this.tfRuntimeName();
    const common = {
      hidden: s.hidden, embedding: s.embedding, learningRate: s.learningRate, seed: s.seed,
      ...(this.tfBackendChoice === undefined ? {} : { tfBackend: this.tfBackendChoice }),
      ...(parameters ? { parameters } : {}),
    };
    if (this.model === 'lstm') {
      this.actionLstm ??= await createActionLstm({ vocabularySize: this.vocabulary.size, ...common });
    } else if (this.model !== 'lda') {
      this.topicLstm ??= await createTopicLstm({ variant: this.model, numTopics: s.topics,
        vocabularySize: this.vocabulary.size, ...common });
    }
  }

  /**
   * Trains on `data` (a corpus, or sequences of action strings whose vocabulary is built here). A model that
   * was trained or loaded before continues from its LSTM weights (`--from`), keeping its vocabulary.
   */
  async train(data: SequenceInput, options: TrainOptions = {}): Promise<TrainSummary> {
    const started = performance.now();
    const s = this.settings;
    if (!this.vocabularyValue) {
      this.vocabularyValue = isCorpus(data) ? data.vocabulary : vocabularyFromSequences(data);
    }
    const train = this.toSequenceCorpus(data);
    if (train.tokens.length === 0) {
      throw new InputError('no training tokens: every action of the training data is outside the vocabulary');
    }
    const heldOut = options.heldOut === undefined ? null : this.toSequenceCorpus(options.heldOut);
    const previousParameters = this.topicLstm ? await this.topicLstm.getParameters() : undefined;
    await this.ensureLstm(previousParameters);

    if (this.model === 'lstm') return this.trainActionLstm(train, heldOut, options, started);

    // resume: the checkpoint holds the sampler state (topics, iteration), the LSTM weights and the history
    let initialTopics: Int32Array | undefined;
    let startIteration = 0;
    const checkpoint = options.checkpoint;
    if (checkpoint?.resume) {
      const saved = readCheckpoint(checkpoint.out);
      if (saved) {
        const header = saved.header as { settings?: ModelSettings; iteration?: number; history?: IterationRecord[]; tokens?: number; vocabulary?: string[]; lstmTrainer?: unknown };
        if (JSON.stringify(header.settings) !== JSON.stringify(s) || header.tokens !== train.tokens.length ||
          JSON.stringify(header.vocabulary) !== JSON.stringify(this.vocabulary.words)) {
          throw new InputError('this checkpoint was written by a run with other settings or data; rerun with the ' +
            'same arguments as the interrupted run, or delete the checkpoint to start over', `${checkpoint.out}.ckpt`);
        }
        initialTopics = requireSection(saved, 'topics', 'int32', `${checkpoint.out}.ckpt`);
        startIteration = header.iteration ?? 0;
        this.history = header.history ?? [];
        if (this.topicLstm && saved.sections.lstm) {
          this.topicLstm.loadPackedParameters(requireSection(saved, 'lstm', 'float32', `${checkpoint.out}.ckpt`));
          // Adam's moments, visiting order and carried states: without them (older checkpoints) training restarts those
          await restoreTrainerState(this.topicLstm, header.lstmTrainer, saved, `${checkpoint.out}.ckpt`);
        }
      }
    } else {
      this.history = [];
    }

    if (!initialTopics && this.tables) {
      // --from: the new data starts from topics drawn with the saved model, not from random topics
      initialTopics = await this.sampleWithTrainedTables(train.tokens, train.offsets, 2);
    }
    const state = new SemState(this.kernel, {
      model: this.model as 'lla' | 'word-lla' | 'lda', numTopics: s.topics, vocabularySize: this.vocabulary.size,
      iterations: s.iterations, initLdaSweeps: previousParameters ? 0 : s.initLdaSweeps, mhSteps: s.mhSteps,
      exact: s.exact, proposals: 'cycle', alpha: s.alpha, beta: s.beta, sequenceSmoothing: s.sequenceSmoothing,
      lstmTokens: s.lstmTokens, bptt: s.bptt, batch: s.batch, seed: s.seed, threads: s.threads,
    }, { tokens: train.tokens, offsets: train.offsets }, initialTopics);
    state.iteration = startIteration;
    if (startIteration > 0 && this.topicLstm && state.modeOf(startIteration) !== 'lda') {
      state.weights = await this.topicLstm.cellWeights();
    }
    const trainer: LstmTrainer | null = this.topicLstm
      ? { train: (args) => this.topicLstm!.train(args), cellWeights: () => this.topicLstm!.cellWeights() }
      : null;

    let estepSeconds = 0;
    let mstepSeconds = 0;
    for (const record of this.history) {
      estepSeconds += record.estepSeconds;
      mstepSeconds += record.mstepSeconds;
    }
    let lastHeldOut: EvaluationResult | null = null;
    let interrupted = false;
    while (state.iteration < s.iterations) {
      const record = await state.step(trainer, undefined);
      this.tables = { counts: state.counts, nonZeros: state.nonZeros };
      this.weights = state.weights;
      estepSeconds += record.estepSeconds;
      mstepSeconds += record.mstepSeconds;
      const last = state.iteration === s.iterations;
      // during an lda initialisation an LSTM model has no trained weights yet: its perplexity starts afterwards
      const evaluable = this.model === 'lda' || this.weights !== undefined;
      if (heldOut && heldOut.tokens.length > 0 && evaluable && ((s.evalEvery > 0 && state.iteration % s.evalEvery === 0) || last)) {
        lastHeldOut = await this.evaluateCorpus(heldOut, { perplexity: options.perplexity ?? 'left-to-right', nextAction: last });
        record.heldOutPerplexity = lastHeldOut.perplexity;
      }
      this.history.push(record);
      options.onProgress?.(record);
      const due = checkpoint !== undefined && ((checkpoint.every > 0 && state.iteration % checkpoint.every === 0) ||
        options.signal?.aborted === true);
      if (checkpoint && due && !last) {
        await this.writeTrainingCheckpoint(checkpoint.out, state, train.tokens.length);
      }
      if (options.signal?.aborted && !last) {
        interrupted = true;
        break;
      }
    }
    // keep a compact copy of the tables: the sampler's buffers are sized for the worst case
    this.tables = { counts: compactCounts(state.counts, state.nonZeros), nonZeros: state.nonZeros };
    this.weights = state.weights;
    this.finishTopicModel(state, train.ids);
    if (interrupted) {
      throw new InterruptedError(`training interrupted after iteration ${state.iteration}` +
        (checkpoint ? `; the checkpoint ${checkpoint.out}.ckpt holds it: rerun with the same arguments and --resume` : ''));
    }
    const summary = this.summarise(started, state.iteration, startIteration, train.tokens.length, estepSeconds,
      mstepSeconds, lastHeldOut, heldOut);
    return summary;
  }

  private summarise(started: number, iterations: number, resumed: number, tokens: number, estepSeconds: number,
    mstepSeconds: number, heldOut: EvaluationResult | null,
    heldOutCorpus: { tokens: Int32Array } | null): TrainSummary {
    let unigram: number | null = null;
    if (heldOutCorpus && heldOutCorpus.tokens.length > 0) {
      const counts = this.trainingActionCounts;
      if (counts) unigram = unigramPerplexity(counts, heldOutCorpus.tokens).perplexity;
    }
    this.results = {
      ...this.results,
      ...(heldOut ? { heldOut } : {}),
      ...(unigram !== null ? { unigramPerplexity: unigram } : {}),
      parameterCount: this.parameterCount,
      denseParameters: this.denseParameters,
    };
    return {
      iterations, seconds: (performance.now() - started) / 1000, tokens, resumedIterations: resumed,
      estepSeconds, mstepSeconds, heldOut, unigramPerplexity: unigram,
    };
  }

  /** training frequency of each action (the unigram reference), from the vocabulary or the counts */
  private get trainingActionCounts(): Int32Array | null {
    const fromVocabulary = this.vocabularyValue?.counts;
    if (fromVocabulary) return fromVocabulary;
    if (!this.tables) return null;
    const { rowOffsets, rowCounts } = this.tables.counts;
    const counts = new Int32Array(rowOffsets.length - 1);
    for (let w = 0; w + 1 < rowOffsets.length; w++) {
      for (let e = rowOffsets[w]; e < rowOffsets[w + 1]; e++) counts[w] += rowCounts[e];
    }
    return counts;
  }

  private finishTopicModel(state: SemState, ids: string[]): void {
    const s = this.settings;
    const offsets = state.data.offsets;
    const topics = state.topics;
    const transitions = this.model === 'lla' && this.weights
      ? topicTransitionMatrix(this.kernel, offsets, topics, this.weights, s.topics)
      : empiricalTransitions(offsets, topics, s.topics);
    this.transitions = transitions.matrix;
    // example trajectories: the longest few sequences up to 200 tokens, for reports
    const order = Array.from({ length: offsets.length - 1 }, (_, d) => d)
      .sort((a, b) => (offsets[b + 1] - offsets[b]) - (offsets[a + 1] - offsets[a]) || a - b);
    this.trajectories = order.slice(0, 4).map((d) => {
      const end = Math.min(offsets[d + 1], offsets[d] + 200);
      return { id: ids[d] ?? String(d), actions: Array.from(state.data.tokens.subarray(offsets[d], end)),
        topics: Array.from(topics.subarray(offsets[d], end)) };
    });
    const coherence = topicCoherence(this.tables!.counts, s.beta, { tokens: state.data.tokens, offsets },
      s.topics, this.vocabulary.size, Math.min(10, Math.max(2, this.vocabulary.size)));
    this.results = { ...this.results, coherence: { umass: coherence.meanUmass, npmi: coherence.meanNpmi } };
  }

  private async writeTrainingCheckpoint(out: string, state: SemState, tokens: number): Promise<void> {
    const sections: Record<string, SectionArray> = { topics: Int32Array.from(state.topics) };
    const header: Record<string, unknown> = { settings: this.settings, iteration: state.iteration, history: this.history,
      tokens, vocabulary: this.vocabulary.words };
    if (this.topicLstm) {
      sections.lstm = await this.topicLstm.packedParameters();
      const trainer = trainerStateToCheckpoint(await this.topicLstm.trainerState());
      header.lstmTrainer = trainer.header;
      Object.assign(sections, trainer.sections);
    }
    writeCheckpoint(out, { header, sections });
  }

  private async trainActionLstm(train: { tokens: Int32Array; offsets: Int32Array }, heldOut: { tokens: Int32Array; offsets: Int32Array; skippedTokens: number } | null,
    options: TrainOptions, started: number): Promise<TrainSummary> {
    const s = this.settings;
    const lstm = this.actionLstm!;
    let mstepSeconds = 0;
    let lastHeldOut: EvaluationResult | null = null;
    this.history = [];
    for (let iteration = 1; iteration <= s.iterations; iteration++) {
      if (options.signal?.aborted) throw new InterruptedError(`training interrupted after iteration ${iteration - 1}`);
      const t0 = performance.now();
      const result = await lstm.train({ tokens: train.tokens, offsets: train.offsets, tokenBudget: s.lstmTokens,
        bptt: s.bptt, batch: s.batch, ...(options.signal ? { signal: options.signal } : {}) });
      const seconds = (performance.now() - t0) / 1000;
      mstepSeconds += seconds;
      const record: IterationRecord = {
        iteration, mode: 'lda', seconds, estepSeconds: 0, mstepSeconds: seconds, estepTokensPerSecond: 0,
        mstepTokensPerSecond: result.tokens / Math.max(1e-9, seconds), logLikelihoodPerToken: -result.meanLoss,
        logPhiPerToken: 0, lstmLoss: result.meanLoss, acceptanceRate: null,
      };
      const last = iteration === s.iterations;
      if (heldOut && heldOut.tokens.length > 0 && ((s.evalEvery > 0 && iteration % s.evalEvery === 0) || last)) {
        lastHeldOut = await this.evaluateCorpus(heldOut, { perplexity: 'left-to-right', nextAction: last });
        record.heldOutPerplexity = lastHeldOut.perplexity;
      }
      this.history.push(record);
      options.onProgress?.(record);
    }
    return this.summarise(started, s.iterations, 0, train.tokens.length, 0, mstepSeconds, lastHeldOut, heldOut);
  }

  /** Held-out perplexity and next-action metrics of `data` (SPEC section 4). */
  async evaluate(data: SequenceInput, options: { perplexity?: 'left-to-right' | 'completion'; nextAction?: boolean } = {}):
    Promise<EvaluationResult> {
    this.requireTrained('evaluate');
    const corpus = this.toSequenceCorpus(data);
    if (corpus.tokens.length === 0) {
      throw new InputError(`nothing to evaluate: all ${corpus.skippedTokens} actions are outside the model's vocabulary`);
    }
    return this.evaluateCorpus(corpus, { perplexity: options.perplexity ?? 'left-to-right', nextAction: options.nextAction ?? true });
  }

  private async evaluateCorpus(corpus: { tokens: Int32Array; offsets: Int32Array; skippedTokens: number },
    options: { perplexity: 'left-to-right' | 'completion'; nextAction: boolean }): Promise<EvaluationResult> {
    const s = this.settings;
    const sequences = corpus.offsets.length - 1;
    if (this.model === 'lstm') return this.evaluateActionLstm(corpus, options.nextAction);
    const counts = countsInKernel(this.kernel, this.tables!.counts);
    const common = {
      kernel: this.kernel, mode: this.kernelMode, counts, beta: s.beta, alpha: s.alpha, particles: s.particles,
      seed: s.seed, threads: s.threads, corpus: { tokens: corpus.tokens, offsets: corpus.offsets },
      numTopics: s.topics, vocabularySize: this.vocabulary.size, outOfVocabulary: corpus.skippedTokens,
      ...(this.weights ? { weights: this.weights } : {}),
    };
    let perplexity: number;
    let logLikelihood: number;
    let tokens: number;
    if (options.perplexity === 'completion') {
      const result = await completionPerplexity(common);
      ({ perplexity, logLikelihood, tokens } = result);
    } else {
      const result = await heldOutPerplexity(common);
      ({ perplexity, logLikelihood, tokens } = result);
    }
    let recallAt1 = NaN;
    let recallAt10 = NaN;
    let mrr = NaN;
    let positions = 0;
    if (options.nextAction) {
      const next = await nextActionEvaluation(common);
      ({ recallAt1, recallAt10 } = next);
      mrr = next.meanReciprocalRank;
      positions = next.positions;
    }
    return {
      model: this.model, perplexity, perplexityMethod: options.perplexity, logLikelihood, tokens, sequences,
      outOfVocabulary: corpus.skippedTokens, recallAt1, recallAt10, mrr, nextActionPositions: positions,
    };
  }

  private async evaluateActionLstm(corpus: { tokens: Int32Array; offsets: Int32Array; skippedTokens: number },
    nextAction: boolean): Promise<EvaluationResult> {
    const lstm = this.actionLstm!;
    const { logLikelihood: perSequence } = await lstm.evaluate({ tokens: corpus.tokens, offsets: corpus.offsets });
    let logLikelihood = 0;
    for (const value of perSequence) logLikelihood += value;
    const tokens = corpus.tokens.length;
    let recallAt1 = NaN;
    let recallAt10 = NaN;
    let mrr = NaN;
    let positions = 0;
    if (nextAction) {
      // the same positions as the topic models: t >= 5, at most 2000, seeded sample
      const eligible: number[] = [];
      for (let d = 0; d + 1 < corpus.offsets.length; d++) {
        for (let t = corpus.offsets[d] + 5; t < corpus.offsets[d + 1]; t++) eligible.push(t);
      }
      const chosen = sampleEvenly(eligible, 2000);
      if (chosen.length > 0) {
        const scores = await lstm.nextActionScores({ tokens: corpus.tokens, offsets: corpus.offsets }, Int32Array.from(chosen));
        const V = this.vocabulary.size;
        let hits1 = 0;
        let hits10 = 0;
        let reciprocal = 0;
        chosen.forEach((position, i) => {
          const row = scores.subarray(i * V, (i + 1) * V);
          const truth = corpus.tokens[position];
          const target = row[truth];
          let rank = 1;
          for (let w = 0; w < V; w++) if (row[w] > target || (row[w] === target && w < truth)) rank++;
          if (rank === 1) hits1++;
          if (rank <= 10) hits10++;
          reciprocal += 1 / rank;
        });
        positions = chosen.length;
        recallAt1 = hits1 / positions;
        recallAt10 = hits10 / positions;
        mrr = reciprocal / positions;
      }
    }
    return {
      model: 'lstm', perplexity: Math.exp(-logLikelihood / Math.max(1, tokens)), perplexityMethod: 'exact',
      logLikelihood, tokens, sequences: corpus.offsets.length - 1, outOfVocabulary: corpus.skippedTokens,
      recallAt1, recallAt10, mrr, nextActionPositions: positions,
    };
  }

  /** held-out perplexity exp(-sum log p(w_d) / sum N_d) of `data` */
  async perplexity(data: SequenceInput): Promise<number> {
    return (await this.evaluate(data, { nextAction: false })).perplexity;
  }

  /** The n most probable actions of topic k. */
  topicWords(k: number, n = 10): TopicWord[] {
    this.requireTrained('topicWords');
    if (this.model === 'lstm') throw new Error('topicWords: the lstm baseline has no topics');
    if (!Number.isInteger(k) || k < 0 || k >= this.settings.topics) {
      throw new RangeError(`topicWords: topic ${k} does not exist (0..${this.settings.topics - 1})`);
    }
    return topicActions(this.tables!.counts, this.settings.beta, k, n, this.settings.topics, this.vocabulary.size)
      .map((entry) => ({ action: this.vocabulary.word(entry.action), probability: entry.phi }));
  }

  /** The K x K topic-transition matrix (row = current topic, columns the next topic's distribution). */
  transitionMatrix(): number[][] {
    this.requireTrained('transitionMatrix');
    if (!this.transitions) throw new Error('transitionMatrix: this model has no topics');
    const K = this.settings.topics;
    return Array.from({ length: K }, (_, j) => Array.from(this.transitions!.subarray(j * K, (j + 1) * K)));
  }

  /** phi as [K][V] rows (dense: for export only). */
  phi(): Float64Array {
    this.requireTrained('phi');
    const { counts } = this.tables!;
    const K = this.settings.topics;
    const V = this.vocabulary.size;
    const phi = new Float64Array(K * V);
    for (let k = 0; k < K; k++) {
      const value = this.settings.beta / (counts.topicTotals[k] + V * this.settings.beta);
      phi.fill(value, k * V, (k + 1) * V);
    }
    for (let w = 0; w < V; w++) {
      for (let e = counts.rowOffsets[w]; e < counts.rowOffsets[w + 1]; e++) {
        const k = counts.rowTopics[e];
        phi[k * V + w] = (counts.rowCounts[e] + this.settings.beta) / (counts.topicTotals[k] + V * this.settings.beta);
      }
    }
    return phi;
  }

  /**
   * Topic sequences of unseen sequences: `sweeps` E-step sweeps with the trained tables fixed (the LSTM steps
   * on the topics sampled so far, as in training). Unknown actions are skipped and get no topic (-1 in place).
   */
  async infer(data: Sequences, options: { sweeps?: number } = {}): Promise<number[][]> {
    this.requireTrained('infer');
    if (this.model === 'lstm') throw new Error('infer: the lstm baseline has no topics');
    const corpus = corpusFromSequences(data, this.vocabulary);
    const previous = await this.sampleWithTrainedTables(corpus.tokens, corpus.offsets, options.sweeps ?? 10);
    const vocabulary = this.vocabulary;
    const offsets = corpus.offsets;
    const result: number[][] = [];
    data.forEach((sequence, d) => {
      let cursor = offsets[d];
      result.push(sequence.map((action) => (vocabulary.id(String(action)) < 0 ? -1 : previous[cursor++])));
    });
    return result;
  }

  /**
   * Topics of a corpus drawn with the trained tables fixed: random start, then `sweeps` E-step sweeps (the LSTM
   * steps on the topics sampled so far, as in training). Used by infer() and to start `--from` training.
   */
  private async sampleWithTrainedTables(corpusTokens: Int32Array, corpusOffsets: Int32Array, sweeps: number): Promise<Int32Array> {
    const s = this.settings;
    const kernel = this.kernel;
    const vocabularySize = this.vocabulary.size;
    const tokens = toKernelInt32(kernel, corpusTokens);
    const offsets = toKernelInt32(kernel, corpusOffsets);
    const counts = countsInKernel(kernel, this.tables!.counts);
    const alias = allocAlias(kernel, vocabularySize, s.topics, counts.rowTopics.length);
    kernel.buildAlias(counts, s.topics, s.beta, alias);
    let previous = kernel.allocInt32(tokens.length);
    let next = kernel.allocInt32(tokens.length);
    kernel.randomTopics(offsets, previous, s.topics, s.seed);
    for (let sweep = 0; sweep < sweeps && tokens.length > 0; sweep++) {
      await kernel.sweep({
        mode: this.kernelMode, exact: s.exact, mhSteps: s.mhSteps, proposals: 'cycle', numTopics: s.topics,
        vocabularySize, tokens, offsets, topicsPrev: previous, topicsNext: next, counts, alias,
        beta: s.beta, alpha: s.alpha, sequenceSmoothing: s.sequenceSmoothing,
        ...(this.weights ? { weights: this.weights } : {}), seed: s.seed, iteration: 1_000_000 + sweep, threads: s.threads,
      });
      [previous, next] = [next, previous];
    }
    return Int32Array.from(previous);
  }

  /** A serving session: push actions one at a time, ask for the next ones (no re-reading of the history). */
  session(options: { sequenceIndex?: number } = {}): ModelSession {
    this.requireTrained('session');
    if (this.model === 'lstm') throw new Error('session: the lstm baseline is evaluated in TF.js, not served by the kernels');
    return new ModelSession(this, options.sequenceIndex ?? 0);
  }

  /** The n most probable next actions after `history`. */
  predictNext(history: ReadonlyArray<string | number>, n = 10): NextAction[] {
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
   */
  async predictNextMany(histories: Sequences, n = 10): Promise<NextAction[][]> {
    this.requireTrained('predictNextMany');
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`predictNextMany: n must be a whole number >= 0, got ${n}`);
    if (histories.length === 0) return [];
    const V = this.vocabulary.size;
    // each history plus one placeholder action: what the model predicts at the placeholder is the next action
    const withPlaceholder = (part: Sequences) => {
      const extended = corpusFromSequences(part.map((history) => [...history, this.vocabulary.word(0)]), this.vocabulary);
      const positions = Int32Array.from(part, (_, d) => extended.offsets[d + 1] - 1);
      return { extended, positions };
    };
    const results: NextAction[][] = [];
    if (this.model !== 'lstm') {
      const s = this.settings;
      const K = s.topics;
      const { extended, positions } = withPlaceholder(histories);
      const counts = countsInKernel(this.kernel, this.tables!.counts);
      // mixtures: [D][K] the filter's predictive topic mixture at each placeholder (before it is seen)
      const mixtures = new Float32Array(histories.length * K);
      await sequenceLogLikelihoods({
        kernel: this.kernel, mode: this.kernelMode, counts, beta: s.beta, alpha: s.alpha, particles: s.particles,
        seed: s.seed, threads: s.threads, corpus: { tokens: extended.tokens, offsets: extended.offsets },
        numTopics: K, vocabularySize: V, ...(this.weights ? { weights: this.weights } : {}),
      }, undefined, { positions, mixtures });
      for (let d = 0; d < histories.length; d++) {
        results.push(topNextActions(mixtures.subarray(d * K, (d + 1) * K), counts, s.beta, n)
          .map((entry) => ({ action: this.vocabulary.word(entry.action), probability: entry.probability })));
      }
      return results;
    }
    // the lstm baseline in chunks, so that the [chunk][V] score table stays near 64 MB
    const chunk = Math.max(1, Math.floor((1 << 24) / V));
    for (let start = 0; start < histories.length; start += chunk) {
      const part = histories.slice(start, start + chunk);
      const { extended, positions } = withPlaceholder(part);
      const scores = await this.actionLstm!.nextActionScores({ tokens: extended.tokens, offsets: extended.offsets }, positions);
      part.forEach((_, d) => {
        const best = new TopN(Math.min(n, V));
        for (let w = 0; w < V; w++) best.push(scores[d * V + w], w);
        results.push(best.sorted().map(({ id, score }) => ({ action: this.vocabulary.word(id), probability: Math.exp(score) })));
      });
    }
    return results;
  }

  /** internal: what a session needs */
  servingTables(): { counts: CountTables; weights: CellWeights | undefined } {
    return { counts: this.tables!.counts, weights: this.weights };
  }

  /** Writes the model file atomically (SPEC section 6). */
  async save(path: string): Promise<void> {
    this.requireTrained('save');
    const sections: Record<string, SectionArray> = {};
    if (this.tables) {
      const { counts } = this.tables;
      sections.rowOffsets = counts.rowOffsets;
      sections.rowTopics = counts.rowTopics.subarray(0, this.tables.nonZeros);
      sections.rowCounts = counts.rowCounts.subarray(0, this.tables.nonZeros);
      sections.topicTotals = counts.topicTotals;
    }
    if (this.transitions) sections.transitions = this.transitions;
    if (this.topicLstm) sections.lstm = await this.topicLstm.packedParameters();
    if (this.actionLstm) sections.lstm = await this.actionLstm.packedParameters();
    const vocabularyCounts = this.vocabulary.counts;
    if (vocabularyCounts) sections.vocabularyCounts = vocabularyCounts;
    writeModelFile(path, {
      kind: 'model',
      header: {
        schema: MODEL_FILE_SCHEMA, settings: this.settings, vocabulary: this.vocabulary.words,
        history: this.history.map(finiteRecord), results: finiteJson(this.results) as Record<string, unknown>,
        trajectories: this.trajectories, backend: this.backend, tfBackend: this.tfBackendUsed,
        nonZeros: this.tables?.nonZeros ?? 0,
      },
      sections,
    });
  }

  /** Loads a model file; the kernel backend is chosen as in create(). */
  static async load(path: string, options: Pick<ModelOptions, 'backend' | 'tfBackend' | 'warn' | 'threads'> = {}): Promise<LlaModel> {
    const contents = readModelFile(path, { expectKind: 'model' });
    const header = contents.header as {
      schema?: number; settings?: ModelSettings; vocabulary?: string[]; history?: IterationRecord[];
      results?: Record<string, unknown>; trajectories?: LlaModel['trajectories']; nonZeros?: number;
      backend?: string; tfBackend?: string | null;
    };
    if (header.schema !== MODEL_FILE_SCHEMA || !header.settings || !Array.isArray(header.vocabulary)) {
      throw new InputError('is an lla container but not a model this version understands (missing settings or ' +
        'vocabulary); retrain the model', path);
    }
    const settings = { ...DEFAULT_SETTINGS, ...header.settings, ...(options.threads !== undefined ? { threads: options.threads } : {}) };
    try {
      validateSettings(settings);
    } catch (error) {
      throw new InputError(`holds invalid settings: ${(error as Error).message}`, path);
    }
    const model = await LlaModel.create({ ...settings, ...(options.backend ? { backend: options.backend } : {}),
      ...(options.tfBackend ? { tfBackend: options.tfBackend } : {}), ...(options.warn ? { warn: options.warn } : {}) });
    const counts = contents.sections.vocabularyCounts instanceof Int32Array ? contents.sections.vocabularyCounts : undefined;
    model.vocabularyValue = new Vocabulary(header.vocabulary, counts);
    model.history = header.history ?? [];
    model.results = header.results ?? {};
    model.trajectories = header.trajectories ?? [];
    if (typeof header.backend === 'string') model.trainedWithValue = { backend: header.backend, tfBackend: header.tfBackend ?? null };
    const V = header.vocabulary.length;
    const K = settings.topics;
    if (settings.model !== 'lstm') {
      const rowOffsets = requireSection(contents, 'rowOffsets', 'int32', path);
      const rowTopics = requireSection(contents, 'rowTopics', 'int32', path);
      const rowCounts = requireSection(contents, 'rowCounts', 'int32', path);
      const topicTotals = requireSection(contents, 'topicTotals', 'int32', path);
      if (rowOffsets.length !== V + 1 || topicTotals.length !== K || rowTopics.length !== rowCounts.length ||
        rowOffsets[V] !== rowTopics.length) {
        throw new InputError(`its count tables do not fit its ${V} actions and ${K} topics: the file is damaged`, path);
      }
      for (let e = 0; e < rowTopics.length; e++) {
        if (rowTopics[e] < 0 || rowTopics[e] >= K || rowCounts[e] <= 0) {
          throw new InputError(`its count table holds an invalid entry at ${e}: the file is damaged`, path);
        }
      }
      model.tables = { counts: { rowOffsets, rowTopics, rowCounts, topicTotals }, nonZeros: rowTopics.length };
      if (contents.sections.transitions instanceof Float64Array) model.transitions = contents.sections.transitions;
    }
    if (settings.model !== 'lda') {
      const packedLstm = requireSection(contents, 'lstm', 'float32', path);
      const shape = settings.model === 'lstm'
        ? actionLstmShape(V, settings.hidden, settings.embedding)
        : topicLstmShape(settings.model, K, V, settings.hidden, settings.embedding);
      let parameters: LstmParameters;
      try {
        parameters = unpackParameters(shape, packedLstm);
      } catch (error) {
        throw new InputError(`its LSTM weights do not fit its settings (${(error as Error).message})`, path);
      }
      await model.ensureLstm(parameters);
      if (model.topicLstm) model.weights = await model.topicLstm.cellWeights();
    }
    return model;
  }

  /** Frees TF.js memory (the model cannot train afterwards). */
  dispose(): void {
    this.topicLstm?.dispose();
    this.actionLstm?.dispose();
    this.topicLstm = null;
    this.actionLstm = null;
  }
}

/** JSON with non-finite numbers replaced by null (the model file's header must be finite). */
function finiteJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}

function finiteRecord(record: IterationRecord): IterationRecord {
  return finiteJson(record) as IterationRecord;
}

/** Up to `count` items spread evenly over `items` (deterministic). */
function sampleEvenly<T>(items: T[], count: number): T[] {
  if (items.length <= count) return items;
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(items[Math.floor((i * items.length) / count)]);
  return out;
}

/**
 * A serving session (SPEC section 9): the particle filter's state for one growing sequence, advanced one action
 * at a time by the kernel's filterStep.
 */
export class ModelSession {
  private readonly model: LlaModel;
  private readonly state: FilterState;
  private readonly mixture: Float32Array;
  private readonly sequenceIndex: number;
  /** actions pushed that were outside the vocabulary (skipped) */
  skipped = 0;
  /** sum of log p(action | history) over the known actions pushed */
  logLikelihood = 0;

  constructor(model: LlaModel, sequenceIndex: number) {
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
    };
    this.state.previousAction[0] = -1;
    this.state.previousTopic.fill(-1);
    this.state.weights.fill(1 / particles);
    this.mixture = kernel.allocFloat32(s.topics);
  }

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
      mode: this.model.model as KernelMode, numTopics: s.topics, vocabularySize: this.model.vocabulary.size,
      counts, beta: s.beta, alpha: s.alpha, ...(weights ? { weights } : {}), particles: this.state.weights.length,
      seed: s.seed, state: this.state, action: id, sequenceIndex: this.sequenceIndex, mixtureOut: this.mixture,
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
    for (let k = 0; k < s.topics; k++) total += (logits[k] = Math.exp(logits[k] - max));
    for (let k = 0; k < s.topics; k++) mix[k] = logits[k] / total;
    return mix;
  }

  /** The n most probable next actions with their probabilities. */
  next(n = 10): NextAction[] {
    const { counts } = this.model.servingTables();
    return topNextActions(this.topicMixture(), counts, this.model.settings.beta, n)
      .map((entry) => ({ action: this.model.vocabulary.word(entry.action), probability: entry.probability }));
  }

  /** tokens consumed (known actions) */
  get length(): number {
    return this.state.position[0];
  }
}
