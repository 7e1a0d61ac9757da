/**
 * The `lla` command line: dispatch to one module per command, turn LlaError into a message and an exit code
 * (0 ok, 1 failure, 2 bad usage or input, 130 interrupted), never a stack trace for expected failures. With
 * --json a failure also ends stdout with an error object, {"error": message, "exitCode": code}, so that the
 * last line is always the outcome.
 */
import type { Command, CommandIO } from './command.js';
import { COMMON_OPTIONS, helpText, parseCommandArgs } from './options.js';
import { LlaError, UsageError } from '../errors.js';
import { KernelLimitError } from '../kernels/limits.js';
import { packageVersion } from '../package-info.js';

/** Commands load lazily so that `lla --help` does not pay for TF.js or the kernels. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  'corpus-stats': {
    summary: 'count sequences, tokens and distinct actions of an input file',
    load: () => import('./commands/corpus-stats.js'),
  },
  train: {
    summary: 'train a model (lla, word-lla, lda, lstm) and report held-out perplexity',
    load: () => import('./commands/train.js'),
  },
  eval: {
    summary: 'perplexity and next-action Recall@1/@10, MRR of a saved model on an input file',
    load: () => import('./commands/eval.js'),
  },
  infer: {
    summary: 'topic paths of unseen sequences (JSON lines with --json)',
    load: () => import('./commands/infer.js'),
  },
  predict: {
    summary: 'the most probable next actions after each sequence (JSON lines with --json)',
    load: () => import('./commands/predict.js'),
  },
  topics: {
    summary: 'top actions per topic of a saved model, with their probabilities',
    load: () => import('./commands/topics.js'),
  },
  export: {
    summary: 'write phi, top actions per topic and the topic-transition matrix as JSON or CSV',
    load: () => import('./commands/export.js'),
  },
  report: {
    summary: 'write a self-contained HTML report of a trained model (curves, transitions, topics)',
    load: () => import('./commands/report.js'),
  },
  bench: {
    summary: 'measure sampler throughput (tokens/s) and peak memory on a corpus',
    load: () => import('./commands/bench.js'),
  },
  generate: {
    summary: 'write a synthetic corpus from a known LLA (known topics and dynamics)',
    load: () => import('./commands/generate.js'),
  },
};

/**
 * An expected failure with its exit code. Checked by shape as well as by class: a test runner that loads the
 * modules twice (tsx under uvu) makes two LlaError classes, and an error must not turn into a crash report.
 */
function isLlaError(error: unknown): error is LlaError {
  return (
    error instanceof LlaError ||
    (error instanceof Error && Number.isInteger((error as { exitCode?: unknown }).exitCode))
  );
}

/** A KernelLimitError (src/kernels/limits.ts), by class or, as for LlaError, by name. */
function isKernelLimitError(error: unknown): error is Error {
  return error instanceof KernelLimitError || (error instanceof Error && error.name === 'KernelLimitError');
}

function topLevelHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  const rows = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}${entry.summary}`);
  return (
    `lla ${packageVersion()}: Latent LSTM Allocation for sequences of actions\n\n` +
    `Usage: lla <command> <input> [options]\n\nCommands:\n${rows.join('\n')}\n\n` +
    `Run 'lla <command> --help' for a command's options.\n` +
    `Environment: LLA_BACKEND=native|wasm|auto selects the kernel backend; LLA_TF_BACKEND=node|wasm|cpu the LSTM backend.\n`
  );
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topLevelHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  // until the options are parsed (an unknown flag fails parsing), --json anywhere counts
  let json = rest.includes('--json');
  const fail = (message: string, exitCode: number, summary = message): number => {
    io.stderr.write(`${message}\n`);
    if (json) io.stdout.write(`${JSON.stringify({ error: summary, exitCode })}\n`);
    return exitCode;
  };
  try {
    // own keys only: `toString` or `constructor` is a key of every object, not a command
    const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!entry) {
      throw new UsageError(
        `lla: unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')}. ` + `Run 'lla --help'.`,
      );
    }
    const { command } = await entry.load();
    const specs = { ...command.options, ...COMMON_OPTIONS };
    const args = parseCommandArgs(name, rest, specs);
    json = args.values.json === true;
    if (args.values.help) {
      io.stdout.write(helpText(name, command.usage, command.description, specs));
      return 0;
    }
    return await command.run(args, io);
  } catch (error) {
    if (isLlaError(error)) return fail(`lla: ${error.message.replace(/^lla:?\s*/, '')}`, error.exitCode);
    // a value outside the kernel limits is bad input wherever it was found (settings, a model file, a corpus)
    if (isKernelLimitError(error)) return fail(`lla ${name}: ${error.message}`, 2);
    const err = error as Error;
    return fail(
      `lla ${name}: unexpected failure: ${err?.stack ?? String(error)}\n` +
        'This is a bug in lla; please report it with the command you ran.',
      1,
      `lla ${name}: unexpected failure: ${err?.message ?? String(error)} (a bug in lla)`,
    );
  }
}
