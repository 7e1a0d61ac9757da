/**
 * Cuts sequences into truncated-BPTT windows of B lanes x L steps. Each lane streams through whole sequences
 * one after another: a sequence starts from the zero state with the begin symbol (exactly as the kernels
 * evaluate it), and a long sequence continues in the next window with the state carried over (detached).
 * Training lanes draw sequences from a rotating, seeded cursor (reshuffled each pass) so that repeated calls
 * with a token budget cover the whole corpus; evaluation lanes take sequences in order, once each.
 */
import { SeededRandom } from './seeded-random.js';
import type { WindowData } from './network.js';

export interface SequenceData {
  /** inputs: [T] input symbol source per token (previous-token inputs are read from position t-1). */
  inputs: Int32Array;
  /** targets: [T] the symbol predicted at each token. */
  targets: Int32Array;
  /** offsets: [D+1] sequence d is positions offsets[d] .. offsets[d+1]. */
  offsets: Int32Array;
}

export interface TrainingWindow extends WindowData {
  /** targets: [L*B] target symbol per lane and step (time-major). */
  targets: Int32Array;
  /** weight: [L*B] 1 for a real token, 0 for padding (only evaluation pads, after the data runs out). */
  weight: Float32Array;
  /** sequence: [L*B] which sequence each position belongs to (-1 for padding). */
  sequence: Int32Array;
  /** position: [L*B] the global token position (-1 for padding). */
  position: Int32Array;
  /** tokens: real (non-padding) positions in the window. */
  tokens: number;
}

/** Checks a corpus against the symbol ranges; throws naming the first bad value. */
export function validateSequenceData(data: SequenceData, inputSymbols: number, outputs: number, what: string): void {
  const { inputs, targets, offsets } = data;
  if (!(inputs instanceof Int32Array) || !(targets instanceof Int32Array) || !(offsets instanceof Int32Array)) {
    throw new TypeError(`${what}: inputs, targets and offsets must be Int32Arrays`);
  }
  if (inputs.length !== targets.length) {
    throw new RangeError(
      `${what}: inputs has ${inputs.length} tokens but targets has ${targets.length}: they must align`,
    );
  }
  if (offsets.length < 1 || offsets[0] !== 0 || offsets[offsets.length - 1] !== targets.length) {
    throw new RangeError(`${what}: offsets must start at 0 and end at the token count ${targets.length}`);
  }
  for (let d = 1; d < offsets.length; d++) {
    if (offsets[d]! < offsets[d - 1]!) throw new RangeError(`${what}: offsets decrease at sequence ${d - 1}`);
  }
  const begin = inputSymbols - 1;
  for (let t = 0; t < inputs.length; t++) {
    const x = inputs[t]!;
    if (x < 0 || x >= begin) {
      throw new RangeError(
        `${what}: input symbol ${x} at token ${t} is outside 0..${begin - 1} (symbol ${begin} is reserved for the sequence begin)`,
      );
    }
    const y = targets[t]!;
    if (y < 0 || y >= outputs) throw new RangeError(`${what}: target ${y} at token ${t} is outside 0..${outputs - 1}`);
  }
}

/** Where a training scheduler stands, to continue the same visiting order after a restart (checkpoints). */
export interface SchedulerState {
  /** next index into `order` */
  cursor: number;
  /** the shuffling generator's state (SeededRandom.state32) */
  randomState: number;
  /** order: [D'] the current pass's order of the non-empty sequences */
  order: Int32Array;
  /** lanes: [B][2] each lane's sequence and its next position within it (-1, -1 when idle) */
  lanes: Int32Array;
}

interface Lane {
  sequence: number;
  /** position within the sequence of the lane's next step; -1 when the lane is idle. */
  position: number;
}

export class WindowScheduler {
  readonly lanes: number;
  private readonly begin: number;
  private readonly laneState: Lane[];
  private readonly order: Int32Array;
  private cursor: number;
  private random: SeededRandom | null;

  /**
   * @param lanes B, at most the number of non-empty sequences for training (a lane never waits).
   * @param shuffleSeed training: seed of the rotating cursor; null: evaluation order, each sequence once.
   */
  constructor(
    private data: SequenceData,
    inputSymbols: number,
    lanes: number,
    shuffleSeed: number | null,
  ) {
    this.begin = inputSymbols - 1;
    const nonEmpty: number[] = [];
    for (let d = 0; d + 1 < data.offsets.length; d++) if (data.offsets[d + 1]! > data.offsets[d]!) nonEmpty.push(d);
    this.order = Int32Array.from(nonEmpty);
    this.random = shuffleSeed === null ? null : new SeededRandom(shuffleSeed);
    if (this.random !== null) this.random.shuffle(this.order);
    this.cursor = 0;
    this.lanes =
      shuffleSeed === null ? Math.max(1, Math.min(lanes, this.order.length)) : Math.min(lanes, this.order.length);
    this.laneState = [];
    for (let b = 0; b < this.lanes; b++) this.laneState.push({ sequence: -1, position: -1 });
    for (const lane of this.laneState) this.takeNext(lane);
  }

  /** A copy of a training scheduler's position (evaluation schedulers have nothing worth saving). */
  saveState(): SchedulerState {
    if (this.random === null)
      throw new Error('WindowScheduler.saveState: only a training scheduler (with a shuffle seed) has a state to save');
    const lanes = new Int32Array(2 * this.lanes);
    this.laneState.forEach((lane, b) => {
      lanes[2 * b] = lane.sequence;
      lanes[2 * b + 1] = lane.position;
    });
    return { cursor: this.cursor, randomState: this.random.state32, order: this.order.slice(), lanes };
  }

  /**
   * A training scheduler over `data` continuing exactly from `state` (saved by `saveState` over a corpus with the
   * same offsets); throws a RangeError naming the first value that does not fit this corpus.
   */
  static restore(data: SequenceData, inputSymbols: number, state: SchedulerState): WindowScheduler {
    const B = state.lanes.length / 2;
    if (!Number.isInteger(B) || B < 1) {
      throw new RangeError(
        `WindowScheduler.restore: lanes must hold a (sequence, position) pair per lane, got ${state.lanes.length} values`,
      );
    }
    const scheduler = new WindowScheduler(data, inputSymbols, B, 0);
    const { offsets } = data;
    const fail = (why: string): never => {
      throw new RangeError(`WindowScheduler.restore: ${why}; the saved state belongs to another corpus or batch size`);
    };
    if (scheduler.lanes !== B)
      fail(`${B} lanes were saved but this corpus has only ${scheduler.lanes} non-empty sequences`);
    if (state.order.length !== scheduler.order.length)
      fail(`the order has ${state.order.length} sequences, the corpus ${scheduler.order.length} non-empty ones`);
    const seen = new Uint8Array(offsets.length);
    for (const d of state.order) {
      if (d < 0 || d + 1 >= offsets.length || offsets[d + 1]! <= offsets[d]! || seen[d] === 1)
        fail(`sequence ${d} in the order is empty, repeated or out of range`);
      seen[d] = 1;
    }
    if (!Number.isInteger(state.cursor) || state.cursor < 0 || state.cursor > state.order.length)
      fail(`cursor ${state.cursor} is outside 0..${state.order.length}`);
    for (let b = 0; b < B; b++) {
      const sequence = state.lanes[2 * b]!;
      const position = state.lanes[2 * b + 1]!;
      const idle = sequence === -1 && position === -1;
      if (
        !idle &&
        (sequence < 0 ||
          sequence + 1 >= offsets.length ||
          position < 0 ||
          position >= offsets[sequence + 1]! - offsets[sequence]!)
      ) {
        fail(`lane ${b} is at position ${position} of sequence ${sequence}`);
      }
      scheduler.laneState[b] = { sequence, position };
    }
    scheduler.order.set(state.order);
    scheduler.cursor = state.cursor;
    scheduler.random = SeededRandom.fromState(state.randomState);
    return scheduler;
  }

  /** number of non-empty sequences */
  get sequences(): number {
    return this.order.length;
  }

  /** true when evaluation has consumed every sequence */
  get done(): boolean {
    return this.laneState.every((lane) => lane.position < 0);
  }

  /** Training data may be re-sampled between calls (new topics): same sequence lengths, new values. */
  replaceData(data: SequenceData): void {
    this.data = data;
  }

  private takeNext(lane: Lane): void {
    if (this.cursor >= this.order.length) {
      if (this.random === null) {
        lane.sequence = -1;
        lane.position = -1;
        return;
      }
      this.random.shuffle(this.order);
      this.cursor = 0;
    }
    lane.sequence = this.order[this.cursor++]!;
    lane.position = 0;
  }

  next(steps: number): TrainingWindow {
    const B = this.lanes;
    const size = steps * B;
    const window: TrainingWindow = {
      lanes: B,
      steps,
      inputs: new Int32Array(size),
      keep: new Float32Array(size),
      stepHasReset: new Uint8Array(steps),
      targets: new Int32Array(size),
      weight: new Float32Array(size),
      sequence: new Int32Array(size).fill(-1),
      position: new Int32Array(size).fill(-1),
      tokens: 0,
    };
    const { inputs, targets, offsets } = this.data;
    for (let t = 0; t < steps; t++) {
      for (let b = 0; b < B; b++) {
        const lane = this.laneState[b]!;
        const at = t * B + b;
        if (lane.position < 0) {
          // padding: feed the begin symbol from a zero state; weight 0 keeps it out of losses and sums
          window.inputs[at] = this.begin;
          window.keep[at] = 0;
          window.stepHasReset[t] = 1;
          continue;
        }
        const start = offsets[lane.sequence]!;
        const position = start + lane.position;
        if (lane.position === 0) {
          window.inputs[at] = this.begin;
          window.keep[at] = 0;
          window.stepHasReset[t] = 1;
        } else {
          window.inputs[at] = inputs[position - 1]!;
          window.keep[at] = 1;
        }
        window.targets[at] = targets[position]!;
        window.weight[at] = 1;
        window.sequence[at] = lane.sequence;
        window.position[at] = position;
        window.tokens++;
        lane.position++;
        if (start + lane.position >= offsets[lane.sequence + 1]!) this.takeNext(lane);
      }
    }
    return window;
  }
}
