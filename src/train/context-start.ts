/**
 * The context-clustering start of `--init hmm:N`: topics that already see order. Every action is described by the
 * actions next to it (kernel.contextFeatures: the Hellinger-normalised distributions of the action after it and of
 * the action before it, each randomly projected), the actions are clustered by weighted k-means into K groups
 * (kernel.kmeans, weight: the action's count + 1), and every token starts in its action's group. Random topics
 * give the sampler nothing that couples neighbours, and it stays at the unigram for tens of sweeps (issue 15); from
 * this start the hmm sweeps that follow converge in a few.
 */
import type { Kernel } from '../kernels/types.js';

/** Random signs per side: the clustering of a generated corpus did as well at 64 to 256 (the tenth of its actions
 * that two topics share blur it more than the projection does). */
export const CONTEXT_DIMENSIONS = 128;
/** k-means runs from different seeds, the one of least objective kept: one run of greedy k-means++ still ended in a
 * worse optimum in half the seeds of a generated corpus, which the hmm sweeps did not leave (169 against 148). */
export const KMEANS_RESTARTS = 3;
/** Lloyd rounds at most (they stop earlier when no label changes). */
export const KMEANS_ROUNDS = 30;

export interface ContextStartArgs {
  kernel: Kernel;
  /** tokens: [T] action ids 0..V-1; offsets: [D+1] sequence starts */
  tokens: Int32Array;
  offsets: Int32Array;
  vocabularySize: number;
  numTopics: number;
  seed: number;
  threads: number;
}

/** topics: [T] each token's action's cluster. */
export function contextStartTopics(args: ContextStartArgs): Int32Array {
  const { kernel, tokens, offsets, vocabularySize: V, numTopics, seed, threads } = args;
  const features = kernel.allocFloat32(V * 2 * CONTEXT_DIMENSIONS);
  const weights = kernel.allocFloat64(V);
  const labels = kernel.allocInt32(V);
  const trial = kernel.allocInt32(V);
  kernel.contextFeatures(tokens, offsets, V, CONTEXT_DIMENSIONS, seed, features, threads);
  weights.fill(1);
  for (let t = 0; t < tokens.length; t++) weights[tokens[t]]++;
  let best = Infinity;
  for (let restart = 0; restart < KMEANS_RESTARTS; restart++) {
    // the restarts' seeds: seed, seed + 1, ... (wrapping inside the kernels' seed range)
    const objective = kernel.kmeans(
      features,
      2 * CONTEXT_DIMENSIONS,
      weights,
      numTopics,
      KMEANS_ROUNDS,
      (seed + restart) % Number.MAX_SAFE_INTEGER,
      trial,
      threads,
    );
    if (objective < best) {
      best = objective;
      labels.set(trial);
    }
  }
  const topics = new Int32Array(tokens.length);
  for (let t = 0; t < tokens.length; t++) topics[t] = labels[tokens[t]];
  return topics;
}
