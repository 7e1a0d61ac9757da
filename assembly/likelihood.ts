// Held-out likelihood (SPEC section 4): a particle filter for lla and lda, the exact forward pass for word-lla.
// particleFilter runs whole sequences; filterStep advances a serving session by one action. Both go through
// filterToken, so feeding a sequence in pieces gives the same numbers as feeding it whole. With repeat blocks
// (src/kernels/types.ts) a run of one action is one step of the topic chain: the position counts blocks. The
// formulas are native/likelihood.cc's, in double precision without fused multiply-adds; pi is normalised here
// before it is used (native scales its softmax numerators instead), so the backends agree to rounding.

import { seedStream, uniform } from './rng';
import { Cell, cellStep, allLogits, softmax } from './lstm_cell';
import { phiColumn } from './counts';
import { mixCopy, recordCopy } from './copy';
import {
  FILTER_MODE, FILTER_TOPICS, FILTER_VOCABULARY, FILTER_TOKENS, FILTER_OFFSETS, FILTER_ROW_OFFSETS,
  FILTER_ROW_TOPICS, FILTER_ROW_COUNTS, FILTER_CELL, FILTER_INVERSE_TOTALS, FILTER_PARTICLES,
  FILTER_LOG_LIKELIHOOD, FILTER_MIXTURE_POSITIONS, FILTER_MIXTURE_COUNT, FILTER_MIXTURES, FILTER_BETA,
  FILTER_ALPHA, FILTER_SEED, FILTER_FIRST_SEQUENCE, FILTER_COPY_WINDOW, FILTER_REPEAT, FILTER_REPEAT_RUNS, MODE_LDA,
  MODE_LLA, MODE_WORD_LLA,
} from './layout';

/** 1 - p_s(previous) is kept at this or more: a model sure of a repeat that meets a new block. */
const SMALLEST_NOT_PREVIOUS: f64 = 1e-12;

// @ts-ignore: decorator
@inline function align16(x: usize): usize { return (x + 15) & ~15; }

/** Particles actually used: word-lla is exact, so one deterministic "particle". */
// @ts-ignore: decorator
@inline function particlesOf(params: usize): i32 {
  return load<i32>(params + FILTER_MODE) == MODE_WORD_LLA ? 1 : load<i32>(params + FILTER_PARTICLES);
}

/**
 * Scratch of filterToken and nextMixture, in order: gates f32 [4H]; logits f32 [K]; pi, posterior, mixture, phi
 * and previousPhi (repeat blocks: p(previous action | z = k)) f64 [K]; then copies of the particle state for
 * resampling: h, c f32 [S][H], weights f64 [S], topics i32 [S], counts i32 [S][K] (lda). The functions below are
 * the one definition of where each part starts.
 */
// @ts-ignore: decorator
@inline function logitsPart(scratch: usize, H: i32): usize { return scratch + align16(<usize>H << 4); }
// @ts-ignore: decorator
@inline function piPart(scratch: usize, H: i32, K: i32): usize { return logitsPart(scratch, H) + align16(<usize>K << 2); }
// @ts-ignore: decorator
@inline function posteriorPart(scratch: usize, H: i32, K: i32): usize { return piPart(scratch, H, K) + align16(<usize>K << 3); }
// @ts-ignore: decorator
@inline function mixturePart(scratch: usize, H: i32, K: i32): usize { return posteriorPart(scratch, H, K) + align16(<usize>K << 3); }
// @ts-ignore: decorator
@inline function phiPart(scratch: usize, H: i32, K: i32): usize { return mixturePart(scratch, H, K) + align16(<usize>K << 3); }
// @ts-ignore: decorator
@inline function previousPhiPart(scratch: usize, H: i32, K: i32): usize { return phiPart(scratch, H, K) + align16(<usize>K << 3); }
// @ts-ignore: decorator
@inline function copiesPart(scratch: usize, H: i32, K: i32): usize { return previousPhiPart(scratch, H, K) + align16(<usize>K << 3); }

/**
 * Bytes of a particle state: h, c f32 [S][H], weights f64 [S], topics i32 [S], counts i32 [S][K] (lda). In u64:
 * inside the kernel limits it can pass 2^32 (S = 2^16 with H = 4,096, or with K = 2^16 for lda), and the wrapper
 * must see the true size to refuse an allocation the memory cannot hold.
 */
function particleStateBytes(K: i32, H: i32, S: i32, lda: bool): u64 {
  return 2 * align16Wide(<u64>S * <u64>H << 2) + align16Wide(<u64>S << 3) + align16Wide(<u64>S << 2)
    + (lda ? align16Wide(<u64>S * <u64>K << 2) : 0);
}

// @ts-ignore: decorator
@inline function align16Wide(x: u64): u64 { return (x + 15) & ~15; }

/** Scratch of filterToken and nextMixture (see the parts above), in bytes; an f64 so that any size is exact. */
export function filterTokenScratchBytes(K: i32, H: i32, S: i32, lda: bool): f64 {
  return <f64>(<u64>copiesPart(0, H, K) + particleStateBytes(K, H, S, lda));
}

/**
 * Scratch of particleFilter: the particle state, the copy history ring (i32 [copyWindow], 0 without the copy
 * component), then filterToken's scratch, in bytes (an f64, as above).
 */
export function filterScratchBytes(K: i32, H: i32, S: i32, lda: bool, copyWindow: i32): f64 {
  return <f64>((particleStateBytes(K, H, S, lda) << 1) + align16Wide(<u64>copyWindow << 2) + <u64>copiesPart(0, H, K));
}

/** Particle filter over sequences [first, end): logLikelihood[d] and the requested mixtures. */
export function filterRange(params: usize, scratch: usize, first: i32, end: i32): void {
  const K = load<i32>(params + FILTER_TOPICS);
  const lda = load<i32>(params + FILTER_MODE) == MODE_LDA;
  const cell = load<usize>(params + FILTER_CELL);
  const H = cell == 0 ? 0 : changetype<Cell>(cell).hidden;
  const S = particlesOf(params);
  const tokens = load<usize>(params + FILTER_TOKENS);
  const offsets = load<usize>(params + FILTER_OFFSETS);
  const positions = load<usize>(params + FILTER_MIXTURE_POSITIONS);
  const positionCount = load<i32>(params + FILTER_MIXTURE_COUNT);
  const mixtures = load<usize>(params + FILTER_MIXTURES);
  const stateBytes = align16(<usize>S * <usize>H << 2);
  const hidden = scratch;
  const cellState = hidden + stateBytes;
  const weights = cellState + stateBytes;
  const topics = weights + align16(<usize>S << 3);
  const counts = topics + align16(<usize>S << 2);
  // history: i32 [window] the copy component's ring of recent actions; a sequence reads only what it wrote
  const history = counts + (lda ? align16(<usize>S * <usize>K << 2) : 0);
  const tokenScratch = history + align16(<usize>load<i32>(params + FILTER_COPY_WINDOW) << 2);
  const firstSequence = load<u64>(params + FILTER_FIRST_SEQUENCE);
  for (let d = first; d < end; d++) {
    const start = load<i32>(offsets + (<usize>d << 2));
    const stop = load<i32>(offsets + (<usize>(d + 1) << 2));
    memory.fill(hidden, 0, 2 * stateBytes);
    for (let s = 0; s < S; s++) {
      store<f64>(weights + (<usize>s << 3), 1.0 / <f64>S);
      store<i32>(topics + (<usize>s << 2), -1);
    }
    if (lda) memory.fill(counts, 0, <usize>S * <usize>K << 2);
    // First requested mixture position at or after this sequence's start.
    let p = 0, high = positionCount;
    while (p < high) {
      const middle = (p + high) >>> 1;
      if (load<i32>(positions + (<usize>middle << 2)) < start) p = middle + 1; else high = middle;
    }
    let logLikelihood: f64 = 0;
    // the position of the topic chain: tokens so far, or blocks so far with repeat blocks; runLength: the length
    // of the current run of previousAction (0 at the start)
    let position = 0, runLength = 0;
    for (let t = start; t < stop; t++) {
      let mixtureOut: usize = 0;
      if (p < positionCount && load<i32>(positions + (<usize>p << 2)) == t) {
        mixtureOut = mixtures + (<usize>p * <usize>K << 2);
        p++;
      }
      const action = load<i32>(tokens + (<usize>t << 2));
      const previousAction = t == start ? -1 : load<i32>(tokens + (<usize>(t - 1) << 2));
      logLikelihood += filterToken(params, tokenScratch, hidden, cellState, weights, topics, counts, history,
        action, previousAction, position, runLength, firstSequence + <u64>d, mixtureOut);
      if (!continuesBlock(params, action, previousAction)) position++;
      runLength = previousAction >= 0 && action == previousAction ? runLength + 1 : 1;
    }
    store<f64>(load<usize>(params + FILTER_LOG_LIKELIHOOD) + (<usize>d << 3), logLikelihood);
  }
}

/** Whether `action` goes on the block of `previousAction` (repeat blocks only): it then leaves the state alone. */
// @ts-ignore: decorator
@inline function continuesBlock(params: usize, action: i32, previousAction: i32): bool {
  return load<usize>(params + FILTER_REPEAT) != 0 && previousAction >= 0 && action == previousAction;
}

/**
 * r(w, L) = repeat[w * R + min(L, R) - 1] of the repeat table at `repeat` (f64 [V][R]), L the length of the run
 * of w so far (a run is at least 1: 0 is read as 1), as native likelihood.cc repeatOf.
 */
// @ts-ignore: decorator
@inline function repeatOf(params: usize, repeat: usize, w: i32, runLength: i32): f64 {
  const R = load<i32>(params + FILTER_REPEAT_RUNS);
  const L = min(max(runLength, 1), R);
  return load<f64>(repeat + ((<usize>w * <usize>R + <usize>(L - 1)) << 3));
}

/**
 * One token for one sequence: returns log p(action | history), reweights, draws each particle's topic,
 * resamples when ESS < S/2. Writes the predictive mixture sum_s W_s pi_s before the action is seen into
 * mixtureOut (f32 [K]) when it is not 0. With the copy component, `history` is its ring (copy.ts): read before
 * the action, which is then recorded in it. With repeat blocks, a repeat (continuesBlock) scores log r(w, L) and
 * changes nothing (its mixture is the next block's, nextMixture's); a new block is drawn conditioned on not being
 * the previous action. runLength is the length of the run of previousAction so far (it picks r(w, L)); the caller
 * advances it (+1 on a repeat, else 1).
 */
export function filterToken(params: usize, scratch: usize, hidden: usize, cellState: usize, weights: usize,
  topics: usize, counts: usize, history: usize, action: i32, previousAction: i32, position: i32, runLength: i32,
  sequence: u64, mixtureOut: usize): f64 {
  const mode = load<i32>(params + FILTER_MODE);
  const K = load<i32>(params + FILTER_TOPICS);
  const V = load<i32>(params + FILTER_VOCABULARY);
  const cellPointer = load<usize>(params + FILTER_CELL);
  const cell = changetype<Cell>(cellPointer);
  const H = cellPointer == 0 ? 0 : cell.hidden;
  const S = particlesOf(params);
  const rowOffsets = load<usize>(params + FILTER_ROW_OFFSETS);
  const rowTopics = load<usize>(params + FILTER_ROW_TOPICS);
  const rowCounts = load<usize>(params + FILTER_ROW_COUNTS);
  const inverseTotals = load<usize>(params + FILTER_INVERSE_TOTALS);
  const beta = load<f64>(params + FILTER_BETA);
  const alpha = load<f64>(params + FILTER_ALPHA);
  const lda = mode == MODE_LDA;
  const repeat = load<usize>(params + FILTER_REPEAT);
  if (continuesBlock(params, action, previousAction)) {
    if (mixtureOut != 0) {
      nextMixture(params, scratch, hidden, cellState, weights, topics, counts, history, previousAction, position,
        mixtureOut);
    }
    return Math.log(repeatOf(params, repeat, previousAction, runLength));
  }
  const blockStart = repeat != 0 && previousAction >= 0;

  const gates = scratch;
  const logits = logitsPart(scratch, H);
  const pi = piPart(scratch, H, K);
  const posterior = posteriorPart(scratch, H, K);
  const mixture = mixturePart(scratch, H, K);
  const phi = phiPart(scratch, H, K);
  const previousPhi = previousPhiPart(scratch, H, K);
  const stateBytes = align16(<usize>S * <usize>H << 2);
  const hiddenCopy = copiesPart(scratch, H, K);
  const cellCopy = hiddenCopy + stateBytes;
  const weightsCopy = cellCopy + stateBytes;
  const topicsCopy = weightsCopy + align16(<usize>S << 3);
  const countsCopy = topicsCopy + align16(<usize>S << 2);

  seedStream(load<u64>(params + FILTER_SEED), 0x80000000 + <u64>position, sequence);
  if (position == 0) {
    for (let s = 0; s < S; s++) store<f64>(weights + (<usize>s << 3), 1.0 / <f64>S);
  }
  if (mixtureOut != 0) memory.fill(mixture, 0, <usize>K << 3);
  const rowBegin = load<i32>(rowOffsets + (<usize>action << 2));
  const rowEnd = load<i32>(rowOffsets + (<usize>(action + 1) << 2));
  // phi_{., action} once per token, shared by every particle (with copy: the copy mixture in its place)
  phiColumn(phi, K, beta, inverseTotals, rowTopics, rowCounts, rowBegin, rowEnd);
  const copying = load<i32>(params + FILTER_COPY_WINDOW) > 0;
  if (copying) mixCopy(params, history, position, action, phi, K);
  if (blockStart) previousPhiColumn(params, history, position, previousAction, previousPhi, K);
  const priorScale = 1.0 / (<f64>position + <f64>K * alpha);
  let predictiveTotal: f64 = 0;
  let mixtureTotal: f64 = 0; // sum_s W_s / (1 - p_s(previous)): a new block's mixture is normalised by it
  for (let s = 0; s < S; s++) {
    const h = hidden + (<usize>s * <usize>H << 2);
    const c = cellState + (<usize>s * <usize>H << 2);
    const particleCounts = counts + (<usize>s * <usize>K << 2);
    if (lda) {
      for (let k = 0; k < K; k++) {
        store<f64>(pi + (<usize>k << 3), (<f64>load<i32>(particleCounts + (<usize>k << 2)) + alpha) * priorScale);
      }
    } else {
      let input: i32;
      if (mode == MODE_LLA) {
        const previous = load<i32>(topics + (<usize>s << 2));
        input = previous < 0 ? K : previous;
      } else {
        input = previousAction < 0 ? V : previousAction;
      }
      cellStep(cell, input, h, c, gates);
      allLogits(cell, h, K, logits);
      softmax(logits, K, pi);
    }
    // posterior cumulative sums of pi_k phi_{k,w}
    let predictive: f64 = 0;
    for (let k = 0; k < K; k++) {
      predictive += load<f64>(pi + (<usize>k << 3)) * load<f64>(phi + (<usize>k << 3));
      store<f64>(posterior + (<usize>k << 3), predictive);
    }
    const weight = load<f64>(weights + (<usize>s << 3));
    // a new block is not the previous action: each particle's predictive is renormalised without it (x / 1.0 is
    // x, so without blocks the numbers are as they were)
    const stay = blockStart ? notPrevious(pi, previousPhi, K) : 1.0;
    if (mixtureOut != 0) {
      const scale = weight / stay;
      for (let k = 0; k < K; k++) {
        const at = mixture + (<usize>k << 3);
        store<f64>(at, load<f64>(at) + scale * load<f64>(pi + (<usize>k << 3)));
      }
    }
    mixtureTotal += weight / stay;
    const reweighted = weight * (predictive / stay);
    predictiveTotal += reweighted;
    store<f64>(weights + (<usize>s << 3), reweighted);
    if (mode != MODE_WORD_LLA) {
      const u = uniform() * predictive;
      let low = 0, high = K - 1;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (load<f64>(posterior + (<usize>middle << 3)) > u) high = middle; else low = middle + 1;
      }
      store<i32>(topics + (<usize>s << 2), low);
      if (lda) store<i32>(particleCounts + (<usize>low << 2), load<i32>(particleCounts + (<usize>low << 2)) + 1);
    }
  }
  if (mixtureOut != 0) {
    const scale = blockStart ? 1.0 / mixtureTotal : 1.0;
    for (let k = 0; k < K; k++) {
      store<f32>(mixtureOut + (<usize>k << 2), <f32>(load<f64>(mixture + (<usize>k << 3)) * scale));
    }
  }
  // Normalise and measure the effective sample size 1 / sum W^2.
  let total: f64 = 0;
  for (let s = 0; s < S; s++) total += load<f64>(weights + (<usize>s << 3));
  let sumSquares: f64 = 0;
  for (let s = 0; s < S; s++) {
    const w = load<f64>(weights + (<usize>s << 3)) / total;
    store<f64>(weights + (<usize>s << 3), w);
    sumSquares += w * w;
  }
  if (S > 1 && 1.0 / sumSquares < 0.5 * <f64>S) {
    resample(S, H, K, lda, hidden, cellState, weights, topics, counts,
      hiddenCopy, cellCopy, weightsCopy, topicsCopy, countsCopy);
  }
  if (copying) recordCopy(params, history, position, action);
  return blockStart
    ? Math.log(predictiveTotal) + Math.log1p(-repeatOf(params, repeat, previousAction, runLength))
    : Math.log(predictiveTotal);
}

/**
 * previousPhi (f64 [K]) = p(previous | z = k) at `position`: phi_{k,previous}, with the copy component its copy
 * mixture read from the ring `history`. For a new block's renormalisation.
 */
function previousPhiColumn(params: usize, history: usize, position: i32, previous: i32, previousPhi: usize,
  K: i32): void {
  const rowOffsets = load<usize>(params + FILTER_ROW_OFFSETS);
  phiColumn(previousPhi, K, load<f64>(params + FILTER_BETA), load<usize>(params + FILTER_INVERSE_TOTALS),
    load<usize>(params + FILTER_ROW_TOPICS), load<usize>(params + FILTER_ROW_COUNTS),
    load<i32>(rowOffsets + (<usize>previous << 2)), load<i32>(rowOffsets + (<usize>(previous + 1) << 2)));
  if (load<i32>(params + FILTER_COPY_WINDOW) > 0) mixCopy(params, history, position, previous, previousPhi, K);
}

/** 1 - p_s(previous) = 1 - sum_k pi_k previousPhi_k for one particle (pi, previousPhi f64 [K]), kept off 0. */
// @ts-ignore: decorator
@inline function notPrevious(pi: usize, previousPhi: usize, K: i32): f64 {
  let sum: f64 = 0;
  for (let k = 0; k < K; k++) sum += load<f64>(pi + (<usize>k << 3)) * load<f64>(previousPhi + (<usize>k << 3));
  return max(1.0 - sum, SMALLEST_NOT_PREVIOUS);
}

/** Systematic resampling: one uniform offset, S evenly spaced points on the cumulative weights. */
function resample(S: i32, H: i32, K: i32, lda: bool, hidden: usize, cellState: usize, weights: usize,
  topics: usize, counts: usize, hiddenCopy: usize, cellCopy: usize, weightsCopy: usize, topicsCopy: usize,
  countsCopy: usize): void {
  const rowBytes = <usize>H << 2;
  const countBytes = <usize>K << 2;
  memory.copy(hiddenCopy, hidden, <usize>S * rowBytes);
  memory.copy(cellCopy, cellState, <usize>S * rowBytes);
  memory.copy(weightsCopy, weights, <usize>S << 3);
  memory.copy(topicsCopy, topics, <usize>S << 2);
  if (lda) memory.copy(countsCopy, counts, <usize>S * countBytes);
  const spacing = 1.0 / <f64>S;
  const offset = uniform() * spacing;
  let source = 0;
  let cumulative = load<f64>(weightsCopy);
  for (let s = 0; s < S; s++) {
    const target = offset + <f64>s * spacing;
    while (target >= cumulative && source < S - 1) {
      source++;
      cumulative += load<f64>(weightsCopy + (<usize>source << 3));
    }
    memory.copy(hidden + <usize>s * rowBytes, hiddenCopy + <usize>source * rowBytes, rowBytes);
    memory.copy(cellState + <usize>s * rowBytes, cellCopy + <usize>source * rowBytes, rowBytes);
    store<i32>(topics + (<usize>s << 2), load<i32>(topicsCopy + (<usize>source << 2)));
    if (lda) memory.copy(counts + <usize>s * countBytes, countsCopy + <usize>source * countBytes, countBytes);
    store<f64>(weights + (<usize>s << 3), spacing);
  }
}

/**
 * The predictive topic mixture for the position after `action` (a session's next step), without changing the
 * state: each particle's cell is advanced on a copy. Uses filterToken's scratch. With repeat blocks, that of a new
 * block (not `action` again): each particle weighed by 1 / (1 - p_s(action)), normalised; `history` is the copy
 * ring as filterToken's (read for p_s(action) only).
 */
export function nextMixture(params: usize, scratch: usize, hidden: usize, cellState: usize, weights: usize,
  topics: usize, counts: usize, history: usize, action: i32, position: i32, mixtureOut: usize): void {
  const mode = load<i32>(params + FILTER_MODE);
  const K = load<i32>(params + FILTER_TOPICS);
  const cellPointer = load<usize>(params + FILTER_CELL);
  const cell = changetype<Cell>(cellPointer);
  const H = cellPointer == 0 ? 0 : cell.hidden;
  const S = particlesOf(params);
  const alpha = load<f64>(params + FILTER_ALPHA);
  const gates = scratch;
  const logits = logitsPart(scratch, H);
  const pi = piPart(scratch, H, K);
  const mixture = mixturePart(scratch, H, K);
  const previousPhi = previousPhiPart(scratch, H, K);
  const hiddenCopy = copiesPart(scratch, H, K);
  const cellCopy = hiddenCopy + align16(<usize>S * <usize>H << 2);
  const blockStart = load<usize>(params + FILTER_REPEAT) != 0 && action >= 0;
  if (blockStart) previousPhiColumn(params, history, position, action, previousPhi, K);
  memory.fill(mixture, 0, <usize>K << 3);
  const priorScale = 1.0 / (<f64>position + <f64>K * alpha);
  let mixtureTotal: f64 = 0;
  for (let s = 0; s < S; s++) {
    // as native nextMixture: the weights of a sequence's first position are uniform
    const weight = position == 0 ? 1.0 / <f64>S : load<f64>(weights + (<usize>s << 3));
    if (mode == MODE_LDA) {
      const particleCounts = counts + (<usize>s * <usize>K << 2);
      for (let k = 0; k < K; k++) {
        store<f64>(pi + (<usize>k << 3), (<f64>load<i32>(particleCounts + (<usize>k << 2)) + alpha) * priorScale);
      }
    } else {
      memory.copy(hiddenCopy, hidden + (<usize>s * <usize>H << 2), <usize>H << 2);
      memory.copy(cellCopy, cellState + (<usize>s * <usize>H << 2), <usize>H << 2);
      cellStep(cell, mode == MODE_LLA ? load<i32>(topics + (<usize>s << 2)) : action, hiddenCopy, cellCopy, gates);
      allLogits(cell, hiddenCopy, K, logits);
      softmax(logits, K, pi);
    }
    const scale = weight / (blockStart ? notPrevious(pi, previousPhi, K) : 1.0);
    for (let k = 0; k < K; k++) {
      const at = mixture + (<usize>k << 3);
      store<f64>(at, load<f64>(at) + scale * load<f64>(pi + (<usize>k << 3)));
    }
    mixtureTotal += scale;
  }
  const scale = blockStart ? 1.0 / mixtureTotal : 1.0;
  for (let k = 0; k < K; k++) {
    store<f32>(mixtureOut + (<usize>k << 2), <f32>(load<f64>(mixture + (<usize>k << 3)) * scale));
  }
}
