/**
 * `lla eval <model> <input>`: held-out perplexity and next-action metrics of a saved model on every sequence of
 * an input file, with the same definitions as `lla train` (SPEC section 4). Actions outside the model's
 * vocabulary are skipped and counted; sequences left without any known action are dropped and counted.
 */
import type { Command, CommandIO } from '../command.js';
import { choiceOption, intOption, limitOption, positionals, type ParsedArgs } from '../options.js';
import { FILTER_OPTIONS, READ_OPTIONS, readOptionsFrom } from '../corpus-options.js';
import { BACKEND_OPTIONS } from '../model-options.js';
import { finiteJson, loadModelFor } from '../model-input.js';
import { readDocuments } from '../../corpus/documents.js';
import { toCorpus } from '../../corpus/corpus.js';
import { InputError } from '../../errors.js';
import { DEFAULT_PERPLEXITY, PERPLEXITY_PROTOCOLS } from '../../eval/model-evaluation.js';
import { DEFAULT_SETTINGS } from '../../train/settings.js';

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export const command: Command = {
  usage: '<model> <input> [options]',
  description:
    'Scores every sequence of <input> with the model saved by `lla train --out`: perplexity ' +
    '(left-to-right particle filter for lla and lda, exact for word-lla and lstm; --perplexity completion for the ' +
    'document-completion protocol), and next-action Recall@1, Recall@10 and MRR at positions after the first 5, ' +
    'beside the unigram and the recency-cache references (the cache with the constants fitted in training). ' +
    "Actions outside the model's vocabulary are skipped and reported as outOfVocabulary. The same model, input " +
    'and flags give the same numbers on every run (for a given backend). Ctrl-C stops at the next chunk of ' +
    'sequences: exit 130, nothing written.',
  options: {
    ...READ_OPTIONS,
    'max-length': FILTER_OPTIONS['max-length'],
    perplexity: {
      type: 'string',
      valueName: 'P',
      description: `protocol: ${PERPLEXITY_PROTOCOLS.map((name) => `'${name}'`).join(' or ')}`,
      default: DEFAULT_PERPLEXITY,
    },
    particles: {
      type: 'string',
      valueName: 'S',
      description: 'particles of the filter (default: the value the model was trained with)',
    },
    ...BACKEND_OPTIONS,
  },
  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    const [modelPath, input] = positionals('eval', args, ['model', 'input']);
    const json = args.values.json === true;
    const read = readOptionsFrom('eval', args);
    const maxLength = intOption('eval', args, 'max-length', 0, 1);
    const protocol = choiceOption('eval', args, 'perplexity', PERPLEXITY_PROTOCOLS, DEFAULT_PERPLEXITY);
    const particles =
      args.values.particles === undefined
        ? undefined
        : limitOption('eval', args, 'particles', 'particles', DEFAULT_SETTINGS.particles);

    const model = await loadModelFor('eval', modelPath, args, io);
    if (particles !== undefined) model.settings.particles = particles;
    const raw = await readDocuments(input, { ...read, signal: io.signal });
    const corpus = toCorpus(raw, undefined, model.vocabulary, maxLength > 0 ? { maxLength } : {});
    if (corpus.tokens.length === 0) {
      throw new InputError(
        `none of its ${raw.tokens.length.toLocaleString('en-US')} actions is in the model's ` +
          `vocabulary (${model.vocabulary.size.toLocaleString('en-US')} actions from ${modelPath}): nothing to evaluate; ` +
          'check that the input is the kind of data the model was trained on (and its --format)',
        input,
      );
    }
    if (!json) {
      io.stderr.write(
        `lla eval: scoring ${(corpus.offsets.length - 1).toLocaleString('en-US')} sequences ` +
          `(${corpus.tokens.length.toLocaleString('en-US')} tokens) with ${modelPath}, kernel ${model.backend}\n`,
      );
    }
    const started = performance.now();
    const result = await model.evaluate(corpus, { perplexity: protocol, nextAction: true, signal: io.signal });
    const references = model.references(corpus, { perplexity: protocol });
    const seconds = (performance.now() - started) / 1000;
    const summary = {
      model: model.model,
      modelFile: modelPath,
      input,
      perplexity: result.perplexity,
      perplexityMethod: result.perplexityMethod,
      repeatBlocks: result.repeatBlocks,
      logLikelihood: result.logLikelihood,
      recallAt1: result.recallAt1,
      recallAt10: result.recallAt10,
      mrr: result.mrr,
      nextActionPositions: result.nextActionPositions,
      copy: result.copy,
      unigramPerplexity: references.unigramPerplexity,
      cache: references.cache,
      tokens: result.tokens,
      sequences: result.sequences,
      outOfVocabulary: corpus.skippedTokens,
      droppedSequences: corpus.droppedSequences,
      topics: model.model === 'lstm' || model.model === 'cache' ? null : model.settings.topics,
      particles: model.settings.particles,
      backend: model.backend,
      tfBackend: model.tfBackend,
      seconds,
    };
    if (json) {
      io.stdout.write(`${finiteJson(summary)}\n`);
      return 0;
    }
    const lines = [
      `model               ${modelPath} (${model.model}${summary.topics === null ? '' : `, K=${summary.topics}`}), kernel ${model.backend}`,
      `perplexity          ${fixed(result.perplexity, 2)} (${result.perplexityMethod}${result.repeatBlocks ? ', repeat blocks' : ''}) over ${result.tokens.toLocaleString('en-US')} tokens of ${result.sequences.toLocaleString('en-US')} sequences`,
      `next action         Recall@1 ${fixed(result.recallAt1, 4)}, Recall@10 ${fixed(result.recallAt10, 4)}, MRR ${fixed(result.mrr, 4)} (${result.nextActionPositions.toLocaleString('en-US')} positions)`,
      `unigram reference   ${references.unigramPerplexity === null ? 'n/a (the model file holds no training counts)' : fixed(references.unigramPerplexity, 2)}`,
      `recency cache       ${
        references.cache === null
          ? 'n/a (a model file written before the cache was fitted)'
          : `perplexity ${fixed(references.cache.perplexity, 2)}, Recall@1 ${fixed(references.cache.recallAt1, 4)}, ` +
            `Recall@10 ${fixed(references.cache.recallAt10, 4)}, MRR ${fixed(references.cache.mrr, 4)} (decay ` +
            `${fixed(references.cache.decay, 3)}, unigram weight ${fixed(references.cache.mass, 2)})`
      }`,
      `out of vocabulary   ${corpus.skippedTokens.toLocaleString('en-US')} tokens skipped` +
        (corpus.droppedSequences > 0
          ? `, ${corpus.droppedSequences.toLocaleString('en-US')} sequences left empty and dropped`
          : ''),
      `time                ${fixed(seconds, 2)} s`,
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
