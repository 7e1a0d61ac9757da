/**
 * What a model file holds (SPEC section 6) and how LlaModel's state goes into and comes out of the container
 * (src/io/format*.ts): the settings, vocabulary, history, results and report traces in the header; the count
 * tables, transitions and packed LSTM weights as sections. Every problem with a file is an InputError naming it.
 */
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

/** The header layout this lla writes and reads (the container's own format version is separate). */
const MODEL_FILE_SCHEMA = 1;

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
  if (lstm) sections.lstm = lstm;
  const vocabularyCounts = model.vocabulary.counts;
  if (vocabularyCounts) sections.vocabularyCounts = vocabularyCounts;
  writeModelFile(path, {
    kind: 'model',
    header: {
      schema: MODEL_FILE_SCHEMA, settings: model.settings, vocabulary: model.vocabulary.words,
      history: model.history.map(finiteRecord), results: finiteJson(model.results) as Record<string, unknown>,
      trajectories: model.trajectories, backend: writer.backend, tfBackend: writer.tfBackend,
      nonZeros: model.tables?.nonZeros ?? 0,
    },
    sections,
  });
}

/**
 * Reads and checks a model file. `threads` replaces the saved thread count. `trainedWith` is null for a file
 * written before the backends were recorded; `lstm` is null for lda.
 */
export function readModel(path: string, threads?: number):
  ModelState & { trainedWith: TrainedWith | null; lstm: LstmParameters | null } {
  const contents = readModelFile(path, { expectKind: 'model' });
  const header = contents.header as {
    schema?: number; settings?: ModelSettings; vocabulary?: string[]; history?: IterationRecord[];
    results?: Record<string, unknown>; trajectories?: Trajectory[]; nonZeros?: number;
    backend?: string; tfBackend?: string | null;
  };
  if (header.schema !== MODEL_FILE_SCHEMA || typeof header.settings !== 'object' || header.settings === null ||
    Array.isArray(header.settings) || !Array.isArray(header.vocabulary)) {
    throw new InputError('is an lla container but not a model this version understands (missing settings or ' +
      'vocabulary); retrain the model', path);
  }
  // only the settings this lla knows: create() kept misspelt options in the model before it refused them
  const known = Object.fromEntries(Object.entries(header.settings).filter(([key]) => Object.hasOwn(DEFAULT_SETTINGS, key)));
  // a setting the file predates takes the meaning it had then (no lookahead, no hmm initialisation)
  const settings = { ...DEFAULT_SETTINGS, ...withLegacyDefaults(known), ...(threads !== undefined ? { threads } : {}) };
  try {
    validateSettings(settings);
  } catch (error) {
    throw new InputError(`malformed model: invalid settings: ${(error as Error).message}`, path);
  }
  // the whole file, before any of it is used (model-validation.ts)
  validateModelFile(path, { header, sections: contents.sections, settings });
  const counts = contents.sections.vocabularyCounts instanceof Int32Array ? contents.sections.vocabularyCounts : undefined;
  const V = header.vocabulary.length;
  const K = settings.topics;
  let tables: TopicTables | null = null;
  let transitions: Float64Array | null = null;
  if (settings.model !== 'lstm') {
    const rowOffsets = requireSection(contents, 'rowOffsets', 'int32', path);
    const rowTopics = requireSection(contents, 'rowTopics', 'int32', path);
    const rowCounts = requireSection(contents, 'rowCounts', 'int32', path);
    const topicTotals = requireSection(contents, 'topicTotals', 'int32', path);
    tables = { counts: { rowOffsets, rowTopics, rowCounts, topicTotals }, nonZeros: rowTopics.length };
    if (contents.sections.transitions instanceof Float64Array) transitions = contents.sections.transitions;
  }
  let lstm: LstmParameters | null = null;
  if (settings.model !== 'lda') {
    const packedLstm = requireSection(contents, 'lstm', 'float32', path);
    const shape = settings.model === 'lstm'
      ? actionLstmShape(V, settings.hidden, settings.embedding)
      : topicLstmShape(settings.model, K, V, settings.hidden, settings.embedding);
    try {
      lstm = unpackParameters(shape, packedLstm);
    } catch (error) {
      throw new InputError(`its LSTM weights do not fit its settings (${(error as Error).message})`, path);
    }
  }
  return {
    settings, vocabulary: new Vocabulary(header.vocabulary, counts), history: header.history ?? [],
    results: header.results ?? {}, trajectories: header.trajectories ?? [],
    trainedWith: typeof header.backend === 'string' ? { backend: header.backend, tfBackend: header.tfBackend ?? null } : null,
    tables, transitions, lstm,
  };
}

/** JSON with non-finite numbers replaced by null (the model file's header must be finite). */
function finiteJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}

function finiteRecord(record: IterationRecord): IterationRecord {
  return finiteJson(record) as IterationRecord;
}
