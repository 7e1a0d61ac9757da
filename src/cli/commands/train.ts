/**
 * `lla train <input>`: read, split, train (stochastic EM: kernel E-step, M-step on the kernels or TF.js), evaluate on the held-out
 * split, print topics and metrics, save the model. `--demo` trains on the embedded sample event log.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Command, CommandIO } from '../command.js';
import { intOption, numberOption, choiceOption, stringOption, type ParsedArgs } from '../options.js';
import { CORPUS_OPTIONS, corpusOptionsFrom } from '../corpus-options.js';
import { BACKEND_OPTIONS, MODEL_OPTIONS, backendFrom, settingsFrom } from '../model-options.js';
import { progressBar } from '../progress.js';
import { DEFAULT_HOLDOUT, prepareData } from '../../train/data.js';
import { LlaModel, type TrainSummary } from '../../model/model.js';
import type { IterationRecord } from '../../train/sem.js';
import { describeStop } from '../../train/convergence.js';
import { describeStartCheck } from '../../train/start-check.js';
import { packageRoot } from '../../package-info.js';
import { InputError, UsageError } from '../../errors.js';
import { continuedSettings } from '../train-from.js';
import { hmmOrderNeeded } from '../../train/settings.js';
import { plainText } from '../plain-text.js';
import { checkpointPath } from '../../train/checkpoint.js';
import { checkTrainFiles, saveTrainedModel, type SaveOutcome } from '../train-output.js';
import {
  checkMemory,
  defaultMemoryLimit,
  estimateTrainingMemory,
  formatBytes,
  parseMemorySize,
} from '../../train/memory.js';
import { availableParallelism } from 'node:os';
import { DEFAULT_PERPLEXITY, PERPLEXITY_PROTOCOLS } from '../../eval/model-evaluation.js';
import { readTruth, recoveryReport } from '../../eval/recovery.js';

/** The embedded default of `npm start`: a 376 KB sample of the shared event log (data/README.md). */
export function demoFile(): string {
  return join(packageRoot(), 'data', 'sample-events.tsv.gz');
}

/** Settings of the demo run: small enough for well under a minute on two cores, still a real training (the M-step
 * on the whole sample each iteration, as by default). Its initialisation is the plain default's share of the
 * iterations, so it scales with -n as theirs does. */
const DEMO_DEFAULTS: Record<string, string> = { topics: '20', iterations: '60' };

/** train's own flags unless asked otherwise (the model settings' defaults are DEFAULT_SETTINGS) */
const TRAIN_DEFAULTS = {
  holdout: DEFAULT_HOLDOUT,
  perplexity: DEFAULT_PERPLEXITY,
  checkpointEvery: 0,
  top: 5,
} as const;

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** --lookahead auto trains lla's iterations twice: which run a record belongs to */
function runOf(record: IterationRecord): string {
  if (record.lookahead === undefined) return '';
  return record.lookahead ? ', auto run 1 of 2: lookahead' : ', auto run 2 of 2: no lookahead';
}

function describeIteration(record: IterationRecord, total: number): string {
  const parts = [
    `iteration ${record.iteration}/${record.plannedIterations ?? total} (${record.mode}${record.hmmOrder === 2 ? '2' : ''}${runOf(record)})`,
    `${fixed(record.seconds)} s`,
    `E-step ${Math.round(record.estepTokensPerSecond).toLocaleString('en-US')} tokens/s`,
  ];
  if (record.mstepTokensPerSecond !== null) {
    parts.push(
      `M-step ${Math.round(record.mstepTokensPerSecond).toLocaleString('en-US')} tokens/s${record.lstmEngine ? ` (${record.lstmEngine})` : ''}`,
    );
  }
  parts.push(`train log-lik/token ${fixed(record.logLikelihoodPerToken, 3)}`);
  if (record.heldOutPerplexity !== undefined) parts.push(`held-out perplexity ${fixed(record.heldOutPerplexity, 1)}`);
  return parts.join(', ');
}

export const command: Command = {
  usage: '<input> [options]   |   lla train --demo',
  description:
    'Trains by stochastic EM: each iteration samples every topic in the kernel (native or WASM), ' +
    "then trains the LSTM on the sampled topic sequences (--lstm-engine: the kernels' fused trainer by default, or " +
    'TensorFlow.js). --tol stops once the training log-likelihood has converged; the result says why the run stopped. ' +
    'A seeded fraction of the sequences ' +
    '(--holdout) is held out and scored at the end: held-out perplexity, the unigram reference, next-action ' +
    'Recall@1/@10 and MRR. --out saves the model; --checkpoint-every N with --out writes <out>.ckpt, which ' +
    '--resume (same arguments) continues; Ctrl-C finishes the current sweep, writes the checkpoint and exits 130. ' +
    'Before any work, --out and <out>.ckpt are checked: a folder, a named pipe or a device there, one of the ' +
    "run's input files, or a folder that takes no new files is refused (exit 2); a symbolic link to a regular " +
    'file writes the file it points to. A checkpoint left by an interrupted run needs --resume or ' +
    '--overwrite-checkpoint. If the model cannot be saved after training (e.g. a full disk), it is written to ' +
    '<out>.fallback instead, or stderr says where the last checkpoint is; the exit code is then 1. Ctrl-C during ' +
    'the final held-out evaluation stops it at the next chunk of sequences and keeps the finished training in ' +
    '<out>.ckpt: --resume then runs only the evaluation. --from continues a saved model: flags that contradict it ' +
    '(--model, --topics, --hidden, --embedding, --alpha, --beta with another value; --init; the vocabulary filters) ' +
    "are refused, the run's own flags apply. With --json, the result's seconds is this run's wall time, while " +
    'trainingSeconds, estepSeconds, mstepSeconds and mstepShare (= mstepSeconds / trainingSeconds) cover every ' +
    'iteration of the model, those of a run that --resume continued included.',
  options: {
    ...MODEL_OPTIONS,
    ...BACKEND_OPTIONS,
    ...CORPUS_OPTIONS,
    holdout: {
      type: 'string',
      valueName: 'F',
      description: 'fraction of sequences held out for evaluation (chosen from the seed)',
      default: String(TRAIN_DEFAULTS.holdout),
    },
    test: { type: 'string', valueName: 'FILE', description: 'evaluate on this file instead of a held-out split' },
    perplexity: {
      type: 'string',
      valueName: 'P',
      description: `held-out protocol: ${PERPLEXITY_PROTOCOLS.map((name) => `'${name}'`).join(' or ')}`,
      default: TRAIN_DEFAULTS.perplexity,
    },
    out: {
      type: 'string',
      short: 'o',
      valueName: 'FILE',
      description: 'save the trained model to FILE (written atomically)',
    },
    'checkpoint-every': {
      type: 'string',
      valueName: 'N',
      description: 'with --out: write <out>.ckpt every N iterations',
      default: String(TRAIN_DEFAULTS.checkpointEvery),
    },
    resume: {
      type: 'boolean',
      description: 'continue from <out>.ckpt of an interrupted run (give the same arguments)',
    },
    'overwrite-checkpoint': {
      type: 'boolean',
      description:
        'start over although <out>.ckpt of an interrupted run exists (it is replaced, and removed once the model is saved)',
    },
    from: {
      type: 'string',
      valueName: 'MODEL',
      description: 'continue training a saved model on this input (keeps its vocabulary and settings)',
    },
    top: {
      type: 'string',
      valueName: 'N',
      description: 'top actions printed per topic',
      default: String(TRAIN_DEFAULTS.top),
    },
    demo: { type: 'boolean', description: 'train on the embedded sample event log (what `npm start` runs)' },
    truth: {
      type: 'string',
      valueName: 'FILE',
      description:
        'the truth JSON of lla generate --truth: also report the generating ' +
        "model's exact held-out perplexity and how far the learned topics are from the true ones (mean total variation, " +
        'one-to-one matching)',
    },
    'max-memory': {
      type: 'string',
      valueName: 'SIZE',
      description:
        "refuse a run whose estimated memory exceeds SIZE, e.g. 512M or 8G (default: 80% of this machine's memory)",
    },
  },
  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    const demo = args.values.demo === true;
    // the flags given on the command line (before the demo's defaults fill in others): --from checks them
    const explicit = new Set(Object.keys(args.values).filter((name) => args.values[name] !== undefined));
    if (demo) {
      for (const [name, value] of Object.entries(DEMO_DEFAULTS)) args.values[name] ??= value;
    }
    let file: string;
    if (demo) {
      if (args.positionals.length > 0) throw new UsageError('lla train: --demo takes no input file');
      file = demoFile();
    } else if (args.positionals.length === 1) {
      file = args.positionals[0];
    } else {
      throw new UsageError(
        `lla train: expected one <input> file (or --demo), got ${args.positionals.length}. ` +
          "Run 'lla train --help'.",
      );
    }
    const json = args.values.json === true;
    let settings = settingsFrom('train', args);
    const backends = backendFrom('train', args, io.env);
    const corpusSettings = await corpusOptionsFrom('train', args);
    const holdout = numberOption('train', args, 'holdout', TRAIN_DEFAULTS.holdout, 0, 0.9);
    const testFile = stringOption('train', args, 'test');
    if (testFile !== undefined && explicit.has('holdout')) {
      throw new UsageError(
        'lla train: --holdout and --test both choose the held-out data (a fraction of the input, or ' +
          'another file): give one of them',
      );
    }
    const protocol = choiceOption('train', args, 'perplexity', PERPLEXITY_PROTOCOLS, TRAIN_DEFAULTS.perplexity);
    const out = stringOption('train', args, 'out');
    const checkpointEvery = intOption('train', args, 'checkpoint-every', TRAIN_DEFAULTS.checkpointEvery, 0, 1_000_000);
    const resume = args.values.resume === true;
    const overwriteCheckpoint = args.values['overwrite-checkpoint'] === true;
    const from = stringOption('train', args, 'from');
    const truthFile = stringOption('train', args, 'truth');
    const top = intOption('train', args, 'top', TRAIN_DEFAULTS.top, 0, 1000);
    const maxMemoryText = stringOption('train', args, 'max-memory');
    const maxMemory = maxMemoryText === undefined ? defaultMemoryLimit() : parseMemorySize(maxMemoryText);
    if ((checkpointEvery > 0 || resume || overwriteCheckpoint) && !out) {
      throw new UsageError(
        'lla train: --checkpoint-every, --resume and --overwrite-checkpoint need --out FILE (the checkpoint is <out>.ckpt)',
      );
    }
    if (out) {
      const stopwords = stringOption('train', args, 'stopwords');
      checkTrainFiles({
        out,
        resume,
        overwriteCheckpoint,
        inputs: [
          { path: file, name: demo ? 'the demo data' : 'the training file' },
          ...(testFile !== undefined ? [{ path: testFile, name: '--test' }] : []),
          ...(stopwords !== undefined ? [{ path: stopwords, name: '--stopwords' }] : []),
          ...(from !== undefined ? [{ path: from, name: '--from' }] : []),
          ...(truthFile !== undefined ? [{ path: truthFile, name: '--truth' }] : []),
        ],
      });
    }
    // read before training: a file that is not a truth fails now (exit 2), not after the run
    const truth = truthFile === undefined ? null : await readTruth(truthFile);
    if (resume && out && !existsSync(checkpointPath(out))) {
      io.stderr.write(`lla train: no checkpoint ${checkpointPath(out)} to resume from: starting from iteration 1\n`);
    }
    if (testFile !== undefined && !existsSync(testFile))
      throw new UsageError(`lla train: --test file '${testFile}' does not exist`);

    const warn = (message: string) => io.stderr.write(`${message}\n`);
    let model: LlaModel;
    if (from) {
      model = await LlaModel.load(from, {
        backend: backends.backend,
        threads: backends.threads,
        warn,
        ...(explicit.has('lstm-engine') ? { lstmEngine: settings.lstmEngine } : {}),
        ...(backends.tfBackend ? { tfBackend: backends.tfBackend } : {}),
      });
      settings = continuedSettings(
        from,
        model.settings,
        { ...settings, threads: backends.threads },
        explicit,
        model.vocabulary.size,
      );
      Object.assign(model.settings, settings);
    } else {
      model = await LlaModel.create({
        ...settings,
        threads: backends.threads,
        backend: backends.backend,
        warn,
        ...(backends.tfBackend ? { tfBackend: backends.tfBackend } : {}),
      });
    }
    const data = await prepareData(file, {
      read: { ...corpusSettings.read, signal: io.signal },
      vocabulary: corpusSettings.vocabulary,
      corpus: corpusSettings.corpus,
      holdout,
      seed: settings.seed,
      ...(testFile !== undefined ? { testFile } : {}),
      ...(from ? { fixedVocabulary: model.vocabulary } : {}),
    });
    if (data.train.tokens.length === 0) {
      throw new InputError(
        from
          ? `no training tokens: none of its actions is in the vocabulary of ${from} (${model.vocabulary.size.toLocaleString('en-US')} ` +
              'actions), which --from keeps; check that the input is the kind of data the model was trained on (and its --format)'
          : 'no training tokens: the vocabulary filters (--min-count, --max-vocab, --stopwords, --max-df) removed every action ' +
              'of the training split; relax them',
        file,
      );
    }
    const topicModel = settings.model !== 'lstm' && settings.model !== 'cache';
    const startLine =
      `lla train: ${settings.model}${topicModel ? `, K=${settings.topics}` : ''}, ${data.train.offsets.length - 1} training sequences ` +
      `(${data.train.tokens.length.toLocaleString('en-US')} tokens, ${data.vocabulary.size.toLocaleString('en-US')} actions), ` +
      `${data.test ? `${data.test.offsets.length - 1} held out` : 'no held-out split'}; kernel backend ${model.backend}`;
    // refuse a run too big for the machine before the sampler, tables and LSTM are allocated
    const memory = estimateTrainingMemory({
      model: settings.model,
      tokens: data.train.tokens.length,
      sequences: data.train.offsets.length - 1,
      heldOutTokens: data.test?.tokens.length ?? 0,
      heldOutSequences: data.test ? data.test.offsets.length - 1 : 0,
      vocabulary: data.vocabulary.size,
      topics: settings.topics,
      hidden: settings.hidden,
      embedding: settings.embedding,
      particles: settings.particles,
      batch: settings.batch,
      bptt: settings.bptt,
      threads: backends.threads > 0 ? backends.threads : availableParallelism(),
      lstmEngine: model.lstmEngine,
      contextStart: model.settings.contextStart,
      hmmOrder: hmmOrderNeeded(model.settings),
      copy: settings.copy === 'auto',
      chooseLookahead: model.settings.chooseLookahead && from === undefined,
      repeatBlocks: model.settings.repeats === 'blocks',
    });
    checkMemory(
      memory,
      maxMemory,
      maxMemoryText === undefined ? "80% of this machine's memory" : `--max-memory ${maxMemoryText}`,
    );
    if (!json) io.stderr.write(`${startLine}; estimated memory ${formatBytes(memory.bytes)}\n`);

    const bar = json
      ? { update: () => undefined, setTotal: () => undefined, stop: () => undefined }
      : progressBar(io, settings.iterations, 'training');
    let summary: TrainSummary;
    try {
      summary = await model.train(data.train, {
        ...(data.test ? { heldOut: data.test } : {}),
        perplexity: protocol,
        signal: io.signal,
        ...(out ? { checkpoint: { out, every: checkpointEvery, resume } } : {}),
        onProgress: (record) => {
          if (json) {
            io.stdout.write(`${JSON.stringify({ ...record, tfBackend: model.tfBackend, backend: model.backend })}\n`);
          } else if (io.interactive) {
            // the second-order fallback grows the run: the bar's total follows the plan
            if (record.plannedIterations !== undefined) bar.setTotal(record.plannedIterations);
            bar.update(record.iteration, describeIteration(record, settings.iterations).replace(/^iteration \S+ /, ''));
          } else {
            io.stderr.write(`${describeIteration(record, settings.iterations)}\n`);
          }
        },
      });
    } catch (error) {
      bar.stop();
      throw error;
    }
    bar.stop();
    const saved: SaveOutcome = out ? await saveTrainedModel(model, out, io) : { savedTo: null, error: null };

    const heldOut = summary.heldOut;
    const recovery =
      truth === null
        ? null
        : recoveryReport(truth, data.vocabulary.words, data.test, settings.model === 'lstm' ? null : model.phi());
    const result = {
      model: settings.model,
      topics: settings.topics,
      iterations: summary.iterations,
      backend: model.backend,
      lstmEngine: model.lstmEngine,
      tfBackend: model.tfBackend,
      threads: settings.threads,
      stopReason: summary.stop?.reason ?? 'iterations',
      stop: summary.stop,
      start: summary.start,
      trainSequences: data.train.offsets.length - 1,
      trainTokens: data.train.tokens.length,
      vocabulary: data.vocabulary.size,
      heldOutSequences: heldOut?.sequences ?? 0,
      heldOutTokens: heldOut?.tokens ?? 0,
      heldOutOutOfVocabulary: data.heldOutOutOfVocabulary,
      heldOutPerplexity: heldOut?.perplexity ?? null,
      perplexityMethod: heldOut?.perplexityMethod ?? null,
      unigramPerplexity: summary.unigramPerplexity,
      cache: summary.cache,
      copy: summary.copy,
      lookaheadChoice: summary.lookaheadChoice,
      repeatBlocks: summary.repeatBlocks,
      recallAt1: heldOut?.recallAt1 ?? null,
      recallAt10: heldOut?.recallAt10 ?? null,
      mrr: heldOut?.mrr ?? null,
      denseParameters: model.denseParameters,
      parameterCount: model.parameterCount,
      coherence: model.results.coherence ?? null,
      seconds: summary.seconds,
      estepSeconds: summary.estepSeconds,
      mstepSeconds: summary.mstepSeconds,
      trainingSeconds: summary.trainingSeconds,
      mstepShare: summary.trainingSeconds > 0 ? summary.mstepSeconds / summary.trainingSeconds : 0,
      resumedIterations: summary.resumedIterations,
      estimatedMemoryBytes: memory.bytes,
      ...(recovery ? recovery : {}),
      out: saved.savedTo,
      ...(saved.error !== null ? { requestedOut: out, saveError: saved.error } : {}),
    };
    // the run is kept (results printed, model in a fallback or the checkpoint) but --out was not written: exit 1
    const code = saved.error === null ? 0 : 1;
    if (json) {
      io.stdout.write(
        `${JSON.stringify(result, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`,
      );
      return code;
    }
    const lines: string[] = [];
    if (topicModel && top > 0) {
      lines.push(`Topics (top ${top} actions each):`);
      for (let k = 0; k < settings.topics; k++) {
        const words = model
          .topicWords(k, top)
          .map((entry) => `${plainText(entry.action)} ${entry.probability.toFixed(3)}`);
        lines.push(`  ${String(k).padStart(3)}  ${words.join('  ')}`);
      }
      lines.push('');
    }
    if (settings.model === 'cache') {
      const cache = model.cache!;
      lines.push(
        `model               cache (the recency cache: decay ${fixed(cache.decay, 3)} over the last ${cache.window} ` +
          `actions, unigram weight ${fixed(cache.mass, 2)})`,
      );
      lines.push(
        `training            ${
          cache.fitted
            ? 'constants fitted on a held-in tenth of the training sequences'
            : 'constants not fitted (fewer than two training sequences): the hand-set ones'
        } in ${fixed(summary.seconds, 1)} s`,
      );
    } else {
      const engine =
        model.lstmEngine === null
          ? 'no LSTM'
          : model.lstmEngine === 'kernel'
            ? `LSTM on the ${model.backend} kernel trainer`
            : `LSTM on TF.js ${model.tfBackend ?? 'n/a'}`;
      lines.push(
        `model               ${settings.model} (K=${settings.topics}, H=${settings.hidden}), kernel ${model.backend}, ${engine}`,
      );
      lines.push(
        `training            ${summary.iterations} iterations in ${fixed(summary.trainingSeconds, 1)} s ` +
          `(E-step ${fixed(summary.estepSeconds, 1)} s, M-step ${fixed(summary.mstepSeconds, 1)} s = ${fixed(100 * result.mstepShare, 0)}%` +
          `${summary.resumedIterations > 0 ? `; ${summary.resumedIterations} of them in the run this one resumed` : ''})`,
      );
      if (summary.stop) lines.push(`stopped             ${describeStop(summary.stop)}`);
      const startWarning = describeStartCheck(summary.start, settings.iterations);
      if (startWarning) lines.push(`initialisation      ${startWarning}`);
    }
    if (heldOut) {
      lines.push(
        `held-out perplexity ${fixed(heldOut.perplexity, 1)} (${heldOut.perplexityMethod}; unigram ${fixed(summary.unigramPerplexity ?? NaN, 1)}) ` +
          `over ${heldOut.tokens.toLocaleString('en-US')} tokens of ${heldOut.sequences} sequences` +
          (data.heldOutOutOfVocabulary > 0
            ? `, ${data.heldOutOutOfVocabulary.toLocaleString('en-US')} out-of-vocabulary tokens left out`
            : ''),
      );
      lines.push(
        `next action         Recall@1 ${fixed(heldOut.recallAt1, 3)}, Recall@10 ${fixed(heldOut.recallAt10, 3)}, MRR ${fixed(heldOut.mrr, 3)} (${heldOut.nextActionPositions} positions)`,
      );
    }
    if (recovery?.truePerplexity != null) {
      lines.push(
        `true model          perplexity ${fixed(recovery.truePerplexity, 1)} on the same held-out tokens (the generating model, exact)`,
      );
    }
    if (recovery?.meanTopicTotalVariation != null) {
      lines.push(
        `topic recovery      mean total variation ${fixed(recovery.meanTopicTotalVariation, 3)} to the true topics (matched one to one)`,
      );
    }
    const cache = summary.cache;
    if (cache && settings.model !== 'cache') {
      lines.push(
        `recency cache       perplexity ${fixed(cache.perplexity, 1)}, Recall@1 ${fixed(cache.recallAt1, 3)}, ` +
          `Recall@10 ${fixed(cache.recallAt10, 3)}, MRR ${fixed(cache.mrr, 3)} (decay ${fixed(cache.decay, 3)}, unigram weight ` +
          `${fixed(cache.mass, 2)}${cache.fitted ? ', fitted on a held-in tenth of the training sequences' : ', not fitted: too few sequences'})`,
      );
    }
    if (summary.copy) {
      const copy = summary.copy;
      lines.push(
        `copy component      ${copy.kept ? 'kept' : 'dropped'}: held-in perplexity ${fixed(copy.heldInPerplexityWith, 1)} ` +
          `with it, ${fixed(copy.heldInPerplexityWithout, 1)} without (form ${copy.form}, decay ${fixed(copy.decay, 3)}; ` +
          `${copy.heldInTokens.toLocaleString('en-US')} ${summary.repeatBlocks ? 'blocks' : 'tokens'} of ${copy.heldInSequences} held-in sequences)`,
      );
    }
    if (summary.repeatBlocks) {
      const { tokens, blocks, transitions, repeats } = summary.repeatBlocks;
      lines.push(
        `repeat blocks       ${tokens.toLocaleString('en-US')} training tokens in ${blocks.toLocaleString('en-US')} runs of ` +
          `one action; ${fixed(transitions > 0 ? (100 * repeats) / transitions : 0, 1)}% of transitions repeat (each action's repeat probability by run length; --repeats tokens to ` +
          'model every token as a step)',
      );
    }
    if (summary.lookaheadChoice) {
      const choice = summary.lookaheadChoice;
      const { lookahead: withIt, noLookahead: without } = choice.heldInPerplexity;
      lines.push(
        `lookahead           auto kept ${choice.lookahead ? '1' : '0'}: held-in perplexity ${fixed(withIt, 1)} with ` +
          `lookahead, ${fixed(without, 1)} without (both runs from the end of the initialisation)`,
      );
    }
    lines.push(
      `parameters          ${model.denseParameters.toLocaleString('en-US')} dense + ${(model.parameterCount - model.denseParameters).toLocaleString('en-US')} count non-zeros`,
    );
    if (saved.savedTo !== null) lines.push(`saved               ${saved.savedTo}`);
    if (saved.error !== null) lines.push(`not saved to        ${out} (see the message above)`);
    io.stdout.write(`${lines.join('\n')}\n`);
    return code;
  },
};
