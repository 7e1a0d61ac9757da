/**
 * What the two LSTM trainers (TF.js: sequence-model.ts; kernels: kernel-trainer.ts) share besides the network:
 * which window schedule a training call continues, and the trainer state saved in checkpoints, so that a state
 * written by either engine resumes under the other.
 * - A call on the same corpus (offsets) and batch continues the lanes and carried states of the previous call; a
 *   new corpus starts a new WindowScheduler seeded from the model seed and how many corpora came before.
 * - A restored position is taken up by the next call on its corpus and batch (the carried states come with it).
 */
import { validateSequenceData, WindowScheduler, type SchedulerState, type SequenceData } from './sequence-windows.js';
import { parameterCount, type NetworkShape } from './weights.js';

export interface TrainArgs extends SequenceData {
  /** train on (at least) this many tokens, in whole windows. */
  tokenBudget: number;
  /** truncated BPTT window length L. */
  bptt: number;
  /** sequences per minibatch B (lanes). */
  batch: number;
  /** checked between windows (the kernel engine: between groups of windows): once aborted, the call returns
   * early with `interrupted: true` (the weights keep the windows that finished, so the caller can still export
   * and checkpoint them). */
  signal?: AbortSignal;
}

export interface TrainResult {
  /** mean cross-entropy (nats per token) over the tokens trained on in this call; NaN if no window ran. */
  meanLoss: number;
  tokens: number;
  seconds: number;
  windows: number;
  /** the signal stopped training before the budget was spent */
  interrupted: boolean;
}

/** Throws a RangeError naming the first argument of a training call that does not fit a network of `shape`. */
export function checkTrainArgs(args: TrainArgs, shape: NetworkShape): void {
  for (const name of ['tokenBudget', 'bptt', 'batch'] as const) {
    const value = args[name];
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`LSTM train: ${name} must be a positive integer, got ${value}`);
  }
  validateSequenceData(args, shape.inputSymbols, shape.outputs, 'LSTM train');
}

/**
 * Trains until the call's token budget is spent or its signal aborts (checked before each `step`): `step` trains
 * the next window or windows and reports their tokens and summed loss (loss x tokens). `started`: performance.now()
 * when the call began.
 */
export async function trainOnBudget(
  args: TrainArgs,
  started: number,
  step: (tokensSoFar: number) => Promise<{ tokens: number; lossSum: number; windows: number }>,
): Promise<TrainResult> {
  let tokens = 0;
  let lossSum = 0;
  let windows = 0;
  let interrupted = false;
  while (tokens < args.tokenBudget) {
    if (args.signal?.aborted === true) {
      interrupted = true;
      break;
    }
    const done = await step(tokens);
    tokens += done.tokens;
    lossSum += done.lossSum;
    windows += done.windows;
  }
  return {
    meanLoss: tokens > 0 ? lossSum / tokens : Number.NaN,
    tokens,
    seconds: (performance.now() - started) / 1000,
    windows,
    interrupted,
  };
}

/**
 * Everything besides the weights that the next training window depends on: with it a run restarted from a
 * checkpoint trains exactly as the uninterrupted run would (same engine and backend). Plain values, for checkpoints.
 */
export interface TrainerState {
  /** Adam's step count and its bias-correction powers beta1^(steps+1), beta2^(steps+1) as TF.js holds them
   * (float32 products, not recomputable bit for bit by pow); null before the first training window. */
  adam: { steps: number; beta1Power: number; beta2Power: number } | null;
  /** adamMoments: [2][P] Adam's first moments of every parameter (PARAMETER_ORDER, P = parameterCount), then
   * the second moments; empty when `adam` is null. */
  adamMoments: Float32Array;
  /** training corpora streamed so far (seeds the next new corpus's visiting order) */
  schedulersCreated: number;
  /** the training scheduler's position; null before the first training call */
  scheduler: {
    /** offsets: [D+1] the corpus it streams (a later call on other offsets starts a new scheduler) */
    offsets: Int32Array;
    /** the batch size B the training calls asked for (lanes may be fewer on a corpus of few sequences) */
    batch: number;
    cursor: number;
    randomState: number;
    /** order: [D'] and lanes: [B][2] as in SchedulerState */
    order: Int32Array;
    lanes: Int32Array;
    /** hidden, cell: [B][H] the lanes' states carried into the next window */
    hidden: Float32Array;
    cell: Float32Array;
  } | null;
}

/** A scheduler's position on its corpus, without the carried states. */
export interface StreamPosition {
  /** offsets: [D+1] of the corpus */
  offsets: Int32Array;
  batch: number;
  state: SchedulerState;
}

export class TrainingStream {
  private scheduler: WindowScheduler | null = null;
  /** offsets and batch of the corpus the scheduler streams, to tell whether a new call continues it */
  private offsets: Int32Array | null = null;
  private batch = 0;
  private created = 0;
  /** a restored position, taken up by the next call when its corpus has these offsets and this batch */
  private pending: StreamPosition | null = null;

  constructor(
    private readonly inputSymbols: number,
    private readonly seed: number,
  ) {}

  /** corpora streamed so far */
  get schedulersCreated(): number {
    return this.created;
  }

  /**
   * The scheduler a training call on `data` continues. `fresh`: its lanes start from the zero state (a new
   * corpus); otherwise they carry the states of the previous call (or of the restored position).
   */
  schedulerFor(data: SequenceData, batch: number): { scheduler: WindowScheduler; fresh: boolean } {
    const pending = this.pending;
    this.pending = null;
    if (pending !== null && pending.batch === batch && equalArrays(pending.offsets, data.offsets)) {
      this.scheduler = WindowScheduler.restore(data, this.inputSymbols, pending.state);
      this.offsets = pending.offsets;
      this.batch = batch;
      return { scheduler: this.scheduler, fresh: false };
    }
    if (
      this.scheduler !== null &&
      this.batch === batch &&
      this.offsets !== null &&
      equalArrays(this.offsets, data.offsets)
    ) {
      this.scheduler.replaceData(data);
      return { scheduler: this.scheduler, fresh: false };
    }
    // a new corpus: seed the cursor from the model seed and how many corpora came before (reproducible)
    this.scheduler = new WindowScheduler(
      data,
      this.inputSymbols,
      batch,
      (this.seed ^ Math.imul(++this.created, 0x2545f491)) | 0,
    );
    this.offsets = data.offsets.slice();
    this.batch = batch;
    return { scheduler: this.scheduler, fresh: true };
  }

  /** Forget the position (new weights); the count of corpora streamed stays. */
  reset(): void {
    this.scheduler = null;
    this.offsets = null;
    this.pending = null;
  }

  /** Where training stands (a copy), null before the first call. */
  position(): StreamPosition | null {
    if (this.pending !== null) {
      const { offsets, batch, state } = this.pending;
      return {
        offsets: offsets.slice(),
        batch,
        state: { ...state, order: state.order.slice(), lanes: state.lanes.slice() },
      };
    }
    if (this.scheduler === null || this.offsets === null) return null;
    return { offsets: this.offsets.slice(), batch: this.batch, state: this.scheduler.saveState() };
  }

  /** Continue from a saved trainer state (checked by checkTrainerState). */
  restore(state: TrainerState): void {
    this.created = state.schedulersCreated;
    this.reset();
    if (state.scheduler !== null) {
      const { offsets, batch, cursor, randomState, order, lanes } = state.scheduler;
      this.pending = {
        offsets: offsets.slice(),
        batch,
        state: { cursor, randomState, order: order.slice(), lanes: lanes.slice() },
      };
    }
  }
}

/** Throws a RangeError naming what of a trainer state does not fit a network of `shape`. */
export function checkTrainerState(state: TrainerState, shape: NetworkShape): void {
  const P = parameterCount(shape);
  const H = shape.hidden;
  if (!Number.isInteger(state.schedulersCreated) || state.schedulersCreated < 0) {
    throw new RangeError(
      `LSTM trainer state: schedulersCreated must be a non-negative integer, got ${state.schedulersCreated}`,
    );
  }
  if (state.adam !== null) {
    const { steps, beta1Power, beta2Power } = state.adam;
    if (
      !Number.isInteger(steps) ||
      steps < 1 ||
      !(beta1Power > 0 && beta1Power < 1) ||
      !(beta2Power > 0 && beta2Power < 1)
    ) {
      throw new RangeError(
        `LSTM trainer state: Adam's steps ${steps} and powers ${beta1Power}, ${beta2Power} are not a saved Adam state`,
      );
    }
    if (state.adamMoments.length !== 2 * P) {
      throw new RangeError(
        `LSTM trainer state: ${state.adamMoments.length} Adam moment values for ${P} parameters (expected ${2 * P}); it was saved for another network size`,
      );
    }
  }
  if (state.scheduler !== null) {
    const { offsets, batch, lanes, hidden, cell } = state.scheduler;
    const B = lanes.length / 2;
    if (!Number.isInteger(batch) || batch < B || hidden.length !== B * H || cell.length !== B * H) {
      throw new RangeError(
        `LSTM trainer state: carried states hold ${hidden.length} and ${cell.length} values for ${B} lanes ` +
          `of ${H} units (batch ${batch})`,
      );
    }
    // check the position against the corpus it was saved for now, not at the next training call
    WindowScheduler.restore(
      { inputs: new Int32Array(0), targets: new Int32Array(0), offsets },
      shape.inputSymbols,
      state.scheduler,
    );
  }
}

function equalArrays(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
