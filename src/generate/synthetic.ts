/**
 * Synthetic corpora drawn from a known LLA-like generative process (SPEC section 8, `lla generate`), so that
 * recovery of topics and topic dynamics can be tested against the truth.
 *
 * Topics (phi). The V actions are cut into K contiguous blocks; topic k's support is its own block plus the
 * first tenth of the next block (so supports overlap a little: "disjoint-ish", recoverable but not trivially
 * separable). phi_k ~ Dirichlet(concentration) over its support, zero elsewhere.
 *
 * Dynamics (the true topic sequence of each document):
 * - `first-order`: z_0 is uniform; then with probability 0.7 the topic moves to its primary successor (one
 *   random cycle through all K topics, so every topic is visited), with 0.2 to a secondary successor (another
 *   random topic), and with 0.1 to a uniform topic. P(z_t | z_{t-1}) is a K x K matrix that an LSTM over
 *   topics represents exactly (and LDA's exchangeable theta cannot).
 * - `second-order`: z_0 is uniform; with probability 0.9 z_t = successor[(z_{t-1} + z_{t-2}) mod K] (a random
 *   permutation `successor`; at t = 1, z_{t-2} is taken to be z_0), else uniform. Given z_{t-1} alone the next
 *   topic is spread over many values; given the last two it is nearly determined: a dependency an LSTM can
 *   carry in its state and a first-order Markov chain over topics cannot.
 * Copies (copy.ts): with `copyRate` R > 0, each action after a sequence's first repeats one of its recent actions
 * with probability R (decayed by `copyDecay` per step), else it is drawn from phi of its topic.
 * Sequence lengths are uniform integers in [round(L/2), round(3L/2)] (at least 1), mean about L.
 * Every draw comes from one GeneratorRandom seeded with `seed`: the same options give the same corpus.
 */
import { GeneratorRandom } from './random.js';
import { drawCopiedAction } from './copy.js';
import { historyWindow } from '../kernels/history-window.js';

export const DYNAMICS = ['first-order', 'second-order'] as const;
export type Dynamics = (typeof DYNAMICS)[number];

/** first-order: probabilities of the primary successor, the secondary successor and a uniform topic */
export const FIRST_ORDER_PROBABILITIES = { primary: 0.7, secondary: 0.2, uniform: 0.1 } as const;
/** second-order: probability of following the pair rule, else a uniform topic */
export const SECOND_ORDER_PROBABILITIES = { pair: 0.9, uniform: 0.1 } as const;
/** share of the next block that each topic's support borrows */
export const SUPPORT_OVERLAP = 0.1;

/** The settings of `lla generate` unless asked otherwise (concentration: also the library's default). */
export const SYNTHETIC_DEFAULTS = Object.freeze({
  topics: 10,
  vocabulary: 1000,
  sequences: 1000,
  length: 50,
  seed: 1,
  dynamics: 'first-order' as Dynamics,
  concentration: 0.5,
  copyRate: 0,
  copyDecay: 0.9,
});

export interface SyntheticOptions {
  topics: number;
  vocabulary: number;
  sequences: number;
  length: number;
  seed: number;
  dynamics: Dynamics;
  /** Dirichlet concentration of phi_k over its support (default SYNTHETIC_DEFAULTS.concentration: sparse-ish) */
  concentration?: number;
  /** probability that an action (after a sequence's first) repeats a recent one (default 0: none) */
  copyRate?: number;
  /** per-step decay of the history a copy is drawn from, in [0, 1] (default SYNTHETIC_DEFAULTS.copyDecay) */
  copyDecay?: number;
  /** called every few thousand sequences with (generated, total) */
  onProgress?: (done: number, total: number) => void;
}

export type TransitionStructure =
  | {
      kind: 'first-order';
      primaryProbability: number;
      secondaryProbability: number;
      uniformProbability: number;
      /** primary: [K] each topic's primary successor */ primary: number[];
      /** secondary: [K] each topic's secondary successor */ secondary: number[];
    }
  | {
      kind: 'second-order';
      pairProbability: number;
      uniformProbability: number;
      rule: string;
      /** successor: [K] next = successor[(previous + beforePrevious) mod K] */ successor: number[];
    };

export interface SyntheticTopics {
  numTopics: number;
  vocabularySize: number;
  /** supports[k]: ascending action ids where phi_k > 0 */
  supports: Int32Array[];
  /** weights[k]: phi_k on supports[k] (sums to 1) */
  weights: Float64Array[];
}

export interface SyntheticCorpus {
  options: Required<Omit<SyntheticOptions, 'onProgress'>>;
  topicModel: SyntheticTopics;
  transitions: TransitionStructure;
  /** offsets: [D+1] sequence d is tokens[offsets[d] .. offsets[d+1]) */
  offsets: Int32Array;
  /** tokens: [T] action ids 0..V-1 */
  tokens: Int32Array;
  /** topics: [T] the true topic of every token */
  topics: Int32Array;
  /** tokens copied from the history (copyRate > 0) */
  copiedTokens: number;
}

/** The name written for action id `w` (white-space free, so it survives the text format). */
export function actionName(action: number): string {
  return `a${action}`;
}

function checkWhole(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`synthetic corpus: ${name} must be a whole number between ${min} and ${max}, got ${value}`);
  }
}

export function validateSyntheticOptions(options: SyntheticOptions): void {
  checkWhole('topics', options.topics, 1, 1 << 20);
  checkWhole('vocabulary', options.vocabulary, 1, 1 << 26);
  checkWhole('sequences', options.sequences, 1, 1 << 28);
  checkWhole('length', options.length, 1, 1 << 26);
  checkWhole('seed', options.seed, 0, Number.MAX_SAFE_INTEGER);
  if (options.vocabulary < options.topics) {
    throw new RangeError(
      `synthetic corpus: vocabulary ${options.vocabulary} is smaller than topics ` +
        `${options.topics}: every topic needs actions of its own; use a vocabulary of at least ${options.topics}`,
    );
  }
  if (!(DYNAMICS as readonly string[]).includes(options.dynamics)) {
    throw new RangeError(`synthetic corpus: dynamics '${options.dynamics}' is unknown; use ${DYNAMICS.join(' or ')}`);
  }
  const concentration = options.concentration ?? SYNTHETIC_DEFAULTS.concentration;
  if (!(concentration > 0) || !Number.isFinite(concentration)) {
    throw new RangeError(`synthetic corpus: concentration must be a positive number, got ${concentration}`);
  }
  const copyRate = options.copyRate ?? SYNTHETIC_DEFAULTS.copyRate;
  const copyDecay = options.copyDecay ?? SYNTHETIC_DEFAULTS.copyDecay;
  if (!(copyRate >= 0 && copyRate <= 1))
    throw new RangeError(`synthetic corpus: copyRate must be in [0, 1], got ${copyRate}`);
  if (!(copyDecay >= 0 && copyDecay <= 1))
    throw new RangeError(`synthetic corpus: copyDecay must be in [0, 1], got ${copyDecay}`);
  const maxLength = Math.round(1.5 * options.length);
  if (options.sequences * maxLength > 2 ** 31 - 1) {
    throw new RangeError(
      `synthetic corpus: up to ${options.sequences} x ${maxLength} tokens would not fit in ` +
        ' 32-bit offsets; use fewer sequences or a shorter length',
    );
  }
}

function blockStart(k: number, numTopics: number, vocabularySize: number): number {
  return Math.floor((k * vocabularySize) / numTopics);
}

function drawTopics(
  random: GeneratorRandom,
  numTopics: number,
  vocabularySize: number,
  concentration: number,
): SyntheticTopics {
  const supports: Int32Array[] = [];
  const weights: Float64Array[] = [];
  for (let k = 0; k < numTopics; k += 1) {
    const start = blockStart(k, numTopics, vocabularySize);
    const end = blockStart(k + 1, numTopics, vocabularySize);
    const next = (k + 1) % numTopics;
    const nextStart = blockStart(next, numTopics, vocabularySize);
    const nextSize = blockStart(next + 1, numTopics, vocabularySize) - nextStart;
    const borrowed = numTopics === 1 ? 0 : Math.ceil(SUPPORT_OVERLAP * nextSize);
    const ids: number[] = [];
    for (let w = start; w < end; w += 1) ids.push(w);
    for (let w = nextStart; w < nextStart + borrowed; w += 1) ids.push(w);
    ids.sort((x, y) => x - y);
    supports.push(Int32Array.from(ids));
    weights.push(random.dirichlet(ids.length, concentration));
  }
  return { numTopics, vocabularySize, supports, weights };
}

function drawTransitions(random: GeneratorRandom, numTopics: number, dynamics: Dynamics): TransitionStructure {
  if (dynamics === 'second-order') {
    return {
      kind: 'second-order',
      pairProbability: SECOND_ORDER_PROBABILITIES.pair,
      uniformProbability: SECOND_ORDER_PROBABILITIES.uniform,
      rule:
        'next = successor[(previous + beforePrevious) mod K] with pairProbability, else uniform; ' +
        'beforePrevious = previous at the second position; the first topic is uniform',
      successor: Array.from(random.permutation(numTopics)),
    };
  }
  // one cycle through all topics: follow a random order
  const order = random.permutation(numTopics);
  const primary = new Array<number>(numTopics);
  for (let i = 0; i < numTopics; i += 1) primary[order[i]!] = order[(i + 1) % numTopics]!;
  const secondary = new Array<number>(numTopics);
  for (let k = 0; k < numTopics; k += 1) {
    if (numTopics < 3) {
      secondary[k] = primary[k]!;
      continue;
    }
    let candidate: number;
    do candidate = random.below(numTopics);
    while (candidate === k || candidate === primary[k]);
    secondary[k] = candidate;
  }
  return {
    kind: 'first-order',
    primaryProbability: FIRST_ORDER_PROBABILITIES.primary,
    secondaryProbability: FIRST_ORDER_PROBABILITIES.secondary,
    uniformProbability: FIRST_ORDER_PROBABILITIES.uniform,
    primary,
    secondary,
  };
}

/**
 * The true distribution of the next topic: given the previous topic (and, second-order, the one before it;
 * pass `previous` again at the second position). Writes [K] into `out`.
 */
export function nextTopicDistribution(
  transitions: TransitionStructure,
  numTopics: number,
  previous: number,
  beforePrevious: number,
  out: Float64Array = new Float64Array(numTopics),
): Float64Array {
  out.fill(transitions.uniformProbability / numTopics);
  if (transitions.kind === 'first-order') {
    out[transitions.primary[previous]!]! += transitions.primaryProbability;
    out[transitions.secondary[previous]!]! += transitions.secondaryProbability;
  } else {
    out[transitions.successor[(previous + beforePrevious) % numTopics]!]! += transitions.pairProbability;
  }
  return out;
}

function drawNextTopic(
  random: GeneratorRandom,
  transitions: TransitionStructure,
  numTopics: number,
  previous: number,
  beforePrevious: number,
): number {
  const u = random.uniform();
  if (transitions.kind === 'first-order') {
    if (u < transitions.primaryProbability) return transitions.primary[previous]!;
    if (u < transitions.primaryProbability + transitions.secondaryProbability) return transitions.secondary[previous]!;
    return random.below(numTopics);
  }
  if (u < transitions.pairProbability) return transitions.successor[(previous + beforePrevious) % numTopics]!;
  return random.below(numTopics);
}

/** cumulative: [K] per topic the running sums of its weights, for inverse-CDF draws by binary search */
function cumulativeWeights(topics: SyntheticTopics): Float64Array[] {
  return topics.weights.map((row) => {
    const out = new Float64Array(row.length);
    let total = 0;
    for (let i = 0; i < row.length; i += 1) {
      total += row[i]!;
      out[i] = total;
    }
    return out;
  });
}

function drawAction(random: GeneratorRandom, support: Int32Array, cumulative: Float64Array): number {
  const u = random.uniform() * cumulative[cumulative.length - 1]!;
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (cumulative[middle]! > u) high = middle;
    else low = middle + 1;
  }
  return support[low]!;
}

export function generateSynthetic(options: SyntheticOptions): SyntheticCorpus {
  validateSyntheticOptions(options);
  const concentration = options.concentration ?? SYNTHETIC_DEFAULTS.concentration;
  const { topics: numTopics, vocabulary, sequences, length, seed, dynamics } = options;
  const copyRate = options.copyRate ?? SYNTHETIC_DEFAULTS.copyRate;
  const copyDecay = options.copyDecay ?? SYNTHETIC_DEFAULTS.copyDecay;
  const copyWindow = historyWindow(copyDecay);
  let copiedTokens = 0;
  const random = new GeneratorRandom(seed);
  const topicModel = drawTopics(random, numTopics, vocabulary, concentration);
  const transitions = drawTransitions(random, numTopics, dynamics);
  const cumulative = cumulativeWeights(topicModel);

  const shortest = Math.max(1, Math.round(length / 2));
  const longest = Math.max(shortest, Math.round(1.5 * length));
  const offsets = new Int32Array(sequences + 1);
  for (let d = 0; d < sequences; d += 1) offsets[d + 1] = offsets[d]! + shortest + random.below(longest - shortest + 1);
  const total = offsets[sequences]!;
  const tokens = new Int32Array(total);
  const topics = new Int32Array(total);
  const progressEvery = 4096;
  for (let d = 0; d < sequences; d += 1) {
    const start = offsets[d]!;
    const end = offsets[d + 1]!;
    let previous = -1;
    let beforePrevious = -1;
    for (let t = start; t < end; t += 1) {
      let z: number;
      if (previous < 0) z = random.below(numTopics);
      else z = drawNextTopic(random, transitions, numTopics, previous, beforePrevious < 0 ? previous : beforePrevious);
      topics[t] = z;
      // no draw for copying at rate 0: corpora without copies stay what they were
      if (copyRate > 0 && t > start && random.uniform() < copyRate) {
        tokens[t] = drawCopiedAction(random, tokens, start, t, copyDecay, copyWindow);
        copiedTokens += 1;
      } else {
        tokens[t] = drawAction(random, topicModel.supports[z]!, cumulative[z]!);
      }
      beforePrevious = previous;
      previous = z;
    }
    if (options.onProgress && (d + 1) % progressEvery === 0) options.onProgress(d + 1, sequences);
  }
  options.onProgress?.(sequences, sequences);
  return {
    options: { topics: numTopics, vocabulary, sequences, length, seed, dynamics, concentration, copyRate, copyDecay },
    topicModel,
    transitions,
    offsets,
    tokens,
    topics,
    copiedTokens,
  };
}

/** phi as a dense row [V] for topic k (zeros outside its support) */
export function denseTopicRow(topics: SyntheticTopics, k: number): Float64Array {
  const row = new Float64Array(topics.vocabularySize);
  const support = topics.supports[k]!;
  const weights = topics.weights[k]!;
  for (let i = 0; i < support.length; i += 1) row[support[i]!] = weights[i]!;
  return row;
}
