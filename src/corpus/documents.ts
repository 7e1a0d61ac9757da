/** Reading any supported input into RawDocuments: the format from the flag or the file name. */
import { UsageError } from '../errors.js';
import { readEvents } from './events.js';
import { readJsonl } from './jsonl.js';
import { readText } from './text.js';
import type { CorpusFormat, RawDocuments, ReadOptions } from './types.js';

/** `.tsv`/`.tsv.gz` are events, `.jsonl`/`.jsonl.gz` jsonl, anything else text. */
export function formatFromName(path: string): CorpusFormat {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.tsv')) return 'events';
  if (name.endsWith('.jsonl')) return 'jsonl';
  return 'text';
}

export async function readDocuments(path: string, options: ReadOptions = {}): Promise<RawDocuments> {
  const format = options.format ?? formatFromName(path);
  if (options.sessionGap !== undefined && format !== 'events') {
    throw new UsageError(
      `--session-gap splits event logs by time, but ${path} is read as ${format}; ` +
        'drop the flag or pass --format events',
    );
  }
  switch (format) {
    case 'events':
      return readEvents(path, options);
    case 'jsonl':
      return readJsonl(path, options);
    case 'text':
      return readText(path, options);
    default:
      throw new UsageError(`unknown corpus format '${String(format)}': use one of text, events, jsonl`);
  }
}
