// The E-step sweep of SPEC section 3 step 2: per sequence, left to right, each token's topic drawn by
// Metropolis-Hastings over the word and sequence proposals (or exactly), LSTM cell advanced on the new prefix.
// Reads the parameter block (layout.ts); writes topicsNext and per-sequence statistics; never allocates.

import { seedStream, uniform, aliasDraw } from './rng';
import { hashedCount } from './count_hash';
import { phiColumn } from './counts';
import { Cell, cellStep, cellUpdate, logit, allLogits, logSoftmaxAt, matVec } from './lstm_cell';
import {
  SWEEP_MODE, SWEEP_EXACT, SWEEP_MH_STEPS, SWEEP_PROPOSALS, SWEEP_TOPICS, SWEEP_VOCABULARY, SWEEP_TOKENS,
  SWEEP_OFFSETS, SWEEP_TOPICS_PREV, SWEEP_TOPICS_NEXT, SWEEP_ROW_OFFSETS, SWEEP_ROW_TOPICS, SWEEP_ROW_COUNTS,
  SWEEP_SPARSE_PROB, SWEEP_SPARSE_ALIAS, SWEEP_SPARSE_MASS, SWEEP_DENSE_PROB, SWEEP_DENSE_ALIAS,
  SWEEP_DENSE_MASS, SWEEP_CELL, SWEEP_INVERSE_TOTALS, SWEEP_PER_SEQUENCE, SWEEP_BETA, SWEEP_ALPHA,
  SWEEP_SMOOTHING, SWEEP_SEED, SWEEP_ITERATION, SWEEP_HASH_ROWS, SWEEP_HASH_SLOTS, SWEEP_FIRST_SEQUENCE,
  SWEEP_LOOKAHEAD, SWEEP_TRANSITIONS, SWEEP_TRANSITION_ORDER,
  MODE_LDA, MODE_LLA, MODE_WORD_LLA, MODE_HMM, PROPOSAL_WORD,
  PROPOSAL_SEQUENCE,
} from './layout';

// @ts-ignore: decorator
@inline function align16(x: usize): usize { return (x + 15) & ~15; }

/** Per-thread scratch of a sweep: three LSTM states (s_t, and with lookahead the candidates of the current topic
 * and of the proposal), each h then c, f32 [H] aligned; gates f32 [4H]; logits f32 [K]; weights f64 [K];
 * lookahead factors f64 [K]; sequence histogram i32 [K]; in-sequence counts i32 [K]. */
export function sweepScratchBytes(K: i32, H: i32): usize {
  return align16(<usize>H << 2) * 6 + align16(<usize>H << 4) + align16(<usize>K << 2) + align16(<usize>K << 3) * 2
    + align16(<usize>K << 2) * 2;
}

/** Sweep sequences [first, end). */
export function sweepRange(params: usize, scratch: usize, first: i32, end: i32): void {
  for (let d = first; d < end; d++) sweepSequence(params, scratch, d);
}

function sweepSequence(params: usize, scratch: usize, d: i32): void {
  const mode = load<i32>(params + SWEEP_MODE);
  const exact = load<i32>(params + SWEEP_EXACT) != 0;
  const mhSteps = load<i32>(params + SWEEP_MH_STEPS);
  const proposals = load<i32>(params + SWEEP_PROPOSALS);
  const K = load<i32>(params + SWEEP_TOPICS);
  const V = load<i32>(params + SWEEP_VOCABULARY);
  const tokens = load<usize>(params + SWEEP_TOKENS);
  const offsets = load<usize>(params + SWEEP_OFFSETS);
  const topicsPrev = load<usize>(params + SWEEP_TOPICS_PREV);
  const topicsNext = load<usize>(params + SWEEP_TOPICS_NEXT);
  const rowOffsets = load<usize>(params + SWEEP_ROW_OFFSETS);
  const rowTopics = load<usize>(params + SWEEP_ROW_TOPICS);
  const rowCounts = load<usize>(params + SWEEP_ROW_COUNTS);
  const sparseProb = load<usize>(params + SWEEP_SPARSE_PROB);
  const sparseAlias = load<usize>(params + SWEEP_SPARSE_ALIAS);
  const sparseMass = load<usize>(params + SWEEP_SPARSE_MASS);
  const denseProb = load<usize>(params + SWEEP_DENSE_PROB);
  const denseAlias = load<usize>(params + SWEEP_DENSE_ALIAS);
  const denseMass = load<f64>(load<usize>(params + SWEEP_DENSE_MASS));
  const cell = changetype<Cell>(load<usize>(params + SWEEP_CELL));
  const inverseTotals = load<usize>(params + SWEEP_INVERSE_TOTALS);
  const beta = load<f64>(params + SWEEP_BETA);
  const alpha = load<f64>(params + SWEEP_ALPHA);
  const smoothing = load<f64>(params + SWEEP_SMOOTHING);
  const hashRows = load<usize>(params + SWEEP_HASH_ROWS);
  const hashSlots = load<usize>(params + SWEEP_HASH_SLOTS);
  const lookahead = load<i32>(params + SWEEP_LOOKAHEAD) != 0;
  const transitions = load<usize>(params + SWEEP_TRANSITIONS);
  hmmOrder = load<i32>(params + SWEEP_TRANSITION_ORDER);

  const cellMode = mode == MODE_LLA || mode == MODE_WORD_LLA;
  const cellLookahead = lookahead && mode == MODE_LLA;
  const H = cellMode ? cell.hidden : 0;
  const vectorBytes = align16(<usize>H << 2);
  // three state buffers, h then c: s_t, the current topic's candidate s_{t+1}(current), the proposal's
  let h = scratch;
  let currentState = h + 2 * vectorBytes;
  let proposalState = currentState + 2 * vectorBytes;
  const gates = proposalState + 2 * vectorBytes;             // recurrent . h_t (lookahead: shared by the candidates)
  const logits = gates + align16(<usize>H << 4);
  const weights = logits + align16(<usize>K << 2);
  const factors = weights + align16(<usize>K << 3);          // exact lookahead: log f(k)
  const histogram = factors + align16(<usize>K << 3);      // c_{d,k}: previous-sweep topics of the sequence
  const sequenceCounts = histogram + align16(<usize>K << 2); // n_{d,k}: current chain states (lda)

  const start = load<i32>(offsets + (<usize>d << 2));
  const end = load<i32>(offsets + (<usize>(d + 1) << 2));
  const length = end - start;
  seedStream(load<u64>(params + SWEEP_SEED), load<u64>(params + SWEEP_ITERATION),
    load<u64>(params + SWEEP_FIRST_SEQUENCE) + <u64>d);

  const useSequenceProposal = !exact && (proposals & PROPOSAL_SEQUENCE) != 0;
  if (useSequenceProposal || mode == MODE_LDA) {
    for (let t = start; t < end; t++) {
      const k = load<i32>(topicsPrev + (<usize>t << 2));
      if (useSequenceProposal) store<i32>(histogram + (<usize>k << 2), load<i32>(histogram + (<usize>k << 2)) + 1);
      if (mode == MODE_LDA) store<i32>(sequenceCounts + (<usize>k << 2), load<i32>(sequenceCounts + (<usize>k << 2)) + 1);
    }
  }
  if (H > 0) memory.fill(h, 0, 2 * vectorBytes);

  const sequenceMass = <f64>(length - 1) + <f64>K * smoothing; // N_d - 1 other positions + K a
  // Sum of log phi as a running product, one log per ~30 tokens instead of one per token (phi >= ~1e-9, so the
  // product is folded into the sum long before it could underflow); as native/sweep.cc does.
  let logPhi: f64 = 0;
  let phiProduct: f64 = 1;
  let made = 0, accepted = 0;
  for (let t = start; t < end; t++) {
    const w = load<i32>(tokens + (<usize>t << 2));
    // lookahead (lla, hmm): the previous sweep's next topic, -1 at the sequence's last position
    const next = lookahead && t + 1 < end ? load<i32>(topicsPrev + (<usize>(t + 1) << 2)) : -1;
    if (mode == MODE_HMM) {
      hmmPrevious = t > start ? load<i32>(topicsNext + (<usize>(t - 1) << 2)) : K;
      hmmBeforePrevious = t > start + 1 ? load<i32>(topicsNext + (<usize>(t - 2) << 2)) : K;
      hmmNext = next;
      hmmAfterNext = lookahead && hmmOrder == 2 && t + 2 < end ? load<i32>(topicsPrev + (<usize>(t + 2) << 2)) : -1;
    }
    if (cellLookahead) {
      // s_t: the first position steps from the zero state on the begin symbol; later ones from the accepted
      // topic's candidate state, kept from the previous position. recurrent . h_t serves every candidate.
      if (t == start) cellStep(cell, K, h, h + vectorBytes, gates);
      if (next >= 0) matVec(cell.recurrent, h, 0, H << 2, H, gates);
    } else if (mode == MODE_LLA) {
      cellStep(cell, t == start ? K : load<i32>(topicsNext + (<usize>(t - 1) << 2)), h, h + vectorBytes, gates);
    } else if (mode == MODE_WORD_LLA) {
      cellStep(cell, t == start ? V : load<i32>(tokens + (<usize>(t - 1) << 2)), h, h + vectorBytes, gates);
    }
    const lookingCell = cellLookahead && next >= 0;
    let current = load<i32>(topicsPrev + (<usize>t << 2));
    if (mode == MODE_LDA) store<i32>(sequenceCounts + (<usize>current << 2), load<i32>(sequenceCounts + (<usize>current << 2)) - 1);
    const rowBegin = load<i32>(rowOffsets + (<usize>w << 2));
    const rowEnd = load<i32>(rowOffsets + (<usize>(w + 1) << 2));

    let currentPhi: f64 = -1; // phi_{current,w} when known (computed on demand: only the sequence proposal needs it)
    if (exact) {
      if (lookingCell) {
        for (let k = 0; k < K; k++) {
          store<f64>(factors + (<usize>k << 3), candidateFactor(cell, k, next, gates, h, vectorBytes, proposalState, logits, K));
        }
      }
      current = exactDraw(mode, cell, h, K, logits, weights, lookingCell ? factors : 0, sequenceCounts, alpha,
        transitions, beta, inverseTotals, rowTopics, rowCounts, rowBegin, rowEnd);
      if (lookingCell) candidateFactor(cell, current, next, gates, h, vectorBytes, currentState, logits, K);
    } else {
      // The chain starts at the previous sweep's topic; its unnormalised target is prior(k) phi_{k,w}, the prior
      // in log space for the cell (logit plus, looking ahead, log f(k)).
      let currentPrior: f64 = cellMode ? <f64>logit(cell, h, current)
        : mode == MODE_HMM ? transitionPrior(transitions, K, current) : 0;
      if (lookingCell) currentPrior += candidateFactor(cell, current, next, gates, h, vectorBytes, currentState, logits, K);
      const rowMass = load<f64>(sparseMass + (<usize>w << 3));
      for (let step = 0; step < mhSteps; step++) {
        const kind = proposals == (PROPOSAL_WORD | PROPOSAL_SEQUENCE) ? ((step & 1) == 0 ? PROPOSAL_WORD : PROPOSAL_SEQUENCE) : proposals;
        let proposal: i32;
        if (kind == PROPOSAL_WORD) {
          if (uniform() * (rowMass + denseMass) < rowMass) {
            const entry = <usize>rowBegin << 2;
            proposal = aliasDraw(sparseProb + entry, sparseAlias + entry, rowTopics + entry, rowEnd - rowBegin);
          } else {
            proposal = aliasDraw(denseProb, denseAlias, 0, K);
          }
        } else {
          // The other positions only: a proposal built from the token's own previous topic would depend on
          // the chain's start state, which biases MH (by O(1/N_d), large for short sequences).
          const u = uniform() * sequenceMass;
          if (u < <f64>(length - 1)) {
            let position = min(<i32>u, length - 2);
            if (position >= t - start) position++;
            proposal = load<i32>(topicsPrev + (<usize>(start + position) << 2));
          } else {
            proposal = min(<i32>((u - <f64>(length - 1)) / smoothing), K - 1);
          }
        }
        made++;
        if (proposal == current) { accepted++; continue; }
        let proposalPrior: f64 = 0;
        let ratio: f64;
        if (mode == MODE_LDA) {
          ratio = (<f64>load<i32>(sequenceCounts + (<usize>proposal << 2)) + alpha)
            / (<f64>load<i32>(sequenceCounts + (<usize>current << 2)) + alpha);
        } else if (mode == MODE_HMM) {
          proposalPrior = transitionPrior(transitions, K, proposal);
          ratio = proposalPrior / currentPrior;
        } else {
          proposalPrior = <f64>logit(cell, h, proposal);
          if (lookingCell) proposalPrior += candidateFactor(cell, proposal, next, gates, h, vectorBytes, proposalState, logits, K);
          ratio = Math.exp(proposalPrior - currentPrior);
        }
        let proposalPhi: f64 = -1;
        if (kind == PROPOSAL_SEQUENCE) {
          if (currentPhi < 0) currentPhi = phiOf(hashRows, hashSlots, w, inverseTotals, beta, current);
          proposalPhi = phiOf(hashRows, hashSlots, w, inverseTotals, beta, proposal);
          // q_d(k) proportional to c_{d,k}^{-t} + a (the histogram without this position's previous topic).
          const own = load<i32>(topicsPrev + (<usize>t << 2));
          const currentMass = <f64>(load<i32>(histogram + (<usize>current << 2)) - (current == own ? 1 : 0)) + smoothing;
          const proposalMass = <f64>(load<i32>(histogram + (<usize>proposal << 2)) - (proposal == own ? 1 : 0)) + smoothing;
          ratio *= (proposalPhi * currentMass) / (currentPhi * proposalMass);
        }
        if (ratio >= 1.0 || uniform() < ratio) {
          current = proposal;
          currentPrior = proposalPrior;
          currentPhi = proposalPhi;
          accepted++;
          if (lookingCell) {
            const swap = currentState;
            currentState = proposalState;
            proposalState = swap;
          }
        }
      }
    }
    if (lookingCell) {
      // the next position steps from the accepted topic's candidate state
      const swap = h;
      h = currentState;
      currentState = swap;
    }
    store<i32>(topicsNext + (<usize>t << 2), current);
    if (mode == MODE_LDA) store<i32>(sequenceCounts + (<usize>current << 2), load<i32>(sequenceCounts + (<usize>current << 2)) + 1);
    phiProduct *= currentPhi < 0 ? phiOf(hashRows, hashSlots, w, inverseTotals, beta, current) : currentPhi;
    if (phiProduct < 1e-200) {
      logPhi += Math.log(phiProduct);
      phiProduct = 1;
    }
  }

  // Clear the per-sequence tables by the topics that were set: O(N_d), not O(K).
  for (let t = start; t < end; t++) {
    if (useSequenceProposal) store<i32>(histogram + (<usize>load<i32>(topicsPrev + (<usize>t << 2)) << 2), 0);
    if (mode == MODE_LDA) store<i32>(sequenceCounts + (<usize>load<i32>(topicsNext + (<usize>t << 2)) << 2), 0);
  }
  const out = load<usize>(params + SWEEP_PER_SEQUENCE) + <usize>d * 24;
  store<f64>(out, logPhi + Math.log(phiProduct));
  store<f64>(out, <f64>made, 8);
  store<f64>(out, <f64>accepted, 16);
}

// The hmm context of the token being sampled (set per token; globals are per instance, so per thread): this sweep's
// topics before it (K, the begin symbol, before the first), the previous sweep's after it with lookahead (-1: none).
let hmmOrder: i32 = 1;
let hmmPrevious: i32 = 0;
let hmmBeforePrevious: i32 = 0;
let hmmNext: i32 = -1;
let hmmAfterNext: i32 = -1;

/** hmm: p(k | the topics before it), times with lookahead the next topics' probabilities after k (types.ts). */
function transitionPrior(transitions: usize, K: i32, k: i32): f64 {
  if (hmmOrder == 1) {
    const into = load<f64>(transitions + ((<usize>hmmPrevious * <usize>K + <usize>k) << 3));
    return hmmNext < 0 ? into : into * load<f64>(transitions + ((<usize>k * <usize>K + <usize>hmmNext) << 3));
  }
  let value = load<f64>(transitions + ((pairRow(hmmBeforePrevious, hmmPrevious, K) + <usize>k) << 3));
  if (hmmNext >= 0) value *= load<f64>(transitions + ((pairRow(hmmPrevious, k, K) + <usize>hmmNext) << 3));
  if (hmmAfterNext >= 0) value *= load<f64>(transitions + ((pairRow(k, hmmNext, K) + <usize>hmmAfterNext) << 3));
  return value;
}

/** The first entry of an order-2 table's row for the context (a, b) = (z_{t-2}, z_{t-1}). */
// @ts-ignore: decorator
@inline function pairRow(a: i32, b: i32, K: i32): usize {
  return (<usize>a * <usize>(K + 1) + <usize>b) * <usize>K;
}

/** The lookahead factor log f(k) = log p(next | s_{t+1}(k)): the candidate state s_{t+1}(k) = cell(s_t, k) into
 * target (h then c, c at vectorBytes) from s_t = (h, h + vectorBytes) and gates = recurrent . h_t; `logits` f32
 * [K] scratch. */
function candidateFactor(cell: Cell, k: i32, next: i32, gates: usize, h: usize, vectorBytes: usize, target: usize,
  logits: usize, K: i32): f64 {
  memory.copy(target, h, 2 * vectorBytes);
  cellUpdate(cell, k, gates, target, target + vectorBytes);
  allLogits(cell, target, K, logits);
  return logSoftmaxAt(logits, K, next);
}

/** phi_{k,w} = (n_{k,w} + beta) / (n_k + V beta), n_{k,w} from action w's count hash table. */
// @ts-ignore: decorator
@inline function phiOf(hashRows: usize, hashSlots: usize, w: i32, inverseTotals: usize, beta: f64, k: i32): f64 {
  const count = hashedCount(hashRows, hashSlots, w, k);
  return (<f64>count + beta) * load<f64>(inverseTotals + (<usize>k << 3));
}

/** Exact draw from p(k) proportional to prior(k) phi_{k,w} by inverse CDF over all K terms. factors: f64 [K] the
 * cell's lookahead log f(k), or 0. */
function exactDraw(mode: i32, cell: Cell, h: usize, K: i32, logits: usize, weights: usize, factors: usize,
  sequenceCounts: usize, alpha: f64, transitions: usize, beta: f64, inverseTotals: usize,
  rowTopics: usize, rowCounts: usize, rowBegin: i32, rowEnd: i32): i32 {
  const cellMode = mode == MODE_LLA || mode == MODE_WORD_LLA;
  let maximum: f64 = 0;
  if (cellMode) {
    allLogits(cell, h, K, logits);
    maximum = -Infinity;
    for (let k = 0; k < K; k++) {
      const term = <f64>load<f32>(logits + (<usize>k << 2)) + (factors != 0 ? load<f64>(factors + (<usize>k << 3)) : 0);
      maximum = max(maximum, term);
    }
  }
  // weights first holds phi_{., w}; each slot is then replaced by the cumulative sum of prior(k) phi_{k,w}
  phiColumn(weights, K, beta, inverseTotals, rowTopics, rowCounts, rowBegin, rowEnd);
  let total: f64 = 0;
  for (let k = 0; k < K; k++) {
    let prior: f64;
    if (mode == MODE_LDA) prior = <f64>load<i32>(sequenceCounts + (<usize>k << 2)) + alpha;
    else if (mode == MODE_HMM) prior = transitionPrior(transitions, K, k);
    else {
      const term = <f64>load<f32>(logits + (<usize>k << 2)) + (factors != 0 ? load<f64>(factors + (<usize>k << 3)) : 0);
      prior = Math.exp(term - maximum);
    }
    total += prior * load<f64>(weights + (<usize>k << 3));
    store<f64>(weights + (<usize>k << 3), total);
  }
  const u = uniform() * total;
  // Binary search of the cumulative weights for the first k with cumulative > u.
  let low = 0, high = K - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (load<f64>(weights + (<usize>middle << 3)) > u) high = middle; else low = middle + 1;
  }
  return low;
}
