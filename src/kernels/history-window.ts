/**
 * How long the copy component's history is (src/kernels/types.ts defines the history): the window follows from
 * the decay, keeping the actions whose weight would still pass HISTORY_WEIGHT_FLOOR of the newest's, at most
 * MAX_HISTORY_WINDOW (a filter scans the window per token, and a serving session keeps it). One definition for
 * the models (src/eval/history.ts) and the generator (src/generate/copy.ts).
 */
import { KERNEL_LIMITS } from './types.js';

/** Weights below this share of the newest action's are left out of the history (they change no ranking). */
export const HISTORY_WEIGHT_FLOOR = 1e-6;
/** The longest history kept. */
export const MAX_HISTORY_WINDOW = 4096;

/** The window of a decay: the smallest n with decay^n <= HISTORY_WEIGHT_FLOOR, at most MAX_HISTORY_WINDOW. */
export function historyWindow(decay: number): number {
  if (!(decay >= 0 && decay <= 1)) throw new RangeError(`historyWindow: decay must be in [0, 1], got ${decay}`);
  if (decay === 0) return 1;
  if (decay === 1) return MAX_HISTORY_WINDOW;
  const window = Math.ceil(Math.log(HISTORY_WEIGHT_FLOOR) / Math.log(decay));
  return Math.max(1, Math.min(MAX_HISTORY_WINDOW, KERNEL_LIMITS.copyWindow.max, window));
}
