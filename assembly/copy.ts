// The copy component of the particle filter (issue 13; the definition both backends share is in
// src/kernels/types.ts): native/copy.cc, operation for operation, so that the two backends give the same doubles
// (WebAssembly has no fused multiply-add, and the native file is compiled without them).

import { FILTER_COPY_DECAY, FILTER_COPY_MASS, FILTER_COPY_RATE, FILTER_COPY_WINDOW } from './layout';

/**
 * Replaces phi (f64 [K], phi_{k,action} of the current action) by lambda_{t,k} c_t(action) / C_t +
 * (1 - lambda_{t,k}) phi_k, reading the actions of the positions before `position` from the ring `history`
 * (i32 [window], position p at index p mod window). Leaves phi as it is while the history is empty.
 */
export function mixCopy(params: usize, history: usize, position: i32, action: i32, phi: usize, K: i32): void {
  const window = load<i32>(params + FILTER_COPY_WINDOW);
  const n = min(position, window);
  if (n == 0) return;
  const decay = load<f64>(params + FILTER_COPY_DECAY);
  // newest first: position - 1, position - 2, ... wrapping around the ring
  let index = (position - 1) % window;
  let weight: f64 = 1.0;
  let count: f64 = 0.0; // c_t(action)
  let total: f64 = 0.0; // C_t
  for (let j = 0; j < n; j++) {
    if (load<i32>(history + (<usize>index << 2)) == action) count += weight;
    total += weight;
    weight *= decay;
    index = index == 0 ? window - 1 : index - 1;
  }
  const share = count / total;
  const rate = load<usize>(params + FILTER_COPY_RATE);
  const mass = load<usize>(params + FILTER_COPY_MASS);
  for (let k = 0; k < K; k++) {
    const lambda = load<f64>(rate + (<usize>k << 3)) * total / (total + load<f64>(mass + (<usize>k << 3)));
    const at = phi + (<usize>k << 3);
    store<f64>(at, lambda * share + (1.0 - lambda) * load<f64>(at));
  }
}

/** Records the action of `position` in the ring history. */
// @ts-ignore: decorator
@inline export function recordCopy(params: usize, history: usize, position: i32, action: i32): void {
  store<i32>(history + (<usize>(position % load<i32>(params + FILTER_COPY_WINDOW)) << 2), action);
}
