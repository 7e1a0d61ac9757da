/**
 * The decayed history of a sequence, shared by the recency cache (`--model cache`, cache.ts) and the copy
 * component of the topic models (copy.ts, and the kernels' filter: src/kernels/types.ts has the definition):
 *
 *   c_t(w) = sum_{j=1..min(t, window)} decay^(j-1) [w_{t-j} = w],   C_t = sum_w c_t(w)
 *
 * the last `window` actions before position t, the newest weighing 1. The window follows from the decay
 * (historyWindow, src/kernels/history-window.ts).
 */
export { HISTORY_WEIGHT_FLOOR, MAX_HISTORY_WINDOW, historyWindow } from '../kernels/history-window.js';

/** The decayed counts of the distinct recent actions, and their total. */
export interface HistoryCounts {
  /** actions: [n] the distinct actions among the last min(window, length) of the history, newest first */
  actions: Int32Array;
  /** counts: [n] c_t(w) of each: sum over its occurrences j = 1, 2, ... back of decay^(j-1) */
  counts: Float64Array;
  /** C_t = sum of the weights of the actions scanned (0 for an empty history) */
  total: number;
}

/**
 * c_t and C_t after the actions history[start .. end): the last min(window, end - start) of them, newest first,
 * the weight starting at 1 and multiplied by `decay` after each (the kernels' scan, so the numbers agree). With
 * `blocks` (repeat blocks, src/train/repeats.ts) the history is that of the blocks: a token equal to the one before
 * it is skipped, as the kernels' filter never records it.
 */
export function historyCounts(
  history: ArrayLike<number>,
  start: number,
  end: number,
  decay: number,
  window: number,
  blocks = false,
): HistoryCounts {
  const index = new Map<number, number>();
  const actions: number[] = [];
  const counts: number[] = [];
  let weight = 1;
  let total = 0;
  for (let i = end - 1, taken = 0; i >= start && taken < window; i--) {
    if (blocks && i > start && history[i] === history[i - 1]) continue;
    taken++;
    const action = history[i];
    let slot = index.get(action);
    if (slot === undefined) {
      index.set(action, (slot = actions.length));
      actions.push(action);
      counts.push(0);
    }
    counts[slot] += weight;
    total += weight;
    weight *= decay;
  }
  return { actions: Int32Array.from(actions), counts: Float64Array.from(counts), total };
}

/**
 * The same history walked forward in O(1) per action (fits and the cache scan every position of long sequences):
 * count(w) and total are c_t(w) and C_t before the next push. Each action keeps its count as of the step it last
 * changed; reading it decays it to now. The numbers equal historyCounts' up to rounding.
 */
export class DecayedHistory {
  readonly decay: number;
  readonly window: number;
  /** value: [V] c(w) as of step stamp[w]; stamp: [V] that step; epoch: [V] the sequence it belongs to */
  private readonly value: Float64Array;
  private readonly stamp: Int32Array;
  private readonly epoch: Int32Array;
  /** ring: [window] the last actions, step s at s mod window */
  private readonly ring: Int32Array;
  /** decay^(window - 1): the weight of the action that leaves the window */
  private readonly oldestWeight: number;
  private sequence = 0;
  /** actions pushed in this sequence (= t) */
  private steps = 0;
  total = 0;

  constructor(vocabularySize: number, decay: number, window: number) {
    this.decay = decay;
    this.window = window;
    this.value = new Float64Array(vocabularySize);
    this.stamp = new Int32Array(vocabularySize);
    this.epoch = new Int32Array(vocabularySize);
    this.ring = new Int32Array(window);
    this.oldestWeight = decay ** (window - 1);
  }

  /** Starts a new sequence (an empty history). */
  reset(): void {
    this.sequence++;
    this.steps = 0;
    this.total = 0;
  }

  /** c_t(w) now. */
  count(w: number): number {
    if (this.epoch[w] !== this.sequence) return 0;
    const age = this.steps - this.stamp[w];
    return age === 0 ? this.value[w] : this.value[w] * this.decay ** age;
  }

  private set(w: number, value: number): void {
    this.value[w] = value;
    this.stamp[w] = this.steps;
    this.epoch[w] = this.sequence;
  }

  /** Appends action w (position t becomes t + 1). */
  push(w: number): void {
    const full = this.steps >= this.window;
    if (full) {
      // the action of position t - window leaves: its weight decay^(window-1) comes off first
      const leaving = this.ring[this.steps % this.window];
      this.set(leaving, Math.max(0, this.count(leaving) - this.oldestWeight));
      this.total = Math.max(0, this.total - this.oldestWeight);
    }
    const before = this.count(w);
    this.steps++;
    this.total = this.decay * this.total + 1;
    this.set(w, this.decay * before + 1);
    this.ring[(this.steps - 1) % this.window] = w;
  }
}
