/**
 * The stochastic-EM schedule (SPEC section 3). Each iteration: word proposals (alias tables) from the previous
 * sweep's counts, one E-step sweep in the kernel (topics double-buffered: read `topicsPrev`, write
 * `topicsNext`), counts rebuilt from the new topics, then the LSTM M-step over a token budget (on the kernels'
 * fused trainer or on TF.js: the LstmTrainer seam), whose weights go back to the kernel as typed arrays.
 */
import {
  transitionCells,
  type AliasTables,
  type CellWeights,
  type CountTables,
  type Kernel,
  type ProposalSchedule,
  type SweepMode,
} from '../kernels/types.js';
import { allocAlias, allocCounts, groupTokensByAction, toKernelInt32 } from '../kernels/buffers.js';
import { fallbackMayRun, type LstmEngine } from './settings.js';
import { hmmFoundStructure, unigramLogLikelihoodPerToken } from './start-check.js';

export type ModelVariant = 'lla' | 'word-lla' | 'lda';

export interface SemSettings {
  model: ModelVariant;
  numTopics: number;
  vocabularySize: number;
  /** total E-step sweeps, the lda initialisation sweeps included */
  iterations: number;
  /** the first `initLdaSweeps` sweeps run in lda mode (`--init lda:N`) */
  initLdaSweeps: number;
  /** the first `initHmmSweeps` sweeps run in hmm mode (`--init hmm:N`), its transition table of `initHmmOrder` */
  initHmmSweeps: number;
  initHmmOrder: number;
  /** after first-order hmm sweeps that found no structure (start-check.ts), this many second-order hmm sweeps from
   * random topics, the run's iterations extended by as many (0: never) */
  initFallbackSweeps: number;
  mhSteps: number;
  /** the model's sweeps draw exactly; initExact: the lda and hmm initialisation sweeps do */
  exact: boolean;
  initExact: boolean;
  /** lla's sweeps multiply each target by the next topic's probability (the hmm sweeps always do) */
  lookahead: boolean;
  proposals: ProposalSchedule;
  alpha: number;
  beta: number;
  sequenceSmoothing: number;
  /** LSTM M-step: tokens per iteration (resolved: settings.ts lstmTokenBudget), truncated-BPTT window, sequences
   * per minibatch */
  lstmTokens: number;
  bptt: number;
  batch: number;
  seed: number;
  threads: number;
}

/**
 * The M-step engine, the one seam between the SEM loop and whatever trains the LSTM: train on the sampled topic
 * sequences for a token budget, then hand the weights to the kernel in its layout. The kernels' fused trainer
 * (src/lstm/kernel-trainer.ts) and the TF.js topic LSTM (src/lstm/topic-lstm.ts) plug in here.
 */
export interface LstmTrainer {
  /** which engine trains: recorded in each iteration's record */
  readonly engine: LstmEngine;
  /** inputs: [T] lla: the sampled topics, word-lla: the actions; targets: [T] the sampled topics; offsets: [D+1] */
  train(args: {
    inputs: Int32Array;
    targets: Int32Array;
    offsets: Int32Array;
    tokenBudget: number;
    bptt: number;
    batch: number;
  }): Promise<{ meanLoss: number; tokens: number; seconds: number }>;
  cellWeights(): Promise<CellWeights>;
}

export interface TrainingData {
  /** tokens: [T] action ids; offsets: [D+1] sequence starts */
  tokens: Int32Array;
  offsets: Int32Array;
}

export interface IterationRecord {
  iteration: number;
  /** the kernel mode this sweep ran in (lda or hmm during initialisation) */
  mode: SweepMode;
  /** hmm sweeps: the order of their transition table (1 or 2); older records lack it */
  hmmOrder?: number;
  /** the iterations this run will take as planned after this one: --iterations, plus the second-order fallback's
   * sweeps once it is taken; older records lack it */
  plannedIterations?: number;
  seconds: number;
  estepSeconds: number;
  mstepSeconds: number;
  estepTokensPerSecond: number;
  mstepTokensPerSecond: number | null;
  /** the engine of this iteration's M-step (kernel or tfjs); null without one. Older records lack it. */
  lstmEngine?: LstmEngine | null;
  /** complete-data log-likelihood per token: log phi_{z,w} plus the topic model's log p(z_t | history) */
  logLikelihoodPerToken: number;
  logPhiPerToken: number;
  /** mean next-topic cross-entropy of the LSTM M-step (nats), null when no LSTM was trained */
  lstmLoss: number | null;
  acceptanceRate: number | null;
  heldOutPerplexity?: number;
  /** a `--lookahead auto` run's own iterations: which of its two runs the record belongs to (lookahead-choice.ts);
   * absent elsewhere */
  lookahead?: boolean;
  /** on the run's last record (and on the last of a `--lookahead auto` run's first run): why training stopped there
   * (convergence.ts) */
  stop?: StopRecord;
}

/** Why a training run stopped, as its last history record keeps it. */
export interface StopRecord {
  /** 'iterations': all --iterations ran; 'converged': --tol was met; 'interrupted': a signal (Ctrl-C) */
  reason: 'iterations' | 'converged' | 'interrupted';
  /** the relative improvement of the training log-likelihood per token the --tol test last saw (null: not run) */
  improvement: number | null;
  tol: number;
}

/** lda's complete-data topic term: sum_d sum_t log((n_{d,z_t}^{<t} + alpha) / (t + K alpha)), left to right. */
function ldaTopicLogLikelihood(topics: Int32Array, offsets: Int32Array, numTopics: number, alpha: number): number {
  const perSequence = new Int32Array(numTopics);
  let total = 0;
  for (let d = 0; d + 1 < offsets.length; d++) {
    const begin = offsets[d];
    const end = offsets[d + 1];
    for (let t = begin; t < end; t++) {
      total += Math.log((perSequence[topics[t]] + alpha) / (t - begin + numTopics * alpha));
      perSequence[topics[t]]++;
    }
    for (let t = begin; t < end; t++) perSequence[topics[t]] = 0;
  }
  return total;
}

/** The hmm's pseudo-count of every transition (the kernel needs targets > 0; rows hold thousands of transitions). */
export const HMM_TRANSITION_SMOOTHING = 0.1;

/** The hmm's complete-data topic term: sum_d sum_t log p(z_t | z_{t-1}) (order 1) or p(z_t | z_{t-2}, z_{t-1})
 * (order 2), K standing for the begin symbol (the layout of kernel.transitionTable). */
function hmmTopicLogLikelihood(
  topics: Int32Array,
  offsets: Int32Array,
  numTopics: number,
  transitions: Float64Array,
  order: number,
): number {
  const K = numTopics;
  let total = 0;
  for (let d = 0; d + 1 < offsets.length; d++) {
    let previous = K;
    let beforePrevious = K;
    for (let t = offsets[d]; t < offsets[d + 1]; t++) {
      const row = order === 2 ? beforePrevious * (K + 1) + previous : previous;
      total += Math.log(transitions[row * K + topics[t]]);
      beforePrevious = previous;
      previous = topics[t];
    }
  }
  return total;
}

/**
 * One training run's sampler state. The driver (trainer.ts) owns it; it is plain typed arrays so checkpoints can
 * save it and a resumed run continues from the same assignments and random streams.
 */
export class SemState {
  readonly kernel: Kernel;
  readonly settings: SemSettings;
  readonly data: TrainingData;
  readonly wordOffsets: Int32Array;
  readonly wordTokens: Int32Array;
  /** topics: [T] the latest sweep's assignments (the next sweep's start states) */
  topics: Int32Array;
  /** spareTopics: [T] the buffer the next sweep writes */
  private spareTopics: Int32Array;
  /** counts: of `topics`, rebuilt after each sweep */
  readonly counts: CountTables;
  readonly alias: AliasTables;
  /** weights the kernel's LSTM cell uses; undefined until the first M-step (or random for a cold lla start) */
  weights: CellWeights | undefined;
  /** transitions: [(K+1)^order][K] the hmm's table (kernel.transitionTable's layout), re-estimated from `topics`
   * before each hmm sweep; allocated at the first sweep of each order */
  private transitions: Float64Array | undefined;
  private transitionsOrder = 0;
  /** the first-order hmm start found no structure, so the second-order fallback's sweeps run (or ran): decided
   * after the last first-order hmm sweep; a resumed run restores it from its history (plannedIterations) */
  fallbackTaken = false;
  /** fallbackStartTopics: [T] the topics of the last first-order hmm sweep, kept while the fallback runs: where it
   * finds nothing either, the model continues from them (its random topics would only be worse). Checkpoints save it. */
  fallbackStartTopics: Int32Array | undefined;
  /** the training tokens' unigram log-likelihood per token (start-check.ts), computed once */
  private unigramValue: number | undefined;
  /** iterations completed */
  iteration = 0;
  nonZeros = 0;

  constructor(kernel: Kernel, settings: SemSettings, data: TrainingData, initialTopics?: Int32Array) {
    this.kernel = kernel;
    this.settings = settings;
    const tokens = toKernelInt32(kernel, data.tokens);
    const offsets = toKernelInt32(kernel, data.offsets);
    this.data = { tokens, offsets };
    const grouped = groupTokensByAction(tokens, settings.vocabularySize, (n) => kernel.allocInt32(n));
    this.wordOffsets = grouped.wordOffsets;
    this.wordTokens = grouped.wordTokens;
    this.topics = kernel.allocInt32(tokens.length);
    this.spareTopics = kernel.allocInt32(tokens.length);
    if (initialTopics) {
      if (initialTopics.length !== tokens.length) {
        throw new Error(`initial topics have ${initialTopics.length} entries for ${tokens.length} tokens`);
      }
      this.topics.set(initialTopics);
    } else {
      kernel.randomTopics(offsets, this.topics, settings.numTopics, settings.seed);
    }
    const capacity = Math.min(tokens.length, settings.vocabularySize * settings.numTopics);
    this.counts = allocCounts(kernel, settings.vocabularySize, settings.numTopics, capacity);
    this.alias = allocAlias(kernel, settings.vocabularySize, settings.numTopics, capacity);
    this.rebuildCounts();
  }

  /** lla's E-step from the next sweep on: with or without the lookahead factor, drawing exactly or by MH (the two
   * runs of `--lookahead auto`, lookahead-choice.ts) */
  useLookahead(lookahead: boolean, exact: boolean): void {
    this.settings.lookahead = lookahead;
    this.settings.exact = exact;
  }

  get tokenCount(): number {
    return this.data.tokens.length;
  }

  rebuildCounts(): void {
    this.nonZeros = this.kernel.buildCounts(
      this.data.tokens,
      this.wordOffsets,
      this.wordTokens,
      this.topics,
      this.settings.numTopics,
      this.counts,
      this.settings.threads,
    );
  }

  /** the iterations of this run: --iterations, plus the second-order fallback's sweeps once it is taken */
  get plannedIterations(): number {
    return this.settings.iterations + (this.fallbackTaken ? this.settings.initFallbackSweeps : 0);
  }

  /** the hmm sweeps of this run: the initialisation's, then the fallback's once it is taken */
  private get hmmSweeps(): number {
    return this.settings.initHmmSweeps + (this.fallbackTaken ? this.settings.initFallbackSweeps : 0);
  }

  /** the kernel mode of iteration `iteration` (0-based) */
  modeOf(iteration: number): SweepMode {
    const { model, initLdaSweeps } = this.settings;
    if (model === 'lda' || iteration < initLdaSweeps) return 'lda';
    return iteration < this.hmmSweeps ? 'hmm' : model;
  }

  /** the order of the hmm's transition table at hmm iteration `iteration` (0-based): the fallback's are second-order */
  hmmOrderOf(iteration: number): number {
    return iteration < this.settings.initHmmSweeps ? this.settings.initHmmOrder : 2;
  }

  /** Whether iteration `iteration` (0-based) ends with an LSTM M-step (every LSTM iteration, and the last
   * initialisation sweep: the LSTM's first M-step trains on the initialisation's topics). */
  trainsLstmAfter(iteration: number): boolean {
    const { model, initLdaSweeps } = this.settings;
    return model !== 'lda' && iteration + 1 >= Math.max(initLdaSweeps, this.hmmSweeps);
  }

  /** The start check and the fallback's end, after hmm sweep `iteration` (0-based) with complete-data log-likelihood
   * per token `logLikelihoodPerToken`: after the last first-order sweep, a start that found no structure takes the
   * fallback (keeping its topics); after the fallback's last sweep, one that found none either gives them back. */
  private afterHmmSweep(iteration: number, logLikelihoodPerToken: number): void {
    const { initHmmSweeps, initHmmOrder, initFallbackSweeps, vocabularySize, numTopics } = this.settings;
    if (!fallbackMayRun(initHmmOrder, initFallbackSweeps, numTopics)) return;
    const lastFirstOrder = iteration + 1 === initHmmSweeps && !this.fallbackTaken;
    const lastFallback = this.fallbackTaken && iteration + 1 === this.hmmSweeps;
    if (!lastFirstOrder && !lastFallback) return;
    this.unigramValue ??= unigramLogLikelihoodPerToken(this.data.tokens, vocabularySize);
    if (hmmFoundStructure(logLikelihoodPerToken, this.unigramValue)) {
      this.fallbackStartTopics = undefined;
    } else if (lastFirstOrder) {
      this.fallbackTaken = true;
      this.fallbackStartTopics = Int32Array.from(this.topics);
    } else if (this.fallbackStartTopics) {
      this.topics.set(this.fallbackStartTopics);
      this.rebuildCounts();
      this.fallbackStartTopics = undefined;
    }
  }

  /** One SEM iteration, never cut short (stops happen between iterations). `lstm` is required for lla and word-lla. */
  async step(lstm: LstmTrainer | null): Promise<IterationRecord> {
    const settings = this.settings;
    const iteration = this.iteration;
    const mode = this.modeOf(iteration);
    const started = performance.now();
    const cellMode = mode === 'lla' || mode === 'word-lla';
    if (cellMode && this.weights === undefined) {
      if (!lstm) throw new Error(`the ${mode} model needs its LSTM`);
      this.weights = await lstm.cellWeights();
    }
    const hmmOrder = this.hmmOrderOf(iteration);
    if (mode === 'hmm' && iteration === settings.initHmmSweeps) {
      // the fallback starts from random topics, as --init hmm2:N does: from the first-order start's topics (a fixed
      // point at the unigram) it left the unigram later or not at all (bench/RESULTS.md)
      this.kernel.randomTopics(this.data.offsets, this.topics, settings.numTopics, settings.seed);
      this.rebuildCounts();
    }
    if (mode === 'hmm') {
      if (this.transitionsOrder !== hmmOrder) {
        this.transitions = this.kernel.allocFloat64(transitionCells(settings.numTopics, hmmOrder));
        this.transitionsOrder = hmmOrder;
      }
      this.kernel.transitionTable(
        this.data.offsets,
        this.topics,
        settings.numTopics,
        HMM_TRANSITION_SMOOTHING,
        this.transitions!,
        hmmOrder,
      );
    }
    this.kernel.buildAlias(this.counts, settings.numTopics, settings.beta, this.alias, settings.threads);
    const initialising = mode !== settings.model;
    const sweep = await this.kernel.sweep({
      mode,
      exact: initialising ? settings.initExact : settings.exact,
      mhSteps: settings.mhSteps,
      proposals: settings.proposals,
      numTopics: settings.numTopics,
      vocabularySize: settings.vocabularySize,
      tokens: this.data.tokens,
      offsets: this.data.offsets,
      topicsPrev: this.topics,
      topicsNext: this.spareTopics,
      counts: this.counts,
      alias: this.alias,
      beta: settings.beta,
      alpha: settings.alpha,
      sequenceSmoothing: settings.sequenceSmoothing,
      weights: cellMode ? this.weights : undefined,
      ...(mode === 'hmm' ? { transitions: this.transitions, transitionOrder: hmmOrder } : {}),
      lookahead: mode === 'hmm' || (mode === 'lla' && settings.lookahead),
      seed: settings.seed,
      iteration,
      threads: settings.threads,
    });
    [this.topics, this.spareTopics] = [this.spareTopics, this.topics];
    this.rebuildCounts();
    const estepSeconds = (performance.now() - started) / 1000;
    const tokens = this.tokenCount;
    const logPhiPerToken = sweep.logPhi / Math.max(1, tokens);
    // the hmm's topic term needs no M-step: known before it, so that the start check decides whether one runs now
    const hmmTopicTerm =
      mode === 'hmm'
        ? hmmTopicLogLikelihood(this.topics, this.data.offsets, settings.numTopics, this.transitions!, hmmOrder) /
          Math.max(1, tokens)
        : null;
    if (hmmTopicTerm !== null) this.afterHmmSweep(iteration, logPhiPerToken + hmmTopicTerm);

    let lstmLoss: number | null = null;
    let mstepSeconds = 0;
    let mstepTokens = 0;
    let engine: LstmEngine | null = null;
    if (this.trainsLstmAfter(iteration) && lstm) {
      engine = lstm.engine;
      const mstepStarted = performance.now();
      const inputs = settings.model === 'word-lla' ? this.data.tokens : this.topics;
      const result = await lstm.train({
        inputs,
        targets: this.topics,
        offsets: this.data.offsets,
        tokenBudget: settings.lstmTokens,
        bptt: settings.bptt,
        batch: settings.batch,
      });
      this.weights = await lstm.cellWeights();
      lstmLoss = result.meanLoss;
      mstepTokens = result.tokens;
      mstepSeconds = (performance.now() - mstepStarted) / 1000;
    }
    let topicTerm: number;
    if (hmmTopicTerm !== null) {
      topicTerm = hmmTopicTerm;
    } else if (mode === 'lda' || lstmLoss === null) {
      topicTerm =
        ldaTopicLogLikelihood(this.topics, this.data.offsets, settings.numTopics, settings.alpha) / Math.max(1, tokens);
    } else {
      topicTerm = -lstmLoss;
    }
    this.iteration++;
    return {
      iteration: this.iteration,
      mode,
      ...(mode === 'hmm' ? { hmmOrder } : {}),
      plannedIterations: this.plannedIterations,
      seconds: (performance.now() - started) / 1000,
      estepSeconds,
      mstepSeconds,
      estepTokensPerSecond: tokens / Math.max(1e-9, estepSeconds),
      mstepTokensPerSecond: mstepTokens > 0 ? mstepTokens / Math.max(1e-9, mstepSeconds) : null,
      lstmEngine: engine,
      logLikelihoodPerToken: logPhiPerToken + topicTerm,
      logPhiPerToken,
      lstmLoss,
      acceptanceRate: sweep.proposalsMade > 0 ? sweep.proposalsAccepted / sweep.proposalsMade : null,
    };
  }
}
