/**
 * Fits the copy component of lla, word-lla and lda (issue 13; the definition is in src/kernels/types.ts) on the
 * held-in slice of the training sequences, which phi and the LSTM never saw:
 *
 *   p(w_t | z_t = k, w_<t) = lambda_{t,k} c_t(w_t) / C_t + (1 - lambda_{t,k}) phi_{k,w_t},
 *   lambda_{t,k} = rate_k C_t / (C_t + mass_k)
 *
 * 1. The kernels' filter runs over the slice without copy and records the predictive topic mixture mix_t at every
 *    position; with phi_{k,w_t} that fixes each token's topic part. Its log-likelihood is the score to beat.
 * 2. The copy constants are fitted by coordinate ascent (golden-section search per constant) on the held-in
 *    log-likelihood sum_t log sum_k mix_{t,k} [lambda_{t,k} s_t + (1 - lambda_{t,k}) phi_{k,w_t}], s_t = c_t(w_t)/C_t,
 *    for each form of lambda (COPY_FORMS): the decay on a grid with the topic-shared forms, then the per-topic
 *    forms at the best decay.
 * 3. The best form goes through the filter with copy (which also moves the topic posterior): kept when its
 *    held-in log-likelihood beats the one without copy (`--copy auto`) by more than its number of constants
 *    (Akaike's criterion: constants fitted on the same slice that judges them must pay for themselves), else the
 *    model has no copy component. Forms are compared with the same penalty.
 */
import type { CellWeights, CopyParameters, CountTables, KernelMode } from '../kernels/types.js';
import { countsInKernel } from '../kernels/buffers.js';
import { historyWindow } from '../eval/history.js';
import { sequenceLogLikelihoods, type HeldOutOptions } from '../eval/perplexity.js';
import { inverseDenominators } from '../eval/phi.js';
import { historyStatistics, MASS_RANGE, searchDecay } from './cache-fit.js';
import type { SequenceSlice } from './held-in.js';
import { maximiseOnInterval } from './line-search.js';

/**
 * The forms of lambda_{t,k} = rate_k C_t / (C_t + mass_k) compared: which constants are free (shared by every
 * topic, or one per topic) and which are fixed (rate 1, mass 0).
 */
export const COPY_FORMS = ['constant', 'mass', 'scaled-mass', 'topic', 'topic-mass'] as const;
export type CopyForm = (typeof COPY_FORMS)[number];
type Freedom = 'fixed' | 'shared' | 'topic';
const FORM_FREEDOM: Record<CopyForm, { rate: Freedom; mass: Freedom }> = {
  constant: { rate: 'shared', mass: 'fixed' }, // lambda = rho (mass 0)
  mass: { rate: 'fixed', mass: 'shared' }, // lambda = C / (C + mu)  (the cache's own form)
  'scaled-mass': { rate: 'shared', mass: 'shared' }, // lambda = rho C / (C + mu)
  topic: { rate: 'topic', mass: 'fixed' }, // lambda = rho_k
  'topic-mass': { rate: 'fixed', mass: 'topic' }, // lambda = C / (C + mu_k)
};
const SHARED_FORMS: readonly CopyForm[] = ['constant', 'mass', 'scaled-mass'];

/** The constants a form fits on K topics, the decay included (the penalty of its held-in log-likelihood). */
export function copyFormConstants(form: CopyForm, numTopics: number): number {
  const count = (freedom: Freedom) => (freedom === 'topic' ? numTopics : freedom === 'shared' ? 1 : 0);
  return 1 + count(FORM_FREEDOM[form].rate) + count(FORM_FREEDOM[form].mass);
}
const TOPIC_FORMS: readonly CopyForm[] = ['topic', 'topic-mass'];
/** Coordinate-ascent sweeps over the constants of a form (a third sweep moved the held-in score by < 0.1%). */
const SWEEPS = 2;
/** Golden-section steps per shared constant; Newton steps per topic's constant. */
const STEPS = 20;
const NEWTON_STEPS = 12;
/** The fit reads at most this many held-in tokens x topics (its tables: the filter's [T][K] mixtures and its own
 * [K][T] mixture and phi, float32 each: 12 bytes per cell, 24 MiB at the budget; 42k tokens at K = 50). */
export const COPY_FIT_BUDGET = 1 << 21;

export interface CopyFitInput extends Omit<HeldOutOptions, 'corpus' | 'outOfVocabulary' | 'copy' | 'mode'> {
  mode: KernelMode;
  heldIn: SequenceSlice;
}

export interface CopyFormResult {
  form: CopyForm;
  /** the fitted constants of the form */
  parameters: CopyParameters;
  /** held-in perplexity of the fitted form with the topic mixtures of the filter without copy */
  perplexity: number;
}

export interface CopyFit {
  /** the component kept (`--copy auto` keeps it only when it improves the held-in score) */
  kept: boolean;
  form: CopyForm;
  parameters: CopyParameters;
  /** held-in perplexity through the filter without and with the chosen copy component */
  heldInPerplexityWithout: number;
  heldInPerplexityWith: number;
  /** tokens scored (blocks, with repeat blocks: the fit sees the collapsed held-in slice) */
  heldInTokens: number;
  heldInSequences: number;
  /** every form's fitted score (step 2) */
  forms: CopyFormResult[];
}

/** The first whole sequences of a slice (the last one cut) holding at most `tokens` tokens. */
function leadingTokens(slice: SequenceSlice, tokens: number): SequenceSlice {
  if (slice.tokens.length <= tokens) return slice;
  const offsets: number[] = [0];
  for (let d = 1; d < slice.offsets.length && offsets[offsets.length - 1] < tokens; d++) {
    offsets.push(Math.min(tokens, slice.offsets[d]));
  }
  const end = offsets[offsets.length - 1];
  return { tokens: slice.tokens.slice(0, end), offsets: Int32Array.from(offsets) };
}

/** Per held-in token and topic, what the fit reads: the filter's mixture and phi of the token's action. */
interface FitTables {
  T: number;
  K: number;
  /** mixture: [K][T] mix_{t,k}; phi: [K][T] phi_{k,w_t}; topicPart: [T] sum_k mix phi; mixtureSum: [T] sum_k mix */
  mixture: Float32Array;
  phi: Float32Array;
  topicPart: Float64Array;
  mixtureSum: Float64Array;
}

function fitTables(input: CopyFitInput, slice: SequenceSlice, mixtures: Float32Array): FitTables {
  const { counts, beta, numTopics: K, vocabularySize: V } = input;
  const T = slice.tokens.length;
  const inverse = inverseDenominators(counts, beta, V);
  const mixture = new Float32Array(K * T);
  const phi = new Float32Array(K * T);
  const topicPart = new Float64Array(T);
  const mixtureSum = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const w = slice.tokens[t];
    for (let k = 0; k < K; k++) {
      mixture[k * T + t] = mixtures[t * K + k];
      phi[k * T + t] = beta * inverse[k];
    }
    for (let e = counts.rowOffsets[w]; e < counts.rowOffsets[w + 1]; e++) {
      const k = counts.rowTopics[e];
      phi[k * T + t] = (counts.rowCounts[e] + beta) * inverse[k];
    }
    let sum = 0;
    let mass = 0;
    for (let k = 0; k < K; k++) {
      sum += mixture[k * T + t] * phi[k * T + t];
      mass += mixture[k * T + t];
    }
    topicPart[t] = sum;
    mixtureSum[t] = mass;
  }
  return { T, K, mixture, phi, topicPart, mixtureSum };
}

/** lambda of one topic at a position with history mass C. */
function lambdaOf(rate: number, mass: number, total: number): number {
  return total > 0 ? (rate * total) / (total + mass) : 0;
}

/**
 * The fitted constants of one form at one decay (share and total per token), starting from `start`; returns them
 * and the held-in log-likelihood. Shared forms cost O(T) per evaluation, per-topic constants O(T) each.
 */
function fitForm(
  tables: FitTables,
  form: CopyForm,
  share: Float64Array,
  total: Float64Array,
  start: { rate: number; mass: number },
): { rate: Float64Array; mass: Float64Array; value: number } {
  const { T, K, mixture, phi, topicPart, mixtureSum } = tables;
  const freedom = FORM_FREEDOM[form];
  const rate = new Float64Array(K).fill(freedom.rate === 'fixed' ? 1 : start.rate);
  const mass = new Float64Array(K).fill(freedom.mass === 'fixed' ? 0 : start.mass);
  const logRange = [Math.log(MASS_RANGE.low), Math.log(MASS_RANGE.high)] as const;
  if (freedom.rate !== 'topic' && freedom.mass !== 'topic') {
    // one lambda for every topic: p_t = lambda_t s_t sum_k mix + (1 - lambda_t) sum_k mix phi
    const value = (r: number, m: number) => {
      let sum = 0;
      for (let t = 0; t < T; t++) {
        const lambda = lambdaOf(r, m, total[t]);
        sum += Math.log(lambda * share[t] * mixtureSum[t] + (1 - lambda) * topicPart[t]);
      }
      return sum;
    };
    let best = value(rate[0], mass[0]);
    for (let sweep = 0; sweep < SWEEPS; sweep++) {
      if (freedom.rate === 'shared') {
        const found = maximiseOnInterval((r) => value(r, mass[0]), 0, 1, STEPS);
        if (found.value >= best) {
          best = found.value;
          rate.fill(found.x);
        }
      }
      if (freedom.mass === 'shared') {
        const found = maximiseOnInterval((m) => value(rate[0], Math.exp(m)), logRange[0], logRange[1], STEPS);
        if (found.value >= best) {
          best = found.value;
          mass.fill(Math.exp(found.x));
        }
      }
      if (freedom.rate !== 'shared' || freedom.mass !== 'shared') break;
    }
    return { rate, mass, value: best };
  }
  // per-topic constants: p_t = topicPart_t + copyPart_t, copyPart_t = sum_k mix lambda_{t,k} (s_t - phi_{k,w_t}),
  // one topic's constant at a time by Newton's method (lambda of a topic moves p_t linearly)
  const copyPart = new Float64Array(T);
  for (let k = 0; k < K; k++) {
    for (let t = 0; t < T; t++) {
      copyPart[t] += mixture[k * T + t] * lambdaOf(rate[k], mass[k], total[t]) * (share[t] - phi[k * T + t]);
    }
  }
  const rateFree = freedom.rate === 'topic';
  /**
   * lambda_{t,k} at every position for topic k's free constant x (rate_k, or log mass_k) into lambdaOut [T], with its
   * first two derivatives in x into slopeOut and curvatureOut when given.
   */
  const lambdas = (
    k: number,
    x: number,
    lambdaOut: Float64Array,
    slopeOut?: Float64Array,
    curvatureOut?: Float64Array,
  ) => {
    const r = rateFree ? x : rate[k];
    const m = rateFree ? mass[k] : Math.exp(x);
    for (let t = 0; t < T; t++) {
      const C = total[t];
      const g = C > 0 ? C / (C + m) : 0;
      lambdaOut[t] = r * g;
      if (!slopeOut || !curvatureOut) continue;
      // rate: d lambda / d rate = g; log mass: d lambda / d log m = -lambda (1 - g), then -slope (1 - 2 g)
      slopeOut[t] = rateFree ? g : -r * g * (1 - g);
      curvatureOut[t] = rateFree ? 0 : -slopeOut[t] * (1 - 2 * g);
    }
  };
  const before = new Float64Array(T);
  const lambda = new Float64Array(T);
  const slope = new Float64Array(T);
  const curvature = new Float64Array(T);
  // weight: [T] mix_{t,k} (s_t - phi_{k,w_t}) of the topic in hand
  const weight = new Float64Array(T);
  let best = 0;
  for (let t = 0; t < T; t++) best += Math.log(topicPart[t] + copyPart[t]);
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    for (let k = 0; k < K; k++) {
      const x0 = rateFree ? rate[k] : Math.log(Math.max(MASS_RANGE.low, mass[k]));
      lambdas(k, x0, before);
      for (let t = 0; t < T; t++) weight[t] = mixture[k * T + t] * (share[t] - phi[k * T + t]);
      const evaluate = (x: number) => {
        lambdas(k, x, lambda, slope, curvature);
        let value = 0;
        let first = 0;
        let second = 0;
        for (let t = 0; t < T; t++) {
          const p = topicPart[t] + copyPart[t] + weight[t] * (lambda[t] - before[t]);
          const ratio = weight[t] / p;
          value += Math.log(p);
          first += ratio * slope[t];
          const change = ratio * slope[t];
          second += ratio * curvature[t] - change * change;
        }
        return { value, slope: first, curvature: second };
      };
      const found = rateFree
        ? newtonMaximise(evaluate, x0, 0, 1)
        : newtonMaximise(evaluate, x0, logRange[0], logRange[1]);
      if (found.value <= best) continue;
      lambdas(k, found.x, lambda);
      for (let t = 0; t < T; t++) copyPart[t] += weight[t] * (lambda[t] - before[t]);
      if (rateFree) rate[k] = found.x;
      else mass[k] = Math.exp(found.x);
      best = found.value;
    }
  }
  return { rate, mass, value: best };
}

/**
 * Newton's method on a concave-ish function of one variable in [low, high], each step halved until it raises the
 * value (at most 6 times); stops when a step moves less than 1e-7 or after NEWTON_STEPS steps.
 */
function newtonMaximise(
  evaluate: (x: number) => { value: number; slope: number; curvature: number },
  start: number,
  low: number,
  high: number,
): { x: number; value: number } {
  let x = Math.min(high, Math.max(low, start));
  let current = evaluate(x);
  for (let step = 0; step < NEWTON_STEPS; step++) {
    const move =
      current.curvature < 0 ? -current.slope / current.curvature : Math.sign(current.slope) * 0.1 * (high - low);
    let next = Math.min(high, Math.max(low, x + move));
    if (!(Math.abs(next - x) > 1e-7)) break;
    let candidate = evaluate(next);
    for (let halving = 0; halving < 6 && !(candidate.value > current.value); halving++) {
      next = (x + next) / 2;
      candidate = evaluate(next);
    }
    if (!(candidate.value > current.value)) break;
    x = next;
    current = candidate;
  }
  return { x, value: current.value };
}

/** Fits the copy component on the held-in slice and decides whether to keep it (the steps in the header). */
export async function fitCopy(input: CopyFitInput): Promise<CopyFit> {
  const K = input.numTopics;
  const slice = leadingTokens(input.heldIn, Math.max(1, Math.floor(COPY_FIT_BUDGET / K)));
  const T = slice.tokens.length;
  const options: HeldOutOptions = { ...input, counts: countsInKernel(input.kernel, input.counts), corpus: slice };
  // step 1: the mixtures at every held-in position, and the score without copy
  const positions = Int32Array.from({ length: T }, (_, t) => t);
  const mixtures = new Float32Array(T * K);
  const without = await sequenceLogLikelihoods(options, slice, { positions, mixtures });
  const tables = fitTables(input, slice, mixtures);

  // step 2: the cache's own form (lambda = C / (C + mu)) chooses the decay; every form is fitted there, a
  // per-topic form starting from the best shared one
  const forms: CopyFormResult[] = [];
  const fitted = new Map<CopyForm, { rate: Float64Array; mass: Float64Array; value: number; decay: number }>();
  const shareAndTotal = (decay: number) => {
    const { count, total } = historyStatistics(slice, input.vocabularySize, decay);
    return { share: Float64Array.from(count, (c, t) => (total[t] > 0 ? c / total[t] : 0)), total };
  };
  const { decay } = searchDecay((candidate) => {
    const { share, total } = shareAndTotal(candidate);
    return fitForm(tables, 'mass', share, total, { rate: 1, mass: 1 }).value;
  });
  const { share, total } = shareAndTotal(decay);
  const start = { rate: 0.5, mass: 1 };
  let bestShared = -Infinity;
  for (const form of [...SHARED_FORMS, ...TOPIC_FORMS]) {
    const result = fitForm(tables, form, share, total, start);
    fitted.set(form, { ...result, decay });
    if (SHARED_FORMS.includes(form) && result.value > bestShared) {
      bestShared = result.value;
      start.rate = result.rate[0];
      start.mass = Math.max(MASS_RANGE.low, result.mass[0]);
    }
  }
  for (const form of COPY_FORMS) {
    const result = fitted.get(form)!;
    forms.push({
      form,
      perplexity: Math.exp(-result.value / T),
      parameters: { decay: result.decay, window: historyWindow(result.decay), rate: result.rate, mass: result.mass },
    });
  }
  const penalised = (form: CopyForm) => fitted.get(form)!.value - copyFormConstants(form, K);
  const best = COPY_FORMS.reduce((a, b) => (penalised(b) > penalised(a) ? b : a));
  const chosen = fitted.get(best)!;
  const parameters: CopyParameters = {
    decay: chosen.decay,
    window: historyWindow(chosen.decay),
    rate: chosen.rate,
    mass: chosen.mass,
  };

  // step 3: the chosen form through the filter with copy
  const withCopy = await sequenceLogLikelihoods({ ...options, copy: parameters }, slice);
  const sum = (values: Float64Array) => values.reduce((a, b) => a + b, 0);
  const scoreWithout = sum(without);
  const scoreWith = sum(withCopy);
  return {
    kept: scoreWith - scoreWithout > copyFormConstants(best, K),
    form: best,
    parameters,
    heldInPerplexityWithout: Math.exp(-scoreWithout / T),
    heldInPerplexityWith: Math.exp(-scoreWith / T),
    heldInTokens: T,
    heldInSequences: slice.offsets.length - 1,
    forms,
  };
}

/** What training reports and saves of the copy component's fit: the scores and the chosen form, no typed arrays. */
export type CopyFitSummary = Omit<CopyFit, 'parameters' | 'forms'> & {
  decay: number;
  /** each form's decay, held-in perplexity and mean rate_k and mass_k over the topics */
  forms: Array<{ form: CopyForm; decay: number; perplexity: number; meanRate: number; meanMass: number }>;
};

export function copyFitSummary(fit: CopyFit): CopyFitSummary {
  const { parameters, forms, ...rest } = fit;
  const mean = (values: Float64Array) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return {
    ...rest,
    decay: parameters.decay,
    forms: forms.map((entry) => ({
      form: entry.form,
      decay: entry.parameters.decay,
      perplexity: entry.perplexity,
      meanRate: mean(entry.parameters.rate),
      meanMass: mean(entry.parameters.mass),
    })),
  };
}

/**
 * The copy fit as a stage of trainTopicModel (trainer.ts): its heldIn and fitCopy (called after the last iteration
 * of each run with the final counts and weights; the trainer keeps the fit of the run it keeps).
 */
export function copyFitStage(input: Omit<CopyFitInput, 'counts' | 'weights'>): {
  heldIn: SequenceSlice;
  fitCopy: (final: { counts: CountTables; weights: CellWeights | undefined }) => Promise<CopyFit>;
} {
  return {
    heldIn: input.heldIn,
    fitCopy: (final) =>
      fitCopy({ ...input, counts: final.counts, ...(final.weights ? { weights: final.weights } : {}) }),
  };
}
