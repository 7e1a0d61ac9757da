/**
 * Top actions per topic (SPEC 4, topic quality) straight from the sparse counts: within topic k, phi_{k,w} is
 * ordered like n_{k,w} (the denominator n_k + V beta is shared), so one pass over the non-zeros with a bounded
 * heap per topic suffices: O(nnz log n), never a V x K table. Ties go to the smaller action id. When a topic has
 * fewer than n actions with counts, the list is completed with zero-count actions (phi = beta / (n_k + V beta)),
 * smallest ids first, up to min(n, V) entries, so every topic lists the same number of actions.
 */
import type { CountTables } from '../kernels/types.js';
import { checkCounts, checkInteger, checkPositive, countOf } from './phi.js';
import { TopN } from './top-n.js';

/** Actions listed per topic unless asked otherwise (topicWords, `lla topics`, `lla export`, reports). */
export const DEFAULT_TOPIC_ACTIONS = 10;

export interface TopicAction {
  action: number;
  /** phi_{k,w} = (n_{k,w} + beta) / (n_k + V beta) */
  phi: number;
  /** n_{k,w} */
  count: number;
}

function complete(
  counts: CountTables,
  k: number,
  beta: number,
  vocabularySize: number,
  n: number,
  kept: Array<{ id: number; score: number }>,
): TopicAction[] {
  const denominator = counts.topicTotals[k] + vocabularySize * beta;
  const out: TopicAction[] = kept.map(({ id, score }) => ({
    action: id,
    count: score,
    phi: (score + beta) / denominator,
  }));
  const wanted = Math.min(n, vocabularySize);
  if (out.length < wanted) {
    const taken = new Set(out.map((entry) => entry.action));
    for (let w = 0; w < vocabularySize && out.length < wanted; w++) {
      if (!taken.has(w) && countOf(counts, k, w) === 0) out.push({ action: w, count: 0, phi: beta / denominator });
    }
  }
  return out;
}

/** The n most probable actions of every topic, best first: result[k] for topic k. */
export function topActionsPerTopic(
  counts: CountTables,
  beta: number,
  n: number,
  numTopics: number,
  vocabularySize: number,
): TopicAction[][] {
  checkCounts('topActionsPerTopic', counts, numTopics, vocabularySize);
  checkPositive('topActionsPerTopic', 'beta', beta);
  checkInteger('topActionsPerTopic', 'n', n, 0);
  const heaps = Array.from({ length: numTopics }, () => new TopN(n));
  const { rowOffsets, rowTopics, rowCounts } = counts;
  let e = 0;
  for (let w = 0; w < vocabularySize; w++) {
    for (const end = rowOffsets[w + 1]; e < end; e++) {
      const k = rowTopics[e];
      if (k < 0 || k >= numTopics) {
        throw new Error(`topActionsPerTopic: counts hold topic ${k} in action ${w}'s row, outside 0..${numTopics - 1}`);
      }
      heaps[k].push(rowCounts[e], w);
    }
  }
  return heaps.map((heap, k) => complete(counts, k, beta, vocabularySize, n, heap.sorted()));
}

/** The n most probable actions of one topic (O(nnz) too: a binary search per row is not cheaper in practice). */
export function topicActions(
  counts: CountTables,
  beta: number,
  k: number,
  n: number,
  numTopics: number,
  vocabularySize: number,
): TopicAction[] {
  checkCounts('topicActions', counts, numTopics, vocabularySize);
  checkPositive('topicActions', 'beta', beta);
  checkInteger('topicActions', 'n', n, 0);
  if (!Number.isInteger(k) || k < 0 || k >= numTopics) {
    throw new Error(`topicActions: topic ${String(k)} does not exist (the model has topics 0..${numTopics - 1})`);
  }
  const heap = new TopN(n);
  const { rowOffsets, rowTopics, rowCounts } = counts;
  for (let w = 0; w < vocabularySize; w++) {
    for (let e = rowOffsets[w], end = rowOffsets[w + 1]; e < end; e++) {
      if (rowTopics[e] === k) heap.push(rowCounts[e], w);
    }
  }
  return complete(counts, k, beta, vocabularySize, n, heap.sorted());
}
