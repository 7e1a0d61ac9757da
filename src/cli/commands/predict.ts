/**
 * `lla predict <model> <input>`: for every sequence of an input file, the n most probable next actions after
 * the whole sequence, p(w | history) = sum_k mix_k phi_{k,w} with mix the particle filter's predictive topic
 * mixture after the last action (one batched kernel pass over the whole file), plus the copy component's share
 * when the model has one; for the lstm baseline, its own next-action softmax; for the recency cache, its own.
 */
import type { Command, CommandIO } from '../command.js';
import { intOption, limitOption, positionals, type ParsedArgs } from '../options.js';
import { READ_OPTIONS, readOptionsFrom } from '../corpus-options.js';
import { BACKEND_OPTIONS } from '../model-options.js';
import { loadModelFor, readSequences } from '../model-input.js';
import { plainText } from '../plain-text.js';
import { DEFAULT_NEXT_ACTIONS } from '../../model/inference.js';
import { DEFAULT_SETTINGS } from '../../train/settings.js';

export const command: Command = {
  usage: '<model> <input> [options]',
  description:
    'Runs the model over every sequence of <input> (the held-out particle filter, batched and ' +
    "threaded) and ranks all actions by their probability of coming next. Actions outside the model's vocabulary are " +
    'skipped (counted as "unknown"). With --json, one line per sequence: {"id": ..., "next": [{"action": ..., ' +
    '"probability": ...}, ...], "unknown": N}, most probable first (ties: the more frequent action first). ' +
    "A sequence with no known action gets the model's prediction for a sequence start. Topic models (lla, " +
    "word-lla, lda) predict p(w | history) = sum_k mix_k phi_{k,w} from the particle filter's topic mixture, with " +
    "the copy component's share of the history's recent actions when the model has one; the lstm baseline gives its " +
    'own softmax; the recency cache (decayed history counts + mass x unigram) its own. Results repeat exactly for the ' +
    'same model, input and backend. ' +
    'Plain-text output writes control characters in ids and actions as escapes (\\n, \\t, \\uXXXX), one line per ' +
    'sequence; --json gives the exact strings. Ctrl-C stops at the next chunk of sequences: exit 130, nothing written.',
  options: {
    ...READ_OPTIONS,
    top: {
      type: 'string',
      short: 'n',
      valueName: 'N',
      description: 'next actions listed per sequence',
      default: String(DEFAULT_NEXT_ACTIONS),
    },
    particles: {
      type: 'string',
      valueName: 'S',
      description: 'particles of the filter (default: the value the model was trained with)',
    },
    ...BACKEND_OPTIONS,
  },
  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    const [modelPath, input] = positionals('predict', args, ['model', 'input']);
    const json = args.values.json === true;
    const read = readOptionsFrom('predict', args);
    const top = intOption('predict', args, 'top', DEFAULT_NEXT_ACTIONS, 1, 1_000_000);
    const particles =
      args.values.particles === undefined
        ? undefined
        : limitOption('predict', args, 'particles', 'particles', DEFAULT_SETTINGS.particles);

    const model = await loadModelFor('predict', modelPath, args, io);
    if (particles !== undefined) model.settings.particles = particles;
    const { ids, sequences } = await readSequences(input, { ...read, signal: io.signal });
    if (!json) {
      io.stderr.write(
        `lla predict: ranking the next actions after ${sequences.length.toLocaleString('en-US')} ` +
          `sequences with ${modelPath}, kernel ${model.backend}\n`,
      );
    }
    const predictions = await model.predictNextMany(sequences, top, { signal: io.signal });
    let unknownTotal = 0;
    const out: string[] = [];
    predictions.forEach((next, d) => {
      let unknown = 0;
      for (const action of sequences[d]) if (model.vocabulary.id(action) < 0) unknown++;
      unknownTotal += unknown;
      if (json) {
        out.push(JSON.stringify({ id: ids[d], next, unknown }));
      } else {
        out.push(
          `${plainText(ids[d])}\t${next.map((entry) => `${plainText(entry.action)} ${entry.probability.toFixed(4)}`).join('  ')}`,
        );
      }
      // write in blocks: a file of many sequences should not build one huge string
      if (out.length >= 1000) io.stdout.write(`${out.splice(0).join('\n')}\n`);
    });
    if (out.length > 0) io.stdout.write(`${out.join('\n')}\n`);
    if (!json) {
      io.stderr.write(
        `lla predict: ${sequences.length.toLocaleString('en-US')} sequences, top ${top}, kernel ${model.backend}` +
          (unknownTotal > 0 ? `; ${unknownTotal.toLocaleString('en-US')} actions outside the vocabulary skipped` : '') +
          '\n',
      );
    }
    return 0;
  },
};
