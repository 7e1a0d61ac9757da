/**
 * The copy component of the generator (`lla generate --copy-rate R --copy-decay G`, issue 13): with probability R
 * (once the sequence has an earlier action) the action repeats one of the sequence's recent actions, drawn in
 * proportion to their decayed counts c_t(w) = sum_j G^(j-1) [w_{t-j} = w] over the last `window` actions (the
 * definition the models fit, src/eval/history.ts), instead of coming from phi of its topic. The topic z_t is drawn
 * from the dynamics either way.
 */
import type { GeneratorRandom } from './random.js';

/** The action copied at position `position` from tokens[start .. position): one uniform draw, newest first. */
export function drawCopiedAction(
  random: GeneratorRandom,
  tokens: Int32Array,
  start: number,
  position: number,
  decay: number,
  window: number,
): number {
  const first = Math.max(start, position - window);
  let total = 0;
  let weight = 1;
  for (let i = position - 1; i >= first; i -= 1) {
    total += weight;
    weight *= decay;
  }
  const u = random.uniform() * total;
  let cumulative = 0;
  weight = 1;
  for (let i = position - 1; i > first; i -= 1) {
    cumulative += weight;
    if (u < cumulative) return tokens[i]!;
    weight *= decay;
  }
  return tokens[first]!;
}
