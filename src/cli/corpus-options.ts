/**
 * The corpus flags shared by every command that reads an input: how to read it (--format, --session-gap) and
 * what to keep (--min-count, --max-vocab, --stopwords, --max-df, --max-length).
 */
import { UsageError } from '../errors.js';
import { CORPUS_FORMATS, type ReadOptions } from '../corpus/types.js';
import { DEFAULT_MIN_COUNT, type VocabularyOptions } from '../corpus/vocabulary.js';
import type { CorpusOptions } from '../corpus/corpus.js';
import { readStopwords } from '../corpus/stopwords.js';
import { choiceOption, intOption, numberOption, stringOption, type OptionSpecs, type ParsedArgs } from './options.js';

/** How to read the input file. */
export const READ_OPTIONS: OptionSpecs = {
  format: {
    type: 'string',
    valueName: 'FORMAT',
    description:
      `input format: ${CORPUS_FORMATS.join(', ')} ` +
      '(default: events for .tsv[.gz], jsonl for .jsonl[.gz], text otherwise)',
  },
  'session-gap': {
    type: 'string',
    valueName: 'S',
    description:
      "events: split a user's actions into separate " +
      'sequences at time gaps longer than S seconds (suffixes m, h, d allowed: 30m, 2h)',
  },
};

/** What to keep of the input: vocabulary filters and sequence chunking. */
export const FILTER_OPTIONS: OptionSpecs = {
  'min-count': {
    type: 'string',
    valueName: 'N',
    default: String(DEFAULT_MIN_COUNT),
    description: 'drop actions seen fewer than N times in training',
  },
  'max-vocab': { type: 'string', valueName: 'N', description: 'keep only the N most frequent actions' },
  stopwords: { type: 'string', valueName: 'FILE', description: 'drop the actions listed in FILE (one per line)' },
  'max-df': {
    type: 'string',
    valueName: 'F',
    description: 'drop actions found in more than fraction F of the training sequences',
  },
  'max-length': {
    type: 'string',
    valueName: 'L',
    description: 'split sequences longer than L into pieces of at most L (default: no limit)',
  },
};

export const CORPUS_OPTIONS: OptionSpecs = { ...READ_OPTIONS, ...FILTER_OPTIONS };

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `--session-gap`: seconds, optionally with a unit suffix. */
export function parseDuration(command: string, name: string, raw: string): number {
  const match = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([smhd]?)\s*$/i.exec(raw);
  if (!match) {
    throw new UsageError(`lla ${command}: --${name} must be a duration in seconds like 1800, 30m or 2h, got '${raw}'`);
  }
  return Number(match[1]) * UNIT_SECONDS[(match[2] || 's').toLowerCase()];
}

export function readOptionsFrom(command: string, args: ParsedArgs): ReadOptions {
  const options: ReadOptions = {};
  const format = choiceOption(command, args, 'format', CORPUS_FORMATS);
  if (format !== undefined) options.format = format;
  const gap = stringOption(command, args, 'session-gap');
  if (gap !== undefined) options.sessionGap = parseDuration(command, 'session-gap', gap);
  return options;
}

export interface CorpusSettings {
  read: ReadOptions;
  vocabulary: VocabularyOptions;
  corpus: CorpusOptions;
}

/** Every corpus flag, validated; the stopword file is read here so that a bad one fails before training. */
export async function corpusOptionsFrom(command: string, args: ParsedArgs): Promise<CorpusSettings> {
  const vocabulary: VocabularyOptions = { minCount: intOption(command, args, 'min-count', DEFAULT_MIN_COUNT, 1) };
  const maxVocab = intOption(command, args, 'max-vocab', 0, 1);
  if (maxVocab > 0) vocabulary.maxVocab = maxVocab;
  if (args.values['max-df'] !== undefined) vocabulary.maxDf = numberOption(command, args, 'max-df', 1, 0, 1, true);
  const stopwords = stringOption(command, args, 'stopwords');
  if (stopwords !== undefined) vocabulary.stopwords = await readStopwords(stopwords);
  const corpus: CorpusOptions = {};
  const maxLength = intOption(command, args, 'max-length', 0, 1);
  if (maxLength > 0) corpus.maxLength = maxLength;
  return { read: readOptionsFrom(command, args), vocabulary, corpus };
}
