/** What every CLI command module exports (one file per command in src/cli/commands/). */
import type { OptionSpecs, ParsedArgs } from './options.js';

export interface CommandIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** stderr is a terminal: progress bars allowed */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  /** aborted on Ctrl-C: long commands finish their current step and stop */
  signal: AbortSignal;
}

/** A command module; its name and its one-line summary for `lla --help` are in main.ts's COMMANDS table, so
 * that the top-level help loads no command. */
export interface Command {
  /** the argument synopsis after `lla <name>` */
  usage: string;
  /** a paragraph for `lla <name> --help` */
  description: string;
  options: OptionSpecs;
  /** returns the exit code; throws LlaError subclasses for usage/input problems */
  run(args: ParsedArgs, io: CommandIO): Promise<number>;
}
