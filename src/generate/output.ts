/**
 * Serialises a synthetic corpus and its truth as streams of text chunks (never one giant string: a big corpus or
 * a K x V phi would exceed V8's string limit) for an atomic writer.
 */
import { actionName, denseTopicRow, type SyntheticCorpus } from './synthetic.js';

export const OUTPUT_FORMATS = ['text', 'jsonl', 'events'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** chunks are flushed at about this many characters */
const CHUNK_CHARS = 1 << 20;

/**
 * `--format` default from the file name, as the readers choose theirs: .jsonl / .jsonl.gz are jsonl, .tsv /
 * .tsv.gz events, anything else text (so a generated file always reads back as what was written).
 */
export function outputFormatFromName(path: string): OutputFormat {
  if (/\.jsonl(\.gz)?$/i.test(path)) return 'jsonl';
  return /\.tsv(\.gz)?$/i.test(path) ? 'events' : 'text';
}

/** The header line of an events file (the reader skips a first line whose time is not a time). */
const EVENTS_HEADER = 'user\ttime\taction\n';

/** the sequence id written to jsonl (and the truth's per-sequence key) */
export function sequenceId(d: number): string {
  return `s${d}`;
}

/**
 * text: one sequence per line, actions separated by one space; jsonl: {"id": "s<d>", "tokens": [...]} per line;
 * events: a header, then one `s<d><TAB>t<TAB>action` line per action, the time t being the action's position in
 * its sequence in seconds from 0 (so the reader's grouping by user and stable time order gives the sequences
 * back, and no --session-gap of a second or more splits them). `onSequence(done)` is called after every
 * sequence so a caller can report progress.
 */
export function* corpusChunks(
  corpus: SyntheticCorpus,
  format: OutputFormat,
  onSequence?: (done: number) => void,
): Generator<string> {
  const names = new Array<string>(corpus.options.vocabulary);
  for (let w = 0; w < names.length; w += 1) names[w] = actionName(w);
  const quoted = format === 'jsonl' ? names.map((name) => JSON.stringify(name)) : names;
  const sequences = corpus.offsets.length - 1;
  let buffer = format === 'events' ? EVENTS_HEADER : '';
  for (let d = 0; d < sequences; d += 1) {
    const parts: string[] = [];
    for (let t = corpus.offsets[d]!; t < corpus.offsets[d + 1]!; t += 1) parts.push(quoted[corpus.tokens[t]!]!);
    if (format === 'jsonl') buffer += `{"id":${JSON.stringify(sequenceId(d))},"tokens":[${parts.join(',')}]}\n`;
    else if (format === 'events') buffer += parts.map((action, t) => `${sequenceId(d)}\t${t}\t${action}\n`).join('');
    else buffer += `${parts.join(' ')}\n`;
    if (buffer.length >= CHUNK_CHARS) {
      yield buffer;
      buffer = '';
    }
    onSequence?.(d + 1);
  }
  if (buffer !== '') yield buffer;
}

/**
 * The truth as one JSON object: options, the action names (column order of phi), phi [K][V] dense, the
 * transition structure, and the true topic sequence of every sequence (in file order, ids s0, s1, ...).
 */
export function* truthChunks(corpus: SyntheticCorpus): Generator<string> {
  const { options, topicModel, transitions } = corpus;
  const header = {
    format: 'lla-synthetic-truth',
    version: 1,
    seed: options.seed,
    topics: options.topics,
    vocabularySize: options.vocabulary,
    sequences: options.sequences,
    length: options.length,
    dynamics: options.dynamics,
    concentration: options.concentration,
    tokens: corpus.tokens.length,
    copyRate: options.copyRate,
    copyDecay: options.copyDecay,
    copiedTokens: corpus.copiedTokens,
    phiLayout: 'phi[k][w]: probability of action actions[w] under topic k; rows sum to 1',
    transitions,
  };
  const open = JSON.stringify(header);
  yield `${open.slice(0, -1)},\n"actions":[`;
  let buffer = '';
  for (let w = 0; w < options.vocabulary; w += 1) {
    buffer += `${w === 0 ? '' : ','}${JSON.stringify(actionName(w))}`;
    if (buffer.length >= CHUNK_CHARS) {
      yield buffer;
      buffer = '';
    }
  }
  buffer += '],\n"phi":[\n';
  for (let k = 0; k < options.topics; k += 1) {
    const row = denseTopicRow(topicModel, k);
    buffer += `${k === 0 ? '' : ',\n'}[${Array.from(row, (p) => (p === 0 ? '0' : String(p))).join(',')}]`;
    if (buffer.length >= CHUNK_CHARS) {
      yield buffer;
      buffer = '';
    }
  }
  buffer += '],\n"topicSequences":[\n';
  const sequences = corpus.offsets.length - 1;
  for (let d = 0; d < sequences; d += 1) {
    const row = corpus.topics.subarray(corpus.offsets[d]!, corpus.offsets[d + 1]!);
    buffer += `${d === 0 ? '' : ',\n'}[${row.join(',')}]`;
    if (buffer.length >= CHUNK_CHARS) {
      yield buffer;
      buffer = '';
    }
  }
  buffer += ']}\n';
  yield buffer;
}
