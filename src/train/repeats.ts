/**
 * Repeat blocks (`--repeats blocks`, the topic models' default): a run of one action is one block, one step of the
 * topic chain. User logs repeat their last action a third of the time (the event log: 33.5% of its transitions);
 * as tokens, every repeat is one more step of the topic dynamics, so the LSTM spends its steps and its context on
 * "the same again" and the topics fit runs instead of intents. As blocks, the model is
 *
 *   p(w_t = w_{t-1} | history) = r_{w_{t-1}},
 *   p(w_t = a | history) = (1 - r_{w_{t-1}}) p_topic(a | blocks so far) / (1 - p_topic(w_{t-1} | blocks so far)),
 *
 * a != w_{t-1}: a new block is the topic model's next action, conditioned on not repeating. The sampler, the hmm
 * start, the LSTM and the copy fit see only the blocks (collapseRepeats); the kernels' filter scores whole
 * sequences with the repeat table r [V] (src/kernels/types.ts, "Repeat blocks").
 */
import type { SequenceCorpus } from '../eval/phi.js';

/** `--repeats`: runs of one action are one step of the topic chain (blocks), or every action is (tokens). */
export const REPEATS_CHOICES = ['blocks', 'tokens'] as const;
export type RepeatsChoice = (typeof REPEATS_CHOICES)[number];

/**
 * The prior weight, in transitions, of the corpus-wide repeat rate in each action's own: r_w = (repeats after w +
 * m rbar) / (transitions after w + m). Measured on the event log (seed 1, bench/RESULTS.md "Repeat blocks"): 2
 * and 10 score the same to 0.1%, the corpus-wide rate alone (m infinite) 7% worse.
 */
export const REPEAT_PRIOR_TRANSITIONS = 2;

/**
 * The run lengths the repeat table tells apart: r(w, L) for runs of L = 1 .. REPEAT_RUN_LENGTHS - 1 actions, and one
 * value for longer runs. On the event log a run goes on with probability 0.22 after one action, 0.40 after two, 0.56
 * after three and 0.84 after six or more (bench/RESULTS.md, "Repeat blocks").
 */
export const REPEAT_RUN_LENGTHS = 8;

/** A corpus with each run of one action cut to its first token, and where each kept token came from. */
export interface CollapsedCorpus extends SequenceCorpus {
  /** source: [B] the position in the original corpus of each block's first token */
  source: Int32Array;
}

/** Cuts every run of one action within a sequence to its first token; sequences keep their order and count. */
export function collapseRepeats(corpus: SequenceCorpus): CollapsedCorpus {
  const { tokens, offsets } = corpus;
  const numSequences = offsets.length - 1;
  let blocks = 0;
  for (let d = 0; d < numSequences; d++) {
    for (let i = offsets[d]; i < offsets[d + 1]; i++) if (i === offsets[d] || tokens[i] !== tokens[i - 1]) blocks++;
  }
  const collapsedTokens = new Int32Array(blocks);
  const collapsedOffsets = new Int32Array(numSequences + 1);
  const source = new Int32Array(blocks);
  let b = 0;
  for (let d = 0; d < numSequences; d++) {
    for (let i = offsets[d]; i < offsets[d + 1]; i++) {
      if (i === offsets[d] || tokens[i] !== tokens[i - 1]) {
        collapsedTokens[b] = tokens[i];
        source[b++] = i;
      }
    }
    collapsedOffsets[d + 1] = b;
  }
  return { tokens: collapsedTokens, offsets: collapsedOffsets, source };
}

/** What the repeat table was fitted from: the transitions within sequences and how many were repeats. */
export interface RepeatStatistics {
  /** training tokens, and the blocks they collapse into (tokens - repeats) */
  tokens: number;
  blocks: number;
  /** transitions within sequences, and how many repeat the action before */
  transitions: number;
  repeats: number;
  /** runLengthOdds: [R] the log-odds added to every action's repeat probability after a run of L = 1 .. R actions
   * (the last: R or more), fitted on the training transitions (fitRunLengthTable) */
  runLengthOdds: number[];
}

/** The training transitions by previous action and run length: one pass over the corpus, what both fits read. */
export interface TransitionCounts {
  /** R run-length columns; tokens: the corpus's tokens */
  runLengths: number;
  tokens: number;
  /** transitions, repeats: [V][R] transitions leaving a run of L actions w (L >= R: the last column), and how many
   * of them repeat w */
  transitions: Float64Array;
  repeats: Float64Array;
}

export function transitionCounts(corpus: SequenceCorpus, vocabularySize: number, runLengths: number): TransitionCounts {
  const { tokens, offsets } = corpus;
  const R = runLengths;
  const transitions = new Float64Array(vocabularySize * R);
  const repeats = new Float64Array(vocabularySize * R);
  for (let d = 0; d + 1 < offsets.length; d++) {
    let run = 1;
    for (let i = offsets[d] + 1; i < offsets[d + 1]; i++) {
      const cell = tokens[i - 1] * R + Math.min(run, R) - 1;
      transitions[cell]++;
      if (tokens[i] === tokens[i - 1]) {
        repeats[cell]++;
        run++;
      } else {
        run = 1;
      }
    }
  }
  return { runLengths: R, tokens: tokens.length, transitions, repeats };
}

/**
 * The repeat table r [V] of a training corpus: r_w = (repeats after w + m rbar) / (transitions after w + m), with
 * rbar = (repeats + 1) / (transitions + 2) over the whole corpus and m = REPEAT_PRIOR_TRANSITIONS. Every value is
 * strictly inside (0, 1), as the kernels require: an action never seen to repeat can still, and one always seen
 * to repeat can still be left.
 */
export function fitRepeatTable(
  corpus: SequenceCorpus,
  vocabularySize: number,
  priorTransitions = REPEAT_PRIOR_TRANSITIONS,
): { repeat: Float64Array; statistics: RepeatStatistics } {
  return actionRepeatTable(transitionCounts(corpus, vocabularySize, 1), priorTransitions);
}

function actionRepeatTable(
  counts: TransitionCounts,
  priorTransitions: number,
): { repeat: Float64Array; statistics: RepeatStatistics } {
  const R = counts.runLengths;
  const V = counts.transitions.length / R;
  // transitionsFrom, repeatsFrom: [V] transitions leaving action w within a sequence, and how many repeat w
  const transitionsFrom = new Float64Array(V);
  const repeatsFrom = new Float64Array(V);
  let transitions = 0;
  let repeats = 0;
  for (let cell = 0; cell < V * R; cell++) {
    const w = Math.floor(cell / R);
    transitionsFrom[w] += counts.transitions[cell];
    repeatsFrom[w] += counts.repeats[cell];
    transitions += counts.transitions[cell];
    repeats += counts.repeats[cell];
  }
  const rate = (repeats + 1) / (transitions + 2);
  const repeat = new Float64Array(V);
  for (let w = 0; w < V; w++) {
    repeat[w] = (repeatsFrom[w] + priorTransitions * rate) / (transitionsFrom[w] + priorTransitions);
  }
  const { tokens } = counts;
  return { repeat, statistics: { tokens, blocks: tokens - repeats, transitions, repeats, runLengthOdds: [] } };
}

/**
 * The repeat table by run length, r [V][R] (row-major, the kernels' `repeat`; src/kernels/types.ts): r(w, L) =
 * sigmoid(logit(r_w) + b_L) for a run of L actions w (L >= R: the last column), r_w from fitRepeatTable and one
 * log-odds shift b_L per run length, each fitted by Newton's method to the training transitions after runs of that
 * length under a unit Gaussian prior (the b_L are separable given r_w). Values stay strictly inside (0, 1).
 */
export function fitRunLengthTable(
  corpus: SequenceCorpus,
  actionRepeat: Float64Array,
  runLengths = REPEAT_RUN_LENGTHS,
): { repeat: Float64Array; runLengthOdds: number[] } {
  return runLengthTable(transitionCounts(corpus, actionRepeat.length, runLengths), actionRepeat);
}

function runLengthTable(
  counts: TransitionCounts,
  actionRepeat: Float64Array,
): { repeat: Float64Array; runLengthOdds: number[] } {
  const V = actionRepeat.length;
  const R = counts.runLengths;
  const logit = (p: number) => Math.log(p / (1 - p));
  const own = Float64Array.from(actionRepeat, logit);
  const odds = new Float64Array(R);
  for (let step = 0; step < 25; step++) {
    // gradient and curvature in each b_L of the Bernoulli log-likelihood, summed cell by cell (w, L), with a unit
    // Gaussian prior: a run length seen a few times, always ending (or never), would otherwise push its shift
    // without end, and a held-out run of that length would then score log 0
    const gradient = Float64Array.from(odds, (b) => -b);
    const curvature = new Float64Array(R).fill(1);
    for (let w = 0; w < V; w++) {
      for (let L = 0; L < R; L++) {
        const n = counts.transitions[w * R + L];
        if (n === 0) continue;
        const p = 1 / (1 + Math.exp(-(own[w] + odds[L])));
        gradient[L] += counts.repeats[w * R + L] - n * p;
        curvature[L] += n * p * (1 - p);
      }
    }
    let moved = 0;
    for (let L = 0; L < R; L++) {
      const change = Math.max(-2, Math.min(2, gradient[L] / curvature[L]));
      odds[L] += change;
      moved = Math.max(moved, Math.abs(change));
    }
    if (moved < 1e-10) break;
  }
  const repeat = new Float64Array(V * R);
  for (let w = 0; w < V; w++) {
    for (let L = 0; L < R; L++) {
      const p = 1 / (1 + Math.exp(-(own[w] + odds[L])));
      repeat[w * R + L] = Math.min(1 - 1e-9, Math.max(1e-9, p));
    }
  }
  return { repeat, runLengthOdds: Array.from(odds) };
}

/** The length of the run of one action that ends just before `position` (0 at a sequence's start `start`). */
export function runLengthBefore(tokens: ArrayLike<number>, start: number, position: number): number {
  if (position <= start) return 0;
  let length = 1;
  while (position - length - 1 >= start && tokens[position - length - 1] === tokens[position - 1]) length++;
  return length;
}

/** r(previous, runLength) of a repeat table [V][R] over V actions (runLength >= 1). */
export function repeatProbability(repeat: Float64Array, vocabularySize: number, previous: number, runLength: number) {
  const R = repeat.length / vocabularySize;
  return repeat[previous * R + Math.min(Math.max(runLength, 1), R) - 1];
}

/**
 * Per-token topics from per-block ones: each token of a run takes its block's topic. blockTopics: [B] over the
 * collapsed corpus of `corpus`; returns [T].
 */
export function expandBlockTopics(
  corpus: SequenceCorpus,
  collapsed: CollapsedCorpus,
  blockTopics: Int32Array,
): Int32Array {
  const topics = new Int32Array(corpus.tokens.length);
  for (let b = 0; b < collapsed.source.length; b++) {
    const end = b + 1 < collapsed.source.length ? collapsed.source[b + 1] : corpus.tokens.length;
    topics.fill(blockTopics[b], collapsed.source[b], end);
  }
  return topics;
}

/**
 * What training takes from `--repeats`: with blocks, the repeat table of the whole training corpus and a function
 * that collapses any slice of it (the rest, the held-in tenth) to its blocks; with tokens, no table and the slices as
 * they are.
 */
export function repeatBlocks(
  choice: RepeatsChoice,
  train: SequenceCorpus,
  vocabularySize: number,
): {
  repeat: Float64Array | null;
  statistics: RepeatStatistics | null;
  topicCorpora: <C extends SequenceCorpus>(corpus: C) => C;
} {
  if (choice === 'tokens') return { repeat: null, statistics: null, topicCorpora: (corpus) => corpus };
  // one pass over the corpus: the per-action table sums the run-length columns
  const counts = transitionCounts(train, vocabularySize, REPEAT_RUN_LENGTHS);
  const { repeat: actionRepeat, statistics } = actionRepeatTable(counts, REPEAT_PRIOR_TRANSITIONS);
  const { repeat, runLengthOdds } = runLengthTable(counts, actionRepeat);
  return {
    repeat,
    statistics: { ...statistics, runLengthOdds },
    topicCorpora: (corpus) => {
      const { tokens, offsets } = collapseRepeats(corpus);
      return { ...corpus, tokens, offsets };
    },
  };
}
