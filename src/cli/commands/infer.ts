/**
 * `lla infer <model> <input>`: the topic path of every sequence of an input file, sampled with the trained
 * tables fixed (SPEC section 9's `infer`). Human output compresses a path into runs (`3x4 7x2`: topic 3 four
 * times, then topic 7 twice); --json prints one line per sequence.
 */
import type { Command, CommandIO } from '../command.js';
import { intOption, positionals, type ParsedArgs } from '../options.js';
import { READ_OPTIONS, readOptionsFrom } from '../corpus-options.js';
import { BACKEND_OPTIONS } from '../model-options.js';
import { loadModelFor, readSequences, requireTopicModel } from '../model-input.js';
import { plainText } from '../plain-text.js';
import { DEFAULT_INFER_SWEEPS } from '../../model/inference.js';

/** Unknown actions (outside the model's vocabulary) get no topic: -1 from the model, `?` in runs. */
export function topicRuns(topics: readonly number[]): string {
  const runs: string[] = [];
  let start = 0;
  for (let t = 1; t <= topics.length; t++) {
    if (t === topics.length || topics[t] !== topics[start]) {
      runs.push(`${topics[start] < 0 ? '?' : topics[start]}x${t - start}`);
      start = t;
    }
  }
  return runs.join(' ');
}

export const command: Command = {
  usage: '<model> <input> [options]',
  description:
    'Samples the topics of every sequence of <input> with the trained topic-action table and LSTM ' +
    "fixed: --sweeps E-step sweeps from random topics (seeded by the model's seed, so runs repeat), as in " +
    'training. Output per sequence: its id and its topic path as runs, e.g. `3x4 7x2` (topic 3 for four ' +
    'actions, then topic 7 for two). With --json, one line per sequence: {"id": ..., "topics": [...], ' +
    '"unknown": N}, one entry per action of the input, null where the action is outside the model\'s ' +
    'vocabulary (it is skipped: the model never saw it). Needs a topic model (lla, word-lla or lda). Plain-text ' +
    'output writes control characters in ids as escapes (\\n, \\t, \\uXXXX); --json gives the exact strings. Ctrl-C ' +
    'stops at the next chunk of sequences: exit 130, nothing written.',
  options: {
    ...READ_OPTIONS,
    sweeps: {
      type: 'string',
      valueName: 'N',
      description: 'E-step sweeps with the tables fixed',
      default: String(DEFAULT_INFER_SWEEPS),
    },
    ...BACKEND_OPTIONS,
  },
  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    const [modelPath, input] = positionals('infer', args, ['model', 'input']);
    const json = args.values.json === true;
    const read = readOptionsFrom('infer', args);
    const sweeps = intOption('infer', args, 'sweeps', DEFAULT_INFER_SWEEPS, 1, 100_000);

    const model = await loadModelFor('infer', modelPath, args, io);
    requireTopicModel('infer', model, modelPath, 'infer topic paths');
    const { ids, sequences } = await readSequences(input, { ...read, signal: io.signal });
    if (!json) {
      io.stderr.write(
        `lla infer: sampling the topics of ${sequences.length.toLocaleString('en-US')} sequences ` +
          `(${sweeps} sweeps) with ${modelPath}, kernel ${model.backend}\n`,
      );
    }
    const paths = await model.infer(sequences, { sweeps, signal: io.signal });
    let unknownTotal = 0;
    const out: string[] = [];
    paths.forEach((topics, d) => {
      let unknown = 0;
      for (const topic of topics) if (topic < 0) unknown++;
      unknownTotal += unknown;
      if (json) {
        out.push(JSON.stringify({ id: ids[d], topics: topics.map((topic) => (topic < 0 ? null : topic)), unknown }));
      } else {
        out.push(`${plainText(ids[d])}\t${topics.length === 0 ? '(empty)' : topicRuns(topics)}`);
      }
      // write in blocks: a file of many sequences should not build one huge string
      if (out.length >= 1000) io.stdout.write(`${out.splice(0).join('\n')}\n`);
    });
    if (out.length > 0) io.stdout.write(`${out.join('\n')}\n`);
    if (!json) {
      io.stderr.write(
        `lla infer: ${paths.length.toLocaleString('en-US')} sequences, ${sweeps} sweeps, kernel ${model.backend}` +
          (unknownTotal > 0
            ? `; ${unknownTotal.toLocaleString('en-US')} actions outside the vocabulary (shown as ?)`
            : '') +
          '\n',
      );
    }
    return 0;
  },
};
