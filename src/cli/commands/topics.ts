/**
 * `lla topics <model>`: the top actions of every topic with phi_{k,w}, and each topic's share of the training
 * tokens (n_k / sum n_k), from a saved topic model.
 */
import type { Command, CommandIO } from '../command.js';
import { intOption, positionals, type ParsedArgs } from '../options.js';
import { BACKEND_OPTIONS } from '../model-options.js';
import { loadModelFor, requireTopicModel } from '../model-input.js';
import { plainText } from '../plain-text.js';
import { DEFAULT_TOPIC_ACTIONS } from '../../eval/topics.js';

export const command: Command = {
  usage: '<model> [options]',
  description:
    'Lists every topic of the model with its share of the training tokens and its -n most probable ' +
    'actions, phi_{k,w} = (n_{k,w} + beta) / (n_k + V beta). With --json, one object: {"model", "numTopics", ' +
    '"topics": [{"topic", "tokens", "share", "actions": [{"action", "probability"}]}]}. Needs a topic model ' +
    '(lla, word-lla or lda).',
  options: {
    top: {
      type: 'string',
      short: 'n',
      valueName: 'N',
      description: 'actions listed per topic',
      default: String(DEFAULT_TOPIC_ACTIONS),
    },
    ...BACKEND_OPTIONS,
  },
  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    const [modelPath] = positionals('topics', args, ['model']);
    const json = args.values.json === true;
    const top = intOption('topics', args, 'top', DEFAULT_TOPIC_ACTIONS, 1, 1_000_000);

    const model = await loadModelFor('topics', modelPath, args, io);
    requireTopicModel('topics', model, modelPath, 'list topics');
    const { counts } = model.servingTables();
    const K = model.settings.topics;
    // totalTokens: sum over topics of n_k, the training tokens
    let totalTokens = 0;
    for (let k = 0; k < K; k++) totalTokens += counts.topicTotals[k];
    const topics = Array.from({ length: K }, (_, k) => ({
      topic: k,
      tokens: counts.topicTotals[k],
      share: totalTokens > 0 ? counts.topicTotals[k] / totalTokens : 0,
      actions: model.topicWords(k, top),
    }));
    if (json) {
      io.stdout.write(
        `${JSON.stringify({
          model: model.model,
          modelFile: modelPath,
          numTopics: K,
          vocabulary: model.vocabulary.size,
          top,
          topics,
          backend: model.backend,
        })}\n`,
      );
      return 0;
    }
    const lines = [
      `${modelPath}: ${model.model}, ${K} topics over ${model.vocabulary.size.toLocaleString('en-US')} actions ` +
        `(top ${top} each; share = the topic's fraction of the training tokens)`,
    ];
    for (const entry of topics) {
      lines.push(
        `  ${String(entry.topic).padStart(3)}  ${(100 * entry.share).toFixed(1).padStart(5)}%  ` +
          entry.actions.map((word) => `${plainText(word.action)} ${word.probability.toFixed(4)}`).join('  '),
      );
    }
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
