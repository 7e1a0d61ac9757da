/**
 * What a model file holds (SPEC section 6) and how LlaModel's state goes into and comes out of the container
 * (src/io/format*.ts): the settings, vocabulary, history, results and report traces in the header; the count
 * tables, transitions and packed LSTM weights as sections. Every problem with a file is an InputError naming it.
 *
 * Header schema 2 (issue 13) adds the copy component of a topic model (`copy`: decay, window, rate [K], mass [K],
 * or null) and the recency cache's constants (`cache`: decay, mass, window, fitted), and the `cache` model kind.
 * Files of schema 1 still load: as models without a copy component, whose cache reference is unknown.
 *
 * Header schema 3 adds repeat blocks: the setting `repeats` and, for `blocks`, the section `repeat` (float64 [V],
 * r_w; src/train/repeats.ts). A file without the setting loads as `repeats: tokens`. An older lla refuses schema 3
 * rather than score a blocks model as tokens.
 */
import { KERNEL_LIMITS, type CopyParameters } from '../kernels/types.js';
import { Vocabulary } from '../corpus/vocabulary.js';
import { actionLstmShape } from '../lstm/action-lstm.js';
import { topicLstmShape } from '../lstm/topic-lstm.js';
import { unpackParameters, type LstmParameters } from '../lstm/weights.js';
import type { SectionArray } from '../io/format.js';
import { readModelFile, requireSection } from '../io/format-read.js';
import { writeModelFile } from '../io/format-write.js';
import type { IterationRecord } from '../train/sem.js';
import { DEFAULT_SETTINGS, validateSettings, withLegacyDefaults, type ModelSettings } from '../train/settings.js';
import type { TopicTables, Trajectory } from '../train/trainer.js';
import { InputError } from '../errors.js';
import { validateModelFile } from './model-validation.js';
import type { FittedCache } from './references.js';

/** The header layout this lla writes; it reads every schema from 1 up to it (the container's format version is separate). */
export const MODEL_FILE_SCHEMA = 3;

/** A trained model's state as it is saved and loaded. */
export interface ModelState {
  settings: ModelSettings;
  vocabulary: Vocabulary;
  history: IterationRecord[];
  results: Record<string, unknown>;
  trajectories: Trajectory[];
  /** topic models: the counts, and the K x K topic-transition matrix when one was computed */
  tables: TopicTables | null;
  transitions: Float64Array | null;
  /** the topic model's copy component, null for none */
  copy: CopyParameters | null;
  /** repeat: [V] the repeat table of repeat blocks, null for none */
  repeat: Float64Array | null;
  /** the recency cache's constants (the cache model's own, any other model's reference), null when unknown */
  cache: FittedCache | null;
}

/** The backends that trained a model, as its file records them. */
export interface TrainedWith {
  backend: string;
  tfBackend: string | null;
}

/**
 * Writes the model file atomically, recording the backends in use (`writer`); `lstm` holds the packed LSTM
 * weights (lla, word-lla, lstm), null for lda.
 */
export function writeModel(path: string, model: ModelState, writer: TrainedWith, lstm: Float32Array | null): void {
  const sections: Record<string, SectionArray> = {};
  if (model.tables) {
    const { counts, nonZeros } = model.tables;
    sections.rowOffsets = counts.rowOffsets;
    sections.rowTopics = counts.rowTopics.subarray(0, nonZeros);
    sections.rowCounts = counts.rowCounts.subarray(0, nonZeros);
    sections.topicTotals = counts.topicTotals;
  }
  if (model.transitions) sections.transitions = model.transitions;
  if (model.repeat) sections.repeat = model.repeat;
  if (lstm) sections.lstm = lstm;
  const vocabularyCounts = model.vocabulary.counts;
  if (vocabularyCounts) sections.vocabularyCounts = vocabularyCounts;
  writeModelFile(path, {
    kind: 'model',
    header: {
      schema: MODEL_FILE_SCHEMA,
      settings: model.settings,
      vocabulary: model.vocabulary.words,
      history: model.history.map(finiteRecord),
      results: finiteJson(model.results) as Record<string, unknown>,
      trajectories: model.trajectories,
      backend: writer.backend,
      tfBackend: writer.tfBackend,
      nonZeros: model.tables?.nonZeros ?? 0,
      copy: model.copy
        ? {
            decay: model.copy.decay,
            window: model.copy.window,
            rate: Array.from(model.copy.rate),
            mass: Array.from(model.copy.mass),
          }
        : null,
      cache: model.cache,
    },
    sections,
  });
}

/**
 * Reads and checks a model file. `threads` replaces the saved thread count. `trainedWith` is null for a file
 * written before the backends were recorded; `lstm` is null for lda.
 */
export function readModel(
  path: string,
  threads?: number,
): ModelState & { trainedWith: TrainedWith | null; lstm: LstmParameters | null } {
  const contents = readModelFile(path, { expectKind: 'model' });
  const header = contents.header as {
    schema?: number;
    settings?: ModelSettings;
    vocabulary?: string[];
    history?: IterationRecord[];
    results?: Record<string, unknown>;
    trajectories?: Trajectory[];
    nonZeros?: number;
    backend?: string;
    tfBackend?: string | null;
    copy?: unknown;
    cache?: unknown;
  };
  if (typeof header.schema === 'number' && header.schema > MODEL_FILE_SCHEMA) {
    throw new InputError(
      `holds a model of header schema ${header.schema}, written by a newer lla (this one reads ` +
        `schemas 1 to ${MODEL_FILE_SCHEMA}): upgrade lla`,
      path,
    );
  }
  if (
    !(Number.isInteger(header.schema) && header.schema! >= 1 && header.schema! <= MODEL_FILE_SCHEMA) ||
    typeof header.settings !== 'object' ||
    header.settings === null ||
    Array.isArray(header.settings) ||
    !Array.isArray(header.vocabulary)
  ) {
    throw new InputError(
      'is an lla container but not a model this version understands (missing settings or ' +
        'vocabulary); retrain the model',
      path,
    );
  }
  // only the settings this lla knows: create() kept misspelt options in the model before it refused them
  const known = Object.fromEntries(
    Object.entries(header.settings).filter(([key]) => Object.hasOwn(DEFAULT_SETTINGS, key)),
  );
  // a setting the file predates takes the meaning it had then (no lookahead, no hmm initialisation)
  const settings = { ...DEFAULT_SETTINGS, ...withLegacyDefaults(known), ...(threads !== undefined ? { threads } : {}) };
  try {
    validateSettings(settings);
  } catch (error) {
    throw new InputError(`malformed model: invalid settings: ${(error as Error).message}`, path);
  }
  // the whole file, before any of it is used (model-validation.ts)
  validateModelFile(path, { header, sections: contents.sections, settings });
  const counts =
    contents.sections.vocabularyCounts instanceof Int32Array ? contents.sections.vocabularyCounts : undefined;
  const V = header.vocabulary.length;
  const K = settings.topics;
  let tables: TopicTables | null = null;
  let transitions: Float64Array | null = null;
  const topicModel = settings.model === 'lla' || settings.model === 'word-lla' || settings.model === 'lda';
  if (topicModel) {
    const rowOffsets = requireSection(contents, 'rowOffsets', 'int32', path);
    const rowTopics = requireSection(contents, 'rowTopics', 'int32', path);
    const rowCounts = requireSection(contents, 'rowCounts', 'int32', path);
    const topicTotals = requireSection(contents, 'topicTotals', 'int32', path);
    tables = { counts: { rowOffsets, rowTopics, rowCounts, topicTotals }, nonZeros: rowTopics.length };
    if (contents.sections.transitions instanceof Float64Array) transitions = contents.sections.transitions;
  }
  let lstm: LstmParameters | null = null;
  if (settings.model === 'lstm' || settings.model === 'lla' || settings.model === 'word-lla') {
    const packedLstm = requireSection(contents, 'lstm', 'float32', path);
    const shape =
      settings.model === 'lstm'
        ? actionLstmShape(V, settings.hidden, settings.embedding)
        : topicLstmShape(settings.model, K, V, settings.hidden, settings.embedding);
    try {
      lstm = unpackParameters(shape, packedLstm);
    } catch (error) {
      throw new InputError(`its LSTM weights do not fit its settings (${(error as Error).message})`, path);
    }
  }
  return {
    settings,
    vocabulary: new Vocabulary(header.vocabulary, counts),
    history: header.history ?? [],
    results: header.results ?? {},
    trajectories: header.trajectories ?? [],
    trainedWith:
      typeof header.backend === 'string' ? { backend: header.backend, tfBackend: header.tfBackend ?? null } : null,
    tables,
    transitions,
    lstm,
    copy: topicModel ? copyFromHeader(header.copy, K, path) : null,
    repeat: topicModel && settings.repeats === 'blocks' ? (contents.sections.repeat as Float64Array) : null,
    cache: cacheFromHeader(header.cache, path, settings.model === 'cache'),
  };
}

/** The copy component of the header (schema 2), checked as the kernels will read it; null when absent. */
function copyFromHeader(value: unknown, K: number, path: string): CopyParameters | null {
  if (value === undefined || value === null) return null;
  const copy = value as { decay?: unknown; window?: unknown; rate?: unknown; mass?: unknown };
  const numbers = (array: unknown) =>
    Array.isArray(array) && array.length === K && array.every((x) => typeof x === 'number');
  const { decay, window } = copy;
  if (
    !(typeof decay === 'number' && decay >= 0 && decay <= 1) ||
    !Number.isInteger(window) ||
    (window as number) < 1 ||
    (window as number) > KERNEL_LIMITS.copyWindow.max ||
    !numbers(copy.rate) ||
    !numbers(copy.mass) ||
    !(copy.rate as number[]).every((x) => x >= 0 && x <= 1) ||
    !(copy.mass as number[]).every((x) => x >= 0)
  ) {
    throw new InputError(
      `malformed model: its copy component does not hold a decay in [0, 1], a window in [1, ` +
        `${KERNEL_LIMITS.copyWindow.max}], ${K} rates in [0, 1] and ${K} masses >= 0; use the file lla wrote, or train ` +
        'the model again',
      path,
    );
  }
  return {
    decay,
    window: window as number,
    rate: Float64Array.from(copy.rate as number[]),
    mass: Float64Array.from(copy.mass as number[]),
  };
}

/** The recency cache's constants of the header (schema 2); null when absent, which a cache model may not be. */
function cacheFromHeader(value: unknown, path: string, required: boolean): FittedCache | null {
  const fail = (problem: string): never => {
    throw new InputError(`malformed model: ${problem}; use the file lla wrote, or train the model again`, path);
  };
  if (value === undefined || value === null) {
    if (required) fail('a cache model without its constants');
    return null;
  }
  const cache = value as Partial<FittedCache>;
  if (
    !(typeof cache.decay === 'number' && cache.decay >= 0 && cache.decay <= 1) ||
    !(typeof cache.mass === 'number' && cache.mass > 0 && Number.isFinite(cache.mass)) ||
    !Number.isInteger(cache.window) ||
    cache.window! < 1 ||
    cache.window! > KERNEL_LIMITS.copyWindow.max
  ) {
    fail('its recency-cache constants are not a decay in [0, 1], a mass > 0 and a window');
  }
  return { decay: cache.decay!, mass: cache.mass!, window: cache.window!, fitted: cache.fitted === true };
}

/** JSON with non-finite numbers replaced by null (the model file's header must be finite). */
function finiteJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}

function finiteRecord(record: IterationRecord): IterationRecord {
  return finiteJson(record) as IterationRecord;
}
