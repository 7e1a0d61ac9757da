/**
 * Recovery of a generated model (`lla generate --truth FILE`, then `lla train --truth FILE`): the generating model's
 * own held-out perplexity, exact by the forward algorithm, on the tokens every model is scored on; and how close the
 * learned topics are to the true ones, as the mean total variation of an optimal one-to-one matching.
 *
 * The held-out corpus has its out-of-vocabulary actions removed (as for every model), so the forward pass reads each
 * held-out sequence as the models do: the in-vocabulary actions in order. With the generator's corpora (every action
 * is common) that removes nothing or next to nothing; the count is reported beside the perplexity either way.
 */
import { readFile } from 'node:fs/promises';
import { nextTopicDistribution, type TransitionStructure } from '../generate/synthetic.js';
import { InputError } from '../errors.js';
import type { SequenceCorpus } from './phi.js';

export interface Truth {
  numTopics: number;
  /** actions: [V_truth] the action names, the column order of phi */
  actions: string[];
  /** phi: [K][V_truth] each true topic's action distribution */
  phi: Float64Array[];
  transitions: TransitionStructure;
}

/** Reads and checks a truth file written by `lla generate --truth`. Bad files are InputErrors naming the file. */
export async function readTruth(path: string): Promise<Truth> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): pass the ` +
        'JSON file that lla generate --truth wrote',
      path,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(
      `is not JSON (${(error as Error).message}): pass the file that lla generate --truth wrote`,
      path,
    );
  }
  return parseTruth(value, path);
}

export function parseTruth(value: unknown, source: string): Truth {
  const fail = (problem: string): never => {
    throw new InputError(`is not a truth file of lla generate: ${problem}`, source);
  };
  const object = value as {
    format?: unknown;
    topics?: unknown;
    actions?: unknown;
    phi?: unknown;
    transitions?: unknown;
  };
  if (typeof value !== 'object' || value === null || object.format !== 'lla-synthetic-truth')
    fail('its format is not lla-synthetic-truth');
  const K = object.topics;
  if (typeof K !== 'number' || !Number.isInteger(K) || K < 1) return fail('topics is not a whole number >= 1');
  if (!Array.isArray(object.actions) || !object.actions.every((a) => typeof a === 'string'))
    fail('actions is not a list of names');
  const actions = object.actions as string[];
  if (!Array.isArray(object.phi) || object.phi.length !== K) fail(`phi does not hold ${K} rows`);
  const phi = (object.phi as unknown[]).map((row, k) => {
    if (!Array.isArray(row) || row.length !== actions.length || !row.every((p) => typeof p === 'number' && p >= 0)) {
      fail(`phi[${k}] is not ${actions.length} non-negative numbers`);
    }
    const total = (row as number[]).reduce((a, b) => a + b, 0);
    if (Math.abs(total - 1) > 1e-6) fail(`phi[${k}] sums to ${total}, not 1`);
    return Float64Array.from(row as number[]);
  });
  const transitions = object.transitions as TransitionStructure;
  const permutation = (name: string, list: unknown) => {
    if (!Array.isArray(list) || list.length !== K || !list.every((k) => Number.isInteger(k) && k >= 0 && k < K)) {
      fail(`transitions.${name} is not ${K} topic ids`);
    }
  };
  if (transitions?.kind === 'first-order') {
    permutation('primary', transitions.primary);
    permutation('secondary', transitions.secondary);
  } else if (transitions?.kind === 'second-order') {
    permutation('successor', transitions.successor);
  } else {
    fail('transitions.kind is neither first-order nor second-order');
  }
  return { numTopics: K, actions, phi, transitions };
}

/** The true model's emission columns for a vocabulary: emission[w][k] = phi_k(word w), 0 for a word it lacks. */
function emissionsOf(truth: Truth, words: readonly string[]): Float64Array {
  const K = truth.numTopics;
  const column = new Map(truth.actions.map((name, index) => [name, index]));
  // emission: [V][K]
  const emission = new Float64Array(words.length * K);
  words.forEach((word, w) => {
    const index = column.get(word);
    if (index === undefined) return;
    for (let k = 0; k < K; k++) emission[w * K + k] = truth.phi[k][index];
  });
  return emission;
}

export interface TrueLikelihood {
  logLikelihood: number;
  tokens: number;
  perplexity: number;
}

/**
 * The exact log-likelihood of a corpus (token ids of `words`) under the true model: the forward algorithm over the
 * true topics (first-order dynamics) or over pairs of consecutive topics (second-order), O(K^2) per token.
 * The first topic is uniform; at the second position the second-order rule reads the first topic twice (as the
 * generator does).
 */
export function trueLogLikelihood(truth: Truth, words: readonly string[], corpus: SequenceCorpus): TrueLikelihood {
  const K = truth.numTopics;
  const emission = emissionsOf(truth, words);
  const transitions = truth.transitions;
  // first-order: next: [K][K] p(k | j) at [j][k]
  const next = new Float64Array(K * K);
  if (transitions.kind === 'first-order') {
    for (let j = 0; j < K; j++) next.set(nextTopicDistribution(transitions, K, j, j), j * K);
  }
  // forward: [K] (first-order) or [K][K] over (previous, current) (second-order), normalised after each token
  let forward = new Float64Array(transitions.kind === 'first-order' ? K : K * K);
  let predicted = new Float64Array(forward.length);
  let logLikelihood = 0;
  for (let d = 0; d + 1 < corpus.offsets.length; d++) {
    for (let t = corpus.offsets[d]; t < corpus.offsets[d + 1]; t++) {
      const position = t - corpus.offsets[d];
      predicted.fill(0);
      if (position === 0) {
        // z_0 uniform; second-order keeps it on the diagonal (previous = current = z_0)
        for (let k = 0; k < K; k++) predicted[transitions.kind === 'first-order' ? k : k * K + k] = 1 / K;
      } else if (transitions.kind === 'first-order') {
        for (let j = 0; j < K; j++) {
          const weight = forward[j];
          if (weight === 0) continue;
          for (let k = 0; k < K; k++) predicted[k] += weight * next[j * K + k];
        }
      } else {
        const uniform = transitions.uniformProbability / K;
        for (let b = 0; b < K; b++) {
          let column = 0;
          for (let a = 0; a < K; a++) {
            const weight = forward[a * K + b];
            column += weight;
            predicted[b * K + transitions.successor[(a + b) % K]] += transitions.pairProbability * weight;
          }
          for (let c = 0; c < K; c++) predicted[b * K + c] += uniform * column;
        }
      }
      const w = corpus.tokens[t];
      let total = 0;
      for (let s = 0; s < predicted.length; s++) {
        predicted[s] *= emission[w * K + (s % K)];
        total += predicted[s];
      }
      logLikelihood += Math.log(total);
      for (let s = 0; s < predicted.length; s++) predicted[s] /= total;
      [forward, predicted] = [predicted, forward];
    }
  }
  const tokens = corpus.tokens.length;
  return { logLikelihood, tokens, perplexity: Math.exp(-logLikelihood / Math.max(1, tokens)) };
}

export interface TopicRecovery {
  /** mean over matched pairs of the total variation between a learned and its true topic */
  meanTotalVariation: number;
  /** matchedTruth: [K_learned] the true topic matched to each learned one, -1 when unmatched */
  matchedTruth: Int32Array;
  /** totalVariation: [K_learned] of each learned topic to its match (NaN when unmatched) */
  totalVariation: Float64Array;
}

/**
 * Learned topics (phi: [K_learned][V] over `words`, as eval/phi.ts densePhi gives them) against the true ones: total
 * variation 1/2 sum_a |p(a) - q(a)| over all actions (a true topic's mass on actions outside the vocabulary counts
 * in full), then the one-to-one matching of least total distance (min(K_learned, K_true) pairs).
 */
export function topicRecovery(truth: Truth, words: readonly string[], phi: Float64Array): TopicRecovery {
  const K = truth.numTopics;
  const V = words.length;
  const learned = phi.length / V;
  const emission = emissionsOf(truth, words);
  const outside = new Float64Array(K).fill(1); // each true topic's mass outside the vocabulary
  for (let w = 0; w < V; w++) for (let k = 0; k < K; k++) outside[k] -= emission[w * K + k];
  const cost = Array.from({ length: learned }, (_, l) =>
    Array.from({ length: K }, (_, k) => {
      let distance = Math.max(0, outside[k]);
      for (let w = 0; w < V; w++) distance += Math.abs(phi[l * V + w] - emission[w * K + k]);
      return distance / 2;
    }),
  );
  const matchedTruth = optimalAssignment(cost);
  const totalVariation = Float64Array.from(matchedTruth, (k, l) => (k < 0 ? Number.NaN : cost[l][k]));
  const matched = Array.from(totalVariation).filter((value) => !Number.isNaN(value));
  return {
    meanTotalVariation: matched.reduce((a, b) => a + b, 0) / Math.max(1, matched.length),
    matchedTruth,
    totalVariation,
  };
}

/**
 * The assignment of rows to distinct columns of least total cost (the Hungarian method with potentials, O(n^2 m));
 * min(rows, columns) rows get a column, the others -1. Returns [rows] the column of each row.
 */
export function optimalAssignment(cost: readonly (readonly number[])[]): Int32Array {
  const rows = cost.length;
  const columns = rows === 0 ? 0 : cost[0].length;
  if (rows > columns) {
    // more rows than columns: assign the columns to rows instead, then invert
    const transposed = Array.from({ length: columns }, (_, j) => Array.from({ length: rows }, (_, i) => cost[i][j]));
    const columnToRow = optimalAssignment(transposed);
    const result = new Int32Array(rows).fill(-1);
    columnToRow.forEach((row, column) => {
      result[row] = column;
    });
    return result;
  }
  // 1-based arrays of the classic formulation: rowOf[j] is the row holding column j (0 = none)
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(columns + 1);
  const rowOf = new Int32Array(columns + 1);
  const way = new Int32Array(columns + 1);
  for (let i = 1; i <= rows; i++) {
    rowOf[0] = i;
    let j0 = 0;
    const least = new Float64Array(columns + 1).fill(Infinity);
    const used = new Uint8Array(columns + 1);
    do {
      used[j0] = 1;
      const i0 = rowOf[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= columns; j++) {
        if (used[j]) continue;
        const reduced = cost[i0 - 1][j - 1] - u[i0] - v[j];
        if (reduced < least[j]) {
          least[j] = reduced;
          way[j] = j0;
        }
        if (least[j] < delta) {
          delta = least[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= columns; j++) {
        if (used[j]) {
          u[rowOf[j]] += delta;
          v[j] -= delta;
        } else {
          least[j] -= delta;
        }
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    do {
      const j1 = way[j0];
      rowOf[j0] = rowOf[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const result = new Int32Array(rows).fill(-1);
  for (let j = 1; j <= columns; j++) if (rowOf[j] > 0) result[rowOf[j] - 1] = j - 1;
  return result;
}

/** What `lla train --truth` reports: the true model's held-out perplexity (null without held-out data) and the mean
 * total variation of the learned topics to their matches (null for a model without topics, the lstm baseline). */
export interface RecoveryReport {
  truePerplexity: number | null;
  meanTopicTotalVariation: number | null;
}

export function recoveryReport(
  truth: Truth,
  words: readonly string[],
  heldOut: SequenceCorpus | null,
  phi: Float64Array | null,
): RecoveryReport {
  return {
    truePerplexity: heldOut && heldOut.tokens.length > 0 ? trueLogLikelihood(truth, words, heldOut).perplexity : null,
    meanTopicTotalVariation: phi ? topicRecovery(truth, words, phi).meanTotalVariation : null,
  };
}
