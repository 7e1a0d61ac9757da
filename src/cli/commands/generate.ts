/** `lla generate`: writes a synthetic corpus from a known LLA (and optionally its truth) for recovery tests. */
import type { Command, CommandIO } from '../command.js';
import { choiceOption, intOption, numberOption, positionals, stringOption, type ParsedArgs } from '../options.js';
import { gzipSync } from 'node:zlib';
import { InterruptedError, UsageError } from '../../errors.js';
import { DYNAMICS, generateSynthetic, SYNTHETIC_DEFAULTS, type Dynamics } from '../../generate/synthetic.js';
import {
  corpusChunks,
  OUTPUT_FORMATS,
  outputFormatFromName,
  truthChunks,
  type OutputFormat,
} from '../../generate/output.js';
import { writeFilesAtomic, type FileToWrite } from '../../io/atomic.js';
import { checkOutputs } from '../../io/outputs.js';

const NAME = 'generate';
const d = SYNTHETIC_DEFAULTS;

/** Redraws one progress line on stderr at most a few times a second (interactive terminals only). */
function progressLine(io: CommandIO): (text: string, final?: boolean) => void {
  let last = 0;
  return (text, final = false) => {
    if (!io.interactive) return;
    const now = Date.now();
    if (!final && now - last < 200) return;
    last = now;
    io.stderr.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
  };
}

/**
 * The chunks as written: gzip members for a `.gz` name (concatenated members are one valid gzip stream, which
 * the readers decompress whole), checking for Ctrl-C between chunks so an interrupted write leaves nothing.
 */
function* encoded(path: string, chunks: Iterable<string>, signal: AbortSignal): Generator<string | Uint8Array> {
  const gzip = /\.gz$/i.test(path);
  for (const chunk of chunks) {
    if (signal.aborted) throw new InterruptedError(`lla generate: interrupted; ${path} was not written`);
    yield gzip ? gzipSync(chunk) : chunk;
  }
}

/** `chunks`, calling `onStart` when the first is asked for (the files are written one after the other). */
function* announced<T>(onStart: () => void, chunks: Iterable<T>): Generator<T> {
  onStart();
  yield* chunks;
}

export const command: Command = {
  usage: '--out FILE [options]',
  description:
    'Draws K topics (phi_k ~ Dirichlet over a block of the V actions, slightly overlapping the next block) and ' +
    'topic dynamics with strong structure, then D sequences of about L actions (lengths uniform in [L/2, 3L/2]). ' +
    'first-order: each topic moves to its primary successor with probability 0.7, to a secondary one with 0.2, ' +
    'else to a uniform topic. second-order: with probability 0.9 the next topic is ' +
    'successor[(previous + beforePrevious) mod K], else uniform. --truth writes phi (K x V), the transition ' +
    "structure and every true topic sequence as JSON. --copy-rate R makes each action after a sequence's first " +
    'repeat one of its recent actions with probability R (drawn by their counts decayed by --copy-decay per step), ' +
    'else it comes from its topic, whose dynamics run either way. Deterministic for a seed. Formats: text (one sequence per ' +
    'line), jsonl ({"id": "s<d>", "tokens": [...]} per line), events (user<TAB>time<TAB>action with a header, ' +
    'the user being the sequence id s<d> and the time the position in the sequence); the default follows the ' +
    'name as the readers do (.jsonl: jsonl, .tsv: events, else text), and a .gz name is gzip-compressed. Both ' +
    'output paths are checked before any work (a folder, a named pipe or a device there is refused, exit 2; a ' +
    'symbolic link to a regular file writes the file it points to), and the files are written atomically and as ' +
    'a whole: on any error neither is written or replaced.',
  options: {
    out: { type: 'string', short: 'o', valueName: 'FILE', description: 'the corpus file to write (required)' },
    format: {
      type: 'string',
      valueName: 'F',
      description: 'output format: text, jsonl or events (default: jsonl for .jsonl names, events for .tsv, else text)',
    },
    topics: { type: 'string', short: 'k', valueName: 'K', description: 'number of topics', default: String(d.topics) },
    vocabulary: {
      type: 'string',
      valueName: 'V',
      description: 'number of distinct actions (>= K)',
      default: String(d.vocabulary),
    },
    sequences: { type: 'string', valueName: 'D', description: 'number of sequences', default: String(d.sequences) },
    length: { type: 'string', valueName: 'L', description: 'mean sequence length', default: String(d.length) },
    seed: { type: 'string', valueName: 'S', description: 'random seed', default: String(d.seed) },
    dynamics: {
      type: 'string',
      valueName: 'KIND',
      description: `topic dynamics: ${DYNAMICS.join(' or ')}`,
      default: d.dynamics,
    },
    concentration: {
      type: 'string',
      valueName: 'A',
      description: 'Dirichlet concentration of each topic over its actions',
      default: String(d.concentration),
    },
    truth: {
      type: 'string',
      valueName: 'FILE',
      description: 'also write the truth (phi, transitions, topic sequences) as JSON',
    },
    'copy-rate': {
      type: 'string',
      valueName: 'R',
      description: 'probability that an action repeats a recent one of its sequence (the copy component)',
      default: String(d.copyRate),
    },
    'copy-decay': {
      type: 'string',
      valueName: 'G',
      description: 'per-step decay of the history a copy is drawn from',
      default: String(d.copyDecay),
    },
  },

  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    positionals(NAME, args, []);
    const out = stringOption(NAME, args, 'out');
    if (out === undefined || out === '')
      throw new UsageError(`lla ${NAME}: --out FILE is required (the corpus to write)`);
    const format: OutputFormat = choiceOption(NAME, args, 'format', OUTPUT_FORMATS, outputFormatFromName(out));
    const topics = intOption(NAME, args, 'topics', d.topics, 1, 1 << 20);
    const vocabulary = intOption(NAME, args, 'vocabulary', d.vocabulary, 1, 1 << 26);
    const sequences = intOption(NAME, args, 'sequences', d.sequences, 1, 1 << 28);
    const length = intOption(NAME, args, 'length', d.length, 1, 1 << 26);
    const seed = intOption(NAME, args, 'seed', d.seed, 0, Number.MAX_SAFE_INTEGER);
    const dynamics: Dynamics = choiceOption(NAME, args, 'dynamics', DYNAMICS, d.dynamics);
    const concentration = numberOption(NAME, args, 'concentration', d.concentration, 0, Infinity, true);
    const truth = stringOption(NAME, args, 'truth');
    const copyRate = numberOption(NAME, args, 'copy-rate', d.copyRate, 0, 1);
    const copyDecay = numberOption(NAME, args, 'copy-decay', d.copyDecay, 0, 1);
    if (vocabulary < topics) {
      throw new UsageError(
        `lla ${NAME}: --vocabulary ${vocabulary} is smaller than --topics ${topics}: every ` +
          `topic needs actions of its own; use --vocabulary ${topics} or more`,
      );
    }
    if (sequences * Math.round(1.5 * length) > 2 ** 31 - 1) {
      throw new UsageError(
        `lla ${NAME}: --sequences ${sequences} x --length ${length} may exceed 2^31 tokens; ` +
          'use fewer sequences or a shorter length',
      );
    }
    checkOutputs(
      NAME,
      [{ path: out, name: '--out' }, ...(truth !== undefined ? [{ path: truth, name: '--truth' }] : [])],
      [],
    );

    const started = performance.now();
    const progress = progressLine(io);
    const corpus = generateSynthetic({
      topics,
      vocabulary,
      sequences,
      length,
      seed,
      dynamics,
      concentration,
      copyRate,
      copyDecay,
      onProgress: (done, total) => progress(`lla generate: drawing sequences ${done}/${total}`),
    });
    const files: FileToWrite[] = [
      {
        path: out,
        chunks: encoded(
          out,
          corpusChunks(corpus, format, (done) =>
            progress(`lla generate: writing ${out} ${Math.floor((100 * done) / sequences)}%`),
          ),
          io.signal,
        ),
      },
    ];
    if (truth !== undefined) {
      files.push({
        path: truth,
        chunks: encoded(
          truth,
          announced(() => progress(`lla generate: writing ${truth}`), truthChunks(corpus)),
          io.signal,
        ),
      });
    }
    writeFilesAtomic(files);
    progress('lla generate: done', true);
    const seconds = (performance.now() - started) / 1000;
    const summary = {
      out,
      format,
      truth: truth ?? null,
      topics,
      vocabulary,
      sequences,
      tokens: corpus.tokens.length,
      meanLength: corpus.tokens.length / sequences,
      dynamics,
      concentration,
      copyRate,
      copyDecay,
      copiedTokens: corpus.copiedTokens,
      seed,
      seconds,
    };
    if (args.values.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      io.stdout.write(
        `wrote ${sequences} sequences (${corpus.tokens.length} tokens, ${vocabulary} actions, ` +
          `${topics} topics, ${dynamics} dynamics, seed ${seed}) to ${out} as ${format}` +
          `${truth === undefined ? '' : `; truth in ${truth}`} in ${seconds.toFixed(2)} s\n`,
      );
    }
    return 0;
  },
};
