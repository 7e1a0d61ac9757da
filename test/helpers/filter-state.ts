// Serving-session states of the kernels' particle filter (FilterState, src/kernels/types.ts) for the kernel tests:
// a fresh state in the kernel's memory, and an independent copy of one (to step a state with every candidate action).
import type { FilterState, Kernel } from '../../src/kernels/types.js';

/** A state at a sequence's start: S particles of H hidden units over K topics, a copy ring of `window` slots. */
export function newFilterState(
  k: Kernel,
  shape: { particles: number; hidden: number; topics: number; window: number },
): FilterState {
  const { particles: S, hidden: H, topics: K } = shape;
  const state: FilterState = {
    position: k.allocInt32(1),
    previousAction: k.allocInt32(1),
    weights: k.allocFloat64(S),
    previousTopic: k.allocInt32(S),
    hiddenState: k.allocFloat32(S * H),
    cellState: k.allocFloat32(S * H),
    topicCounts: k.allocInt32(S * K),
    copyHistory: k.allocInt32(Math.max(1, shape.window)),
    // the length of the current run: 0 at the start
    runLength: k.allocInt32(1),
  };
  state.previousAction[0] = -1;
  state.previousTopic.fill(-1);
  state.weights.fill(1 / S);
  state.copyHistory!.fill(-1);
  return state;
}

/** An independent copy of every array of `state`, in the kernel's memory. */
export function cloneFilterState(k: Kernel, state: FilterState): FilterState {
  const copyOf = <T extends Int32Array | Float32Array | Float64Array>(array: T): T => {
    const out = (
      array instanceof Int32Array
        ? k.allocInt32(array.length)
        : array instanceof Float32Array
          ? k.allocFloat32(array.length)
          : k.allocFloat64(array.length)
    ) as T;
    out.set(array as never);
    return out;
  };
  return {
    position: copyOf(state.position),
    previousAction: copyOf(state.previousAction),
    weights: copyOf(state.weights),
    previousTopic: copyOf(state.previousTopic),
    hiddenState: copyOf(state.hiddenState),
    cellState: copyOf(state.cellState),
    topicCounts: copyOf(state.topicCounts),
    copyHistory: copyOf(state.copyHistory!),
    ...(state.runLength ? { runLength: copyOf(state.runLength) } : {}),
  };
}
