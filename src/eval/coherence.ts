/**
 * Topic coherence (SPEC 4, topic quality) of each topic's top-N actions, with the training sequences as the
 * documents and document co-occurrence as the statistic: D(v) = sequences containing v, D(u, v) = sequences
 * containing both, D = number of sequences.
 * - UMass (Mimno et al. 2011): for the top actions v_1..v_N in decreasing phi, the mean over pairs i > j of
 *   log((D(v_i, v_j) + 1) / D(v_j)). (The mean over the N(N-1)/2 pairs, as gensim reports it, so values do not
 *   grow with N.) A pair whose conditioning action v_j occurs in no sequence is undefined and skipped.
 * - NPMI (Bouma 2009; Aletras and Stevenson 2013): the mean over pairs of
 *   log(p(u, v) / (p(u) p(v))) / -log p(u, v) with p(.) = D(.) / D; a pair that never co-occurs scores -1 and
 *   a pair present in every sequence scores 1 (the limits of the definition).
 * Both are averaged over topics (topics whose every pair was skipped are left out of the average).
 * Cost: only the union U of the top actions matters (at most K N, e.g. 500): one pass over the tokens sets, for
 * each action of U, a bit per sequence that holds it; D(u, v) is the popcount of two bit rows' AND, for the
 * K N (N-1) / 2 pairs the lists need: O(T + K N^2 D / 32) time, |U| D / 8 bytes.
 */
import type { CountTables } from '../kernels/types.js';
import { checkCorpus, checkInteger, type SequenceCorpus } from './phi.js';
import { topActionsPerTopic } from './topics.js';

export interface CoherenceResult {
  /** umass / npmi: [K] per-topic mean over pairs (NaN for a topic with no scorable pair) */
  umass: Float64Array;
  npmi: Float64Array;
  meanUmass: number;
  meanNpmi: number;
  /** top actions per topic that were scored */
  topN: number;
  documents: number;
}

/** Coherence of given top-action lists (each best first) over a corpus of sequences as documents. */
export function coherenceOfTopLists(
  topLists: ReadonlyArray<ArrayLike<number>>,
  corpus: SequenceCorpus,
  vocabularySize: number,
): CoherenceResult {
  checkCorpus('coherence', corpus, vocabularySize);
  const { tokens, offsets } = corpus;
  const documents = offsets.length - 1;
  // unionIndex: [V] index of an action in the union of the top lists, -1 when in none
  const unionIndex = new Int32Array(vocabularySize).fill(-1);
  let unionSize = 0;
  let topN = 0;
  for (const list of topLists) {
    topN = Math.max(topN, list.length);
    for (let i = 0; i < list.length; i++) {
      const w = list[i];
      if (!Number.isInteger(w) || w < 0 || w >= vocabularySize) {
        throw new Error(`coherence: a top list holds action ${String(w)}, outside the vocabulary of ${vocabularySize}`);
      }
      if (unionIndex[w] < 0) unionIndex[w] = unionSize++;
    }
  }
  // presence: [|U|][words] bit d of row u is set when sequence d holds union action u (words = ceil(D / 32));
  // D(u, v) is then the popcount of two rows' AND, computed only for the pairs that some top list needs
  const words = (documents + 31) >>> 5;
  const presence = new Int32Array(unionSize * words);
  for (let d = 0; d < documents; d++) {
    const word = d >>> 5;
    const bit = 1 << (d & 31);
    for (let i = offsets[d], end = offsets[d + 1]; i < end; i++) {
      const u = unionIndex[tokens[i]];
      if (u >= 0) presence[u * words + word] |= bit;
    }
  }
  // documentCount: [|U|] D(v)
  const documentCount = new Float64Array(unionSize);
  for (let u = 0; u < unionSize; u++) {
    let count = 0;
    for (let i = u * words, end = i + words; i < end; i++) count += popcount(presence[i]);
    documentCount[u] = count;
  }
  const together = (u: number, v: number): number => {
    let count = 0;
    for (let i = 0, a = u * words, b = v * words; i < words; i++) count += popcount(presence[a + i] & presence[b + i]);
    return count;
  };

  const umass = new Float64Array(topLists.length);
  const npmi = new Float64Array(topLists.length);
  for (let k = 0; k < topLists.length; k++) {
    const list = topLists[k];
    let umassSum = 0;
    let umassPairs = 0;
    let npmiSum = 0;
    let npmiPairs = 0;
    for (let i = 1; i < list.length; i++) {
      for (let j = 0; j < i; j++) {
        const ui = unionIndex[list[i]];
        const uj = unionIndex[list[j]];
        if (ui === uj) continue; // a repeated action is no pair
        const both = together(ui, uj);
        if (documentCount[uj] > 0) {
          umassSum += Math.log((both + 1) / documentCount[uj]);
          umassPairs++;
        }
        if (documents > 0) {
          npmiSum += normalisedPmi(both, documentCount[ui], documentCount[uj], documents);
          npmiPairs++;
        }
      }
    }
    umass[k] = umassPairs > 0 ? umassSum / umassPairs : NaN;
    npmi[k] = npmiPairs > 0 ? npmiSum / npmiPairs : NaN;
  }
  return { umass, npmi, meanUmass: meanOfDefined(umass), meanNpmi: meanOfDefined(npmi), topN, documents };
}

/** Set bits of a 32-bit integer (SWAR). */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** NPMI of one pair from document counts, with the limits -1 (never together) and 1 (together everywhere). */
export function normalisedPmi(both: number, countU: number, countV: number, documents: number): number {
  if (both === 0) return -1;
  if (both === documents) return 1;
  const joint = both / documents;
  return Math.log(joint / ((countU / documents) * (countV / documents))) / -Math.log(joint);
}

function meanOfDefined(values: Float64Array): number {
  let sum = 0;
  let n = 0;
  for (const value of values) {
    if (!Number.isNaN(value)) {
      sum += value;
      n++;
    }
  }
  return n > 0 ? sum / n : NaN;
}

/** UMass and NPMI of every topic's top-N actions (by phi from the counts) over the training sequences. */
export function topicCoherence(
  counts: CountTables,
  beta: number,
  corpus: SequenceCorpus,
  numTopics: number,
  vocabularySize: number,
  topN = 10,
): CoherenceResult {
  checkInteger('topicCoherence', 'topN', topN, 2);
  const lists = topActionsPerTopic(counts, beta, topN, numTopics, vocabularySize).map((topic) =>
    topic.map((entry) => entry.action),
  );
  return coherenceOfTopLists(lists, corpus, vocabularySize);
}
