/**
 * What a topic model's training leaves for reports besides its tables: the topic-transition matrix, a few sampled
 * topic paths (the longest sequences'), and the topics' coherence on the training data.
 */
import type { CountTables } from '../kernels/types.js';
import { topicCoherence } from '../eval/coherence.js';
import { empiricalTransitions, topicTransitionMatrix } from '../eval/transitions.js';
import type { SemState } from './sem.js';
import type { TopicTrainingInput, TopicTrainingResult } from './trainer.js';

/** How many example trajectories training keeps (the longest sequences), and how many positions of each. */
export const TRAJECTORIES_KEPT = 4;
const TRAJECTORY_POSITIONS = 200;

/** A training sequence's sampled topic path (its first TRAJECTORY_POSITIONS positions), kept for reports. */
export interface Trajectory {
  id: string;
  actions: number[];
  topics: number[];
}

/** What training leaves for reports: the topic-transition matrix, a few sampled paths, topic coherence. */
export function trainingTraces(
  input: TopicTrainingInput,
  state: SemState,
  counts: CountTables,
): Pick<TopicTrainingResult, 'transitions' | 'trajectories' | 'coherence'> {
  const s = input.settings;
  const offsets = state.data.offsets;
  const topics = state.topics;
  const transitions =
    s.model === 'lla' && state.weights
      ? topicTransitionMatrix(input.kernel, offsets, topics, state.weights, s.topics)
      : empiricalTransitions(offsets, topics, s.topics);
  // example trajectories: the longest few sequences, for reports
  const order = Array.from({ length: offsets.length - 1 }, (_, d) => d).sort(
    (a, b) => offsets[b + 1] - offsets[b] - (offsets[a + 1] - offsets[a]) || a - b,
  );
  const trajectories = order.slice(0, TRAJECTORIES_KEPT).map((d) => {
    const end = Math.min(offsets[d + 1], offsets[d] + TRAJECTORY_POSITIONS);
    return {
      id: input.train.ids[d] ?? String(d),
      actions: Array.from(state.data.tokens.subarray(offsets[d], end)),
      topics: Array.from(topics.subarray(offsets[d], end)),
    };
  });
  const vocabularySize = input.vocabulary.size;
  const coherence = topicCoherence(
    counts,
    s.beta,
    { tokens: state.data.tokens, offsets },
    s.topics,
    vocabularySize,
    Math.min(10, Math.max(2, vocabularySize)),
  );
  return {
    transitions: transitions.matrix,
    trajectories,
    coherence: { umass: coherence.meanUmass, npmi: coherence.meanNpmi },
  };
}
