/**
 * `lla export <model> --out FILE`: the model's tables for other tools, as JSON (one file) or CSV (one file per
 * table): phi (K x V), the top actions per topic and the K x K topic-transition matrix. phi is dense up to
 * --max-dense entries; above that (or with --phi sparse) only the entries with a training count are listed and
 * every other action of a topic has the topic's floor value beta / (n_k + V beta). Everything is computed
 * before the first byte is written, and the files are written as a whole: all of them, or none.
 */
import type { Command, CommandIO } from '../command.js';
import { choiceOption, intOption, positionals, stringOption, type ParsedArgs } from '../options.js';
import { BACKEND_OPTIONS } from '../model-options.js';
import { loadModelFor, requireTopicModel } from '../model-input.js';
import type { LlaModel } from '../../model/model.js';
import { writeFilesAtomic, type FileToWrite } from '../../io/atomic.js';
import { checkOutputs } from '../../io/outputs.js';
import { UsageError } from '../../errors.js';
import { DEFAULT_TOPIC_ACTIONS } from '../../eval/topics.js';

const TABLES = ['phi', 'topics', 'transitions'] as const;
type Table = (typeof TABLES)[number];
const DEFAULT_MAX_DENSE = 10_000_000;
/** every table, and phi's layout chosen by size (--max-dense), unless asked otherwise */
const DEFAULT_WHAT = 'all';
const DEFAULT_LAYOUT = 'auto';

/** phi by topic: the sparse part of every row (actions with n_{k,w} > 0) and the row's floor value. */
interface PhiByTopic {
  /** floor: [K] beta / (n_k + V beta), phi of every action without a count in topic k */
  floor: Float64Array;
  /** topicOffsets: [K+1] topic k's entries are [topicOffsets[k], topicOffsets[k+1]) of the two arrays below */
  topicOffsets: Int32Array;
  /** actions: [nnz] action ids, ascending within a topic */
  actions: Int32Array;
  /** probabilities: [nnz] (n_{k,w} + beta) / (n_k + V beta) */
  probabilities: Float64Array;
}

/** Transposes the model's action-major count rows into topic-major phi rows (O(nnz + K + V)). */
function phiByTopic(model: LlaModel): PhiByTopic {
  const { counts } = model.servingTables();
  const K = model.settings.topics;
  const V = model.vocabulary.size;
  const beta = model.settings.beta;
  const nonZeros = counts.rowOffsets[V];
  const topicOffsets = new Int32Array(K + 1);
  for (let e = 0; e < nonZeros; e++) topicOffsets[counts.rowTopics[e] + 1]++;
  for (let k = 0; k < K; k++) topicOffsets[k + 1] += topicOffsets[k];
  const cursor = topicOffsets.slice(0, K);
  const actions = new Int32Array(nonZeros);
  const probabilities = new Float64Array(nonZeros);
  const floor = new Float64Array(K);
  for (let k = 0; k < K; k++) floor[k] = beta / (counts.topicTotals[k] + V * beta);
  // visiting actions in ascending order keeps each topic's entries sorted by action id
  for (let w = 0; w < V; w++) {
    for (let e = counts.rowOffsets[w]; e < counts.rowOffsets[w + 1]; e++) {
      const k = counts.rowTopics[e];
      const at = cursor[k]++;
      actions[at] = w;
      probabilities[at] = (counts.rowCounts[e] + beta) / (counts.topicTotals[k] + V * beta);
    }
  }
  return { floor, topicOffsets, actions, probabilities };
}

/** Row k of phi, dense [V]. */
function denseRow(phi: PhiByTopic, k: number, V: number): Float64Array {
  const row = new Float64Array(V).fill(phi.floor[k]);
  for (let e = phi.topicOffsets[k]; e < phi.topicOffsets[k + 1]; e++) row[phi.actions[e]] = phi.probabilities[e];
  return row;
}

/**
 * A CSV text field (an action name): quoted when it holds a comma, quote or line break (RFC 4180), and guarded
 * against formula injection: a spreadsheet runs a cell that starts with =, +, - or @ (or a tab or carriage return
 * before one) as a formula, so such a name is written with an apostrophe in front, which spreadsheets show as
 * text. A name that starts with an apostrophe gets one more, so removing the first apostrophe of any name that
 * has one restores every name. Numbers are never guarded.
 */
export function csvField(value: string): string {
  const guarded = /^[=+\-@\t\r']/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

interface ExportPlan {
  model: LlaModel;
  tables: Table[];
  layout: 'dense' | 'sparse';
  top: number;
  phi: PhiByTopic | null;
  topics: Array<{ topic: number; tokens: number; actions: Array<{ action: string; probability: number }> }> | null;
  transitions: number[][] | null;
}

function* jsonChunks(plan: ExportPlan): Generator<string> {
  const { model } = plan;
  const K = model.settings.topics;
  const V = model.vocabulary.size;
  yield (
    `{"format":"lla-export","version":1,"model":${JSON.stringify(model.model)},"numTopics":${K},` +
    `"numActions":${V},"beta":${model.settings.beta}`
  );
  if (plan.phi) {
    const phi = plan.phi;
    yield `,"actions":${JSON.stringify(model.vocabulary.words)},"phi":{"layout":"${plan.layout}"`;
    if (plan.layout === 'dense') {
      yield ',"rows":[';
      for (let k = 0; k < K; k++) yield `${k > 0 ? ',' : ''}[${denseRow(phi, k, V).join(',')}]`;
      yield ']}';
    } else {
      yield `,"floor":[${phi.floor.join(',')}],"rows":[`;
      for (let k = 0; k < K; k++) {
        const start = phi.topicOffsets[k];
        const end = phi.topicOffsets[k + 1];
        yield (
          `${k > 0 ? ',' : ''}{"actions":[${phi.actions.subarray(start, end).join(',')}],` +
          `"probabilities":[${phi.probabilities.subarray(start, end).join(',')}]}`
        );
      }
      yield ']}';
    }
  }
  if (plan.topics) yield `,"topics":${JSON.stringify(plan.topics)}`;
  if (plan.transitions) yield `,"transitions":${JSON.stringify(plan.transitions)}`;
  yield '}\n';
}

function* phiCsv(plan: ExportPlan): Generator<string> {
  const { model } = plan;
  const phi = plan.phi!;
  const K = model.settings.topics;
  const V = model.vocabulary.size;
  if (plan.layout === 'dense') {
    yield `topic,${model.vocabulary.words.map(csvField).join(',')}\n`;
    for (let k = 0; k < K; k++) yield `${k},${denseRow(phi, k, V).join(',')}\n`;
    return;
  }
  // sparse: one row per non-zero count; the action_id -1 row gives the topic's floor (every unlisted action)
  yield 'topic,action_id,action,probability\n';
  for (let k = 0; k < K; k++) {
    const lines = [`${k},-1,,${phi.floor[k]}`];
    for (let e = phi.topicOffsets[k]; e < phi.topicOffsets[k + 1]; e++) {
      lines.push(`${k},${phi.actions[e]},${csvField(model.vocabulary.word(phi.actions[e]))},${phi.probabilities[e]}`);
    }
    yield `${lines.join('\n')}\n`;
  }
}

function* topicsCsv(plan: ExportPlan): Generator<string> {
  yield 'topic,rank,action,probability,topic_tokens\n';
  for (const entry of plan.topics!) {
    yield entry.actions
      .map((word, rank) => `${entry.topic},${rank + 1},${csvField(word.action)},${word.probability},${entry.tokens}\n`)
      .join('');
  }
}

function* transitionsCsv(plan: ExportPlan): Generator<string> {
  const K = plan.model.settings.topics;
  yield `from_topic,${Array.from({ length: K }, (_, k) => `to_${k}`).join(',')}\n`;
  for (let j = 0; j < K; j++) yield `${j},${plan.transitions![j].join(',')}\n`;
}

/** `<base>.<table>.csv` next to --out for `--what all` in CSV (base: --out without a .csv extension). */
export function csvPathFor(out: string, table: Table): string {
  return `${out.replace(/\.csv$/i, '')}.${table}.csv`;
}

export const command: Command = {
  usage: '<model> --out FILE [options]',
  description:
    'Exports the tables of a topic model (lla, word-lla or lda). JSON (the default, or when --out ' +
    'does not end in .csv): one file {"format": "lla-export", "model", "numTopics", "numActions", "beta", ' +
    '"actions": [V], "phi": {"layout": "dense", "rows": [K][V]} or {"layout": "sparse", "floor": [K], "rows": ' +
    '[K] of {"actions": [ids], "probabilities": [...]}}, "topics": [{"topic", "tokens", "actions": [{"action", ' +
    '"probability"}]}], "transitions": [K][K] (row = current topic)}. CSV: one table per file; with --what all ' +
    'the files are <out>.phi.csv, <out>.topics.csv and <out>.transitions.csv (a .csv ending of --out is dropped ' +
    'first), with one --what table the file is --out itself. Dense phi CSV: a header of the action strings, then ' +
    'one row per topic; sparse phi CSV: topic,action_id,action,probability for the actions with a training count, ' +
    "plus a row with action_id -1 holding the topic's floor, the probability of every unlisted action. An action " +
    'name that a spreadsheet would run as a formula (one starting with =, +, -, @, a tab or a carriage return) is ' +
    'written with an apostrophe in front, as is a name that starts with an apostrophe: remove the first apostrophe ' +
    'of a name that has one to get the name back. phi is ' +
    'dense when K x V is at most --max-dense, sparse otherwise (--phi forces a layout; dense above the limit is ' +
    'refused). Every output path is checked before any work: a folder, a named pipe or a device there, or the ' +
    'model itself, is refused (exit 2); a symbolic link to a regular file writes the file it points to. The files ' +
    'are written atomically and as a whole: on any error (a full disk on the last file) none is written or replaced.',
  options: {
    out: {
      type: 'string',
      short: 'o',
      valueName: 'FILE',
      description: 'output file (CSV with --what all: the base name of three files)',
    },
    format: {
      type: 'string',
      valueName: 'F',
      description: "'json' or 'csv' (default: csv when --out ends in .csv, else json)",
    },
    what: {
      type: 'string',
      valueName: 'T',
      description: "what to export: 'phi', 'topics', 'transitions' or 'all'",
      default: DEFAULT_WHAT,
    },
    top: {
      type: 'string',
      short: 'n',
      valueName: 'N',
      description: 'actions per topic in the topics table',
      default: String(DEFAULT_TOPIC_ACTIONS),
    },
    phi: {
      type: 'string',
      valueName: 'L',
      description: "phi layout: 'auto', 'dense' or 'sparse'",
      default: DEFAULT_LAYOUT,
    },
    'max-dense': {
      type: 'string',
      valueName: 'N',
      description: 'largest K x V written as a dense phi',
      default: String(DEFAULT_MAX_DENSE),
    },
    ...BACKEND_OPTIONS,
  },
  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    const [modelPath] = positionals('export', args, ['model']);
    const json = args.values.json === true;
    const out = stringOption('export', args, 'out');
    if (out === undefined || out.trim() === '') {
      throw new UsageError("lla export: --out FILE is required (where to write the export). Run 'lla export --help'.");
    }
    const format = choiceOption(
      'export',
      args,
      'format',
      ['json', 'csv'] as const,
      /\.csv$/i.test(out) ? 'csv' : 'json',
    );
    const what = choiceOption('export', args, 'what', [...TABLES, 'all'] as const, DEFAULT_WHAT);
    const pathOf = (table: Table) => (format === 'csv' && what === 'all' ? csvPathFor(out, table) : out);
    const outputs =
      format === 'csv' && what === 'all'
        ? TABLES.map((table) => ({ path: pathOf(table), name: `the ${table} table file (from --out ${out})` }))
        : [{ path: out, name: '--out' }];
    const top = intOption('export', args, 'top', DEFAULT_TOPIC_ACTIONS, 1, 1_000_000);
    const layoutChoice = choiceOption('export', args, 'phi', ['auto', 'dense', 'sparse'] as const, DEFAULT_LAYOUT);
    const maxDense = intOption('export', args, 'max-dense', DEFAULT_MAX_DENSE, 0);
    checkOutputs('export', outputs, [{ path: modelPath, name: 'the model' }]);

    const model = await loadModelFor('export', modelPath, args, io);
    requireTopicModel('export', model, modelPath, 'export phi, topics or transitions');
    const K = model.settings.topics;
    const V = model.vocabulary.size;
    let tables: Table[] = what === 'all' ? [...TABLES] : [what];

    let transitions: number[][] | null = null;
    if (tables.includes('transitions')) {
      try {
        transitions = model.transitionMatrix();
      } catch {
        if (what === 'transitions') {
          throw new UsageError(
            `lla export: ${modelPath} holds no topic-transition matrix (written by an older lla); ` +
              'retrain it, or export --what phi or topics',
          );
        }
        io.stderr.write(`lla export: ${modelPath} holds no topic-transition matrix; exporting phi and topics only\n`);
        tables = tables.filter((table) => table !== 'transitions');
      }
    }
    const entries = K * V;
    let layout: 'dense' | 'sparse' =
      layoutChoice === 'auto' ? (entries <= maxDense ? 'dense' : 'sparse') : layoutChoice;
    if (tables.includes('phi') && layout === 'dense' && entries > maxDense) {
      throw new UsageError(
        `lla export: a dense phi of ${K} topics x ${V.toLocaleString('en-US')} actions = ` +
          `${entries.toLocaleString('en-US')} entries is above --max-dense ${maxDense.toLocaleString('en-US')}; ` +
          'use --phi sparse (only entries with a training count, plus one floor value per topic), or raise --max-dense',
      );
    }
    if (!tables.includes('phi')) layout = 'sparse';
    const { counts } = model.servingTables();
    const plan: ExportPlan = {
      model,
      tables,
      layout,
      top,
      phi: tables.includes('phi') ? phiByTopic(model) : null,
      topics: tables.includes('topics')
        ? Array.from({ length: K }, (_, k) => ({
            topic: k,
            tokens: counts.topicTotals[k],
            actions: model.topicWords(k, top),
          }))
        : null,
      transitions,
    };

    const files: Array<FileToWrite & { table: Table | 'all' }> = [];
    if (format === 'json') {
      files.push({ path: out, table: 'all', chunks: jsonChunks(plan) });
    } else {
      const writers: Record<Table, (p: ExportPlan) => Generator<string>> = {
        phi: phiCsv,
        topics: topicsCsv,
        transitions: transitionsCsv,
      };
      for (const table of tables) files.push({ path: pathOf(table), table, chunks: writers[table](plan) });
    }
    writeFilesAtomic(files);
    const result = {
      model: model.model,
      modelFile: modelPath,
      format,
      what,
      tables,
      phiLayout: tables.includes('phi') ? layout : null,
      numTopics: K,
      numActions: V,
      top,
      files: files.map((file) => file.path),
      backend: model.backend,
    };
    if (json) {
      io.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      io.stdout.write(
        `${files
          .map(
            (file) =>
              `wrote ${file.path}` +
              (file.table === 'phi' || (file.table === 'all' && plan.phi)
                ? ` (phi ${layout}, ${K} x ${V.toLocaleString('en-US')})`
                : ''),
          )
          .join('\n')}\n`,
      );
    }
    return 0;
  },
};
