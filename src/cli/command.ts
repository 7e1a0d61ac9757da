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

export interface Command {
  name: string;
  /** one line for `lla --help` */
  summary: string;
  /** the argument synopsis after `lla <name>` */
  usage: string;
  /** a paragraph for `lla <name> --help` */
  description: string;
  options: OptionSpecs;
  /** returns the exit code; throws LlaError subclasses for usage/input problems */
  run(args: ParsedArgs, io: CommandIO): Promise<number>;
}
