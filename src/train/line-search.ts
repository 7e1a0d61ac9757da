/**
 * One-dimensional maximisation for the fits of the recency cache and the copy component (cache-fit.ts,
 * copy-fit.ts): golden-section search on an interval, with both ends tried too (a log-likelihood that keeps rising
 * towards an end, e.g. a copy rate of 1, is maximised there).
 */

/** Golden-section steps unless asked otherwise: the bracket shrinks to 0.618^n of its width. */
export const LINE_SEARCH_STEPS = 30;

const INVERSE_GOLDEN = (Math.sqrt(5) - 1) / 2;

/** The x in [low, high] with the largest f(x) that golden-section search finds, and f there. */
export function maximiseOnInterval(
  f: (x: number) => number,
  low: number,
  high: number,
  steps = LINE_SEARCH_STEPS,
): { x: number; value: number } {
  let a = low;
  let b = high;
  let c = b - INVERSE_GOLDEN * (b - a);
  let d = a + INVERSE_GOLDEN * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let i = 0; i < steps; i++) {
    if (fc >= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - INVERSE_GOLDEN * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + INVERSE_GOLDEN * (b - a);
      fd = f(d);
    }
  }
  let best = fc >= fd ? { x: c, value: fc } : { x: d, value: fd };
  for (const end of [low, high]) {
    const value = f(end);
    if (value > best.value) best = { x: end, value };
  }
  return best;
}
