/**
 * A model file checked whole on load. The container's checksum only proves that the bytes are those that were
 * written; a file edited by hand (or by another tool) and given a fresh checksum can still lie: a vocabulary
 * longer or shorter than the count rows, duplicate or non-string actions, row offsets that decrease, counts past
 * what the kernels take, topic totals that are not the sums of their rows, NaN or infinite LSTM weights, report
 * traces with missing fields. Any of these ended in a stack trace or, worse, in a number (a perplexity from zeroed
 * totals, "probability": null from NaN weights). Every check here is the same on both kernel backends (the counts
 * are held to the limits both accept, KERNEL_LIMITS), and every failure is an InputError "malformed model: ...".
 */
import { KERNEL_LIMITS } from '../kernels/types.js';
import type { SectionArray } from '../io/format.js';
import type { ModelSettings } from '../train/settings.js';
import { InputError } from '../errors.js';

/** What readModel hands over: the header fields and sections as read, and the settings already validated. */
export interface ModelFileParts {
  header: { vocabulary?: unknown; history?: unknown; results?: unknown; trajectories?: unknown; nonZeros?: unknown };
  sections: Record<string, SectionArray>;
  settings: ModelSettings;
}

/** The largest count or topic total: a count of tokens, which the kernels hold below 2^31 - 1 on both backends. */
const MAX_COUNT = KERNEL_LIMITS.tokens.max;
/** The kernel modes an iteration record may name (the lstm baseline's records say lda; hmm: the initialisation). */
const RECORD_MODES = ['lda', 'lla', 'word-lla', 'hmm'];

/** Throws an InputError naming `path` and the first inconsistency of the model file, or returns. */
export function validateModelFile(path: string, parts: ModelFileParts): void {
  const fail = (problem: string): never => {
    throw new InputError(
      `malformed model: ${problem}; the file was changed after lla wrote it: use the file lla wrote, ` +
        'or train the model again',
      path,
    );
  };
  const V = checkVocabulary(parts.header.vocabulary, fail);
  const { settings, sections } = parts;
  const K = settings.topics;
  const vocabularyCounts = sections.vocabularyCounts;
  if (vocabularyCounts !== undefined) {
    if (!(vocabularyCounts instanceof Int32Array) || vocabularyCounts.length !== V) {
      fail(`the vocabulary counts hold ${vocabularyCounts.length} values for ${V} actions`);
    }
    const negative = vocabularyCounts.findIndex((count) => count < 0);
    if (negative >= 0) fail(`the vocabulary count of action ${negative} is ${vocabularyCounts[negative]}, below 0`);
  }
  if (settings.model === 'lla' || settings.model === 'word-lla' || settings.model === 'lda') {
    checkCountTables(sections, V, K, fail);
    if (parts.header.nonZeros !== undefined && parts.header.nonZeros !== sections.rowTopics.length) {
      fail(
        `the header counts ${String(parts.header.nonZeros)} non-zeros but the count table holds ${sections.rowTopics.length}`,
      );
    }
    const transitions = sections.transitions;
    if (transitions !== undefined) {
      if (!(transitions instanceof Float64Array) || transitions.length !== K * K) {
        fail(`the transition matrix holds ${transitions.length} values, not K x K = ${K * K}`);
      }
      // rows are averages of probabilities: 1 plus rounding at most
      const bad = transitions.findIndex((value) => !(value >= 0 && value <= 1 + 1e-9));
      if (bad >= 0) fail(`transition ${Math.floor(bad / K)} -> ${bad % K} is ${transitions[bad]}, not a probability`);
    }
    // repeat blocks: the repeat table r [V][R] (R run lengths, 1 to 64), each strictly inside (0, 1) as the kernels
    // require
    const repeat = sections.repeat;
    if (settings.repeats === 'blocks') {
      const runLengths = repeat === undefined ? 0 : repeat.length / V;
      if (!(repeat instanceof Float64Array) || !Number.isInteger(runLengths) || runLengths < 1 || runLengths > 64) {
        fail(
          repeat === undefined
            ? 'its settings say repeat blocks but it holds no repeat table'
            : `the repeat table holds ${repeat.length} values, not 1 to 64 run lengths for each of ${V} actions`,
        );
      }
      const bad = repeat.findIndex((value) => !(value > 0 && value < 1));
      if (bad >= 0) {
        fail(
          `the repeat probability of action ${Math.floor(bad / runLengths)} (run length column ${bad % runLengths}) is ` +
            `${repeat[bad]}, not inside (0, 1)`,
        );
      }
    } else if (repeat !== undefined) {
      fail('it holds a repeat table but its settings say every action is a step (repeats: tokens)');
    }
  }
  const lstm = sections.lstm;
  if (lstm !== undefined) {
    const bad = lstm.findIndex((value) => !Number.isFinite(value));
    if (bad >= 0) fail(`LSTM weight ${bad} is ${lstm[bad]}: every weight must be a finite number`);
  }
  checkHistory(parts.header.history, fail);
  checkTrajectories(parts.header.trajectories, V, settings.model === 'lstm' ? 0 : K, fail);
  const results = parts.header.results;
  if (results !== undefined && (results === null || typeof results !== 'object' || Array.isArray(results))) {
    fail('its results are not an object');
  }
}

type Fail = (problem: string) => never;

/** V: the vocabulary is a list of distinct strings, as many as the kernels take. */
function checkVocabulary(vocabulary: unknown, fail: Fail): number {
  if (!Array.isArray(vocabulary)) return fail('its vocabulary is not a list of actions');
  const limit = KERNEL_LIMITS.vocabulary;
  if (vocabulary.length < limit.min || vocabulary.length > limit.max) {
    fail(`its vocabulary holds ${vocabulary.length} actions, outside the kernel limit of ${limit.min} to ${limit.max}`);
  }
  const seen = new Map<string, number>();
  vocabulary.forEach((word: unknown, id) => {
    if (typeof word !== 'string')
      fail(`vocabulary entry ${id} is ${word === null ? 'null' : typeof word}, not a string`);
    const earlier = seen.get(word as string);
    if (earlier !== undefined) fail(`vocabulary entries ${earlier} and ${id} are both ${JSON.stringify(word)}`);
    seen.set(word as string, id);
  });
  return vocabulary.length;
}

/**
 * The count tables (src/kernels/types.ts CountTables): rowOffsets [V+1] from 0, non-decreasing, ending at the
 * entries' number; in each row, topics strictly ascending in [0, K) with counts in [1, MAX_COUNT]; topicTotals [K]
 * exactly the sums of their topics' counts, and all of them together no more tokens than the kernels take.
 */
function checkCountTables(sections: Record<string, SectionArray>, V: number, K: number, fail: Fail): void {
  const { rowOffsets, rowTopics, rowCounts, topicTotals } = sections;
  for (const [name, section] of Object.entries({ rowOffsets, rowTopics, rowCounts, topicTotals })) {
    if (!(section instanceof Int32Array)) fail(`its count table has no int32 section "${name}"`);
  }
  if (rowOffsets.length !== V + 1) {
    fail(`its vocabulary holds ${V} actions but the count table has rows for ${rowOffsets.length - 1}`);
  }
  if (topicTotals.length !== K) fail(`it has ${K} topics but ${topicTotals.length} topic totals`);
  if (rowTopics.length !== rowCounts.length) {
    fail(`the count table holds ${rowTopics.length} topics but ${rowCounts.length} counts`);
  }
  if (rowOffsets[0] !== 0) fail(`the count table's row offsets start at ${rowOffsets[0]}, not 0`);
  for (let w = 0; w < V; w++) {
    if (rowOffsets[w + 1] < rowOffsets[w]) fail(`the count table's row offsets decrease at action ${w + 1}`);
  }
  if (rowOffsets[V] !== rowTopics.length) {
    fail(`the count table's rows end at entry ${rowOffsets[V]} but it holds ${rowTopics.length} entries`);
  }
  // sums: [K] the counts of each topic, summed in float64 (exact far beyond int32)
  const sums = new Float64Array(K);
  for (let w = 0; w < V; w++) {
    for (let e = rowOffsets[w]; e < rowOffsets[w + 1]; e++) {
      const k = rowTopics[e];
      if (k < 0 || k >= K) fail(`the count table's entry ${e} (action ${w}) names topic ${k}, outside 0..${K - 1}`);
      if (e > rowOffsets[w] && k <= rowTopics[e - 1])
        fail(`the topics of action ${w}'s counts are not strictly ascending`);
      if (rowCounts[e] < 1 || rowCounts[e] > MAX_COUNT) {
        fail(
          `the count of action ${w} in topic ${k} is ${rowCounts[e]}, outside 1..${MAX_COUNT} (the kernel limit on tokens)`,
        );
      }
      sums[k] += rowCounts[e];
    }
  }
  let total = 0;
  for (let k = 0; k < K; k++) {
    if (topicTotals[k] !== sums[k]) fail(`topic ${k}'s total is ${topicTotals[k]} but its counts sum to ${sums[k]}`);
    total += sums[k];
  }
  if (total > MAX_COUNT) fail(`the counts add up to ${total} tokens, more than the kernel limit of ${MAX_COUNT}`);
}

/** The training history: iteration records with a positive iteration, a kernel mode, the M-step's engine (or null),
 * on a last record why training stopped, which run of --lookahead auto (or none), numbers or nulls elsewhere. */
function checkHistory(history: unknown, fail: Fail): void {
  if (history === undefined) return;
  if (!Array.isArray(history)) fail('its training history is not a list');
  (history as unknown[]).forEach((record, index) => {
    if (record === null || typeof record !== 'object' || Array.isArray(record))
      fail(`history entry ${index} is not an object`);
    const { iteration, mode, lstmEngine, stop, lookahead, ...rest } = record as Record<string, unknown>;
    if (!Number.isInteger(iteration) || (iteration as number) < 1)
      fail(`history entry ${index} has no iteration number`);
    if (typeof mode !== 'string' || !RECORD_MODES.includes(mode)) fail(`history entry ${index} has no kernel mode`);
    if (lstmEngine !== undefined && lstmEngine !== null && lstmEngine !== 'kernel' && lstmEngine !== 'tfjs') {
      fail(`history entry ${index}'s lstmEngine is neither 'kernel' nor 'tfjs'`);
    }
    if (stop !== undefined && !isStopRecord(stop)) fail(`history entry ${index}'s stop is not a stop record`);
    // a --lookahead auto run's records say which of its two runs they belong to
    if (lookahead !== undefined && typeof lookahead !== 'boolean')
      fail(`history entry ${index}'s lookahead is not true or false`);
    for (const [field, value] of Object.entries(rest)) {
      if (value !== null && typeof value !== 'number') fail(`history entry ${index}'s ${field} is not a number`);
    }
  });
}

function isStopRecord(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const { reason, improvement, tol } = value as Record<string, unknown>;
  return (
    ['iterations', 'converged', 'interrupted'].includes(reason as string) &&
    (improvement === null || typeof improvement === 'number') &&
    typeof tol === 'number'
  );
}

/** Example trajectories: each an id, and actions and topics of one length, within V and K (K 0: no topics). */
function checkTrajectories(trajectories: unknown, V: number, K: number, fail: Fail): void {
  if (trajectories === undefined) return;
  if (!Array.isArray(trajectories)) fail('its example trajectories are not a list');
  (trajectories as unknown[]).forEach((entry, index) => {
    const { id, actions, topics } = (entry ?? {}) as Record<string, unknown>;
    if (typeof id !== 'string' || !Array.isArray(actions) || !Array.isArray(topics)) {
      fail(`trajectory ${index} lacks its id, actions or topics`);
    }
    const inRange = (values: unknown[], size: number) =>
      values.every((value) => Number.isInteger(value) && (value as number) >= 0 && (value as number) < size);
    if ((actions as unknown[]).length !== (topics as unknown[]).length) {
      fail(
        `trajectory ${index} has ${(actions as unknown[]).length} actions but ${(topics as unknown[]).length} topics`,
      );
    }
    if (!inRange(actions as unknown[], V)) fail(`trajectory ${index} holds an action outside the vocabulary`);
    if (!inRange(topics as unknown[], K)) fail(`trajectory ${index} holds a topic outside 0..${K - 1}`);
  });
}
