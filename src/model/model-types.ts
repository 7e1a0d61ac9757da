/** The option and result types of the public model class (model.ts), apart so that the class stays a facade. */
import type { TfBackendChoice } from '../lstm/tf-backend.js';
import type { IterationRecord, StopRecord } from '../train/sem.js';
import type { SequenceInput } from '../train/data.js';
import type { CopyFitSummary } from '../train/copy-fit.js';
import type { LookaheadChoiceResult } from '../train/lookahead-choice.js';
import type { StartCheck } from '../train/start-check.js';
import type { RepeatStatistics } from '../train/repeats.js';
import type { ModelSettings } from '../train/settings.js';
import type { EvaluationResult, PerplexityProtocol } from '../eval/model-evaluation.js';
import type { CacheReference } from './references.js';

export interface ModelOptions extends Partial<ModelSettings> {
  /** kernel backend: auto (default: native, else WASM), native or wasm; LLA_BACKEND when absent */
  backend?: string;
  /** TF.js backend for the LSTM: auto, node, wasm or cpu; LLA_TF_BACKEND when absent */
  tfBackend?: TfBackendChoice;
  /** receives the one kernel fallback warning (default: stderr) */
  warn?: (message: string) => void;
}

export interface TrainOptions {
  /** held-out data evaluated every `evalEvery` iterations and at the end */
  heldOut?: SequenceInput;
  onProgress?: (record: IterationRecord) => void;
  signal?: AbortSignal;
  /** write a checkpoint to `<checkpoint.out>.ckpt` every `every` iterations; `resume` continues from it */
  checkpoint?: { out: string; every: number; resume: boolean; arguments?: unknown };
  /** held-out perplexity protocol */
  perplexity?: PerplexityProtocol;
}

export interface TrainSummary {
  iterations: number;
  /** this run's wall time (a resumed run: since it resumed) */
  seconds: number;
  tokens: number;
  /** iterations that came from a checkpoint (--resume) */
  resumedIterations: number;
  /** trainingSeconds, estepSeconds, mstepSeconds: over every iteration of the model, those of the runs a resume
   * continued included (the sums of the history's records), so that their ratios compare like with like */
  trainingSeconds: number;
  estepSeconds: number;
  mstepSeconds: number;
  heldOut: EvaluationResult | null;
  unigramPerplexity: number | null;
  /** why training stopped (also on the history's last record); null for the lstm baseline */
  stop: StopRecord | null;
  /** whether a first-order hmm start found structure in the topics' order (src/train/start-check.ts); null for
   * other starts and for models without one */
  start: StartCheck | null;
  /** the recency cache on the held-out data (null without); the copy fit (null: --copy off, lstm, cache, too few sequences) */
  cache: CacheReference | null;
  copy: CopyFitSummary | null;
  /** `--lookahead auto`: the setting the run kept and both runs' held-in perplexity; null when it did not choose */
  lookaheadChoice: LookaheadChoiceResult | null;
  /** repeat blocks (src/train/repeats.ts): the training tokens, their blocks and repeats; null with `repeats: tokens` */
  repeatBlocks: RepeatStatistics | null;
}

export interface TopicWord {
  action: string;
  probability: number;
}
