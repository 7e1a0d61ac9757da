/** `lla corpus-stats <file>`: sequences, tokens, distinct tokens and sequence lengths, before any filtering. */
import type { Command, CommandIO } from '../command.js';
import { positionals, type ParsedArgs } from '../options.js';
import { READ_OPTIONS, readOptionsFrom } from '../corpus-options.js';
import { readDocuments } from '../../corpus/documents.js';
import { corpusStats, type CorpusStats } from '../../corpus/stats.js';

/** Files smaller than this load in well under a second: no progress line. */
const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

function progressReporter(io: CommandIO): ((bytesRead: number, totalBytes: number) => void) | undefined {
  if (!io.interactive) return undefined;
  let last = 0;
  return (bytesRead, totalBytes) => {
    const now = Date.now();
    if (totalBytes < PROGRESS_MIN_BYTES || now - last < 100) return;
    last = now;
    const percent = totalBytes === 0 ? 100 : Math.min(100, (100 * bytesRead) / totalBytes);
    io.stderr.write(`\rreading ${percent.toFixed(0).padStart(3)}% (${(bytesRead / 1048576).toFixed(1)} MiB)`);
  };
}

const integer = (value: number) => value.toLocaleString('en-US');

export function formatStats(stats: CorpusStats, seconds: number): string {
  const { lengths } = stats;
  const rows: [string, string][] = [
    ['file', stats.file],
    ['format', stats.format],
    ['sequences', integer(stats.sequences)],
  ];
  if (stats.users !== undefined) rows.push(['users', integer(stats.users)]);
  rows.push(['tokens', integer(stats.tokens)], ['distinct tokens', integer(stats.vocabulary)]);
  const quantiles: [string, number][] = [
    ['min', lengths.min],
    ['10%', lengths.p10],
    ['median', lengths.median],
    ['90%', lengths.p90],
    ['99%', lengths.p99],
    ['max', lengths.max],
  ];
  const cells = quantiles.map(([name, value]) => [name, integer(value)]);
  const widths = cells.map(([name, value]) => Math.max(name.length, value.length));
  rows.push(['length', cells.map(([name], at) => name.padStart(widths[at])).join('  ')]);
  rows.push(['', cells.map(([, value], at) => value.padStart(widths[at])).join('  ')]);
  rows.push(['mean length', lengths.mean.toFixed(1)], ['read in', `${seconds.toFixed(2)} s`]);
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${label.padEnd(width)}${value}`).join('\n') + '\n';
}

export const command: Command = {
  usage: '<file> [options]',
  description:
    'Reads a corpus (text, events or jsonl; .gz transparently) and prints its sequences, tokens, ' +
    'distinct tokens and the quantiles of the sequence lengths, counted before any vocabulary filtering.',
  options: READ_OPTIONS,
  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    const [file] = positionals('corpus-stats', args, ['file']);
    const options = readOptionsFrom('corpus-stats', args);
    const onProgress = progressReporter(io);
    const started = process.hrtime.bigint();
    let raw;
    try {
      raw = await readDocuments(file, { ...options, onProgress, signal: io.signal });
    } finally {
      if (onProgress) io.stderr.write('\r\x1b[K');
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const stats = corpusStats(raw);
    if (args.values.json) {
      io.stdout.write(`${JSON.stringify({ ...stats, seconds: Number(seconds.toFixed(3)) })}\n`);
    } else {
      io.stdout.write(formatStats(stats, seconds));
    }
    return 0;
  },
};
