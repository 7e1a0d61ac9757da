/** Shared option parsing for every command: typed, validated, with messages that say what to do. */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { KERNEL_LIMITS, type KernelLimitName } from '../kernels/types.js';

export type OptionSpec = {
  type: 'string' | 'boolean';
  short?: string;
  /** shown in --help */
  description: string;
  /** shown in --help as the value's name, e.g. K */
  valueName?: string;
  default?: string | boolean;
  multiple?: boolean;
};
export type OptionSpecs = Record<string, OptionSpec>;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** Options every command accepts. */
export const COMMON_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h', description: 'show this help and exit' },
  json: { type: 'boolean', description: 'machine-readable output (JSON; the last line is the result object)' },
};

export function parseCommandArgs(command: string, argv: string[], specs: OptionSpecs): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = { type: spec.type };
    if (spec.short) options[name].short = spec.short;
    if (spec.multiple) options[name].multiple = true;
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`lla ${command}: ${message}. Run 'lla ${command} --help' for the options.`);
  }
}

export function helpText(command: string, usage: string, summary: string, specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
    const def = spec.default !== undefined && spec.default !== false ? ` (default: ${spec.default})` : '';
    return [flag, `${spec.description}${def}`];
  });
  const width = Math.min(34, Math.max(...rows.map(([flag]) => flag.length)) + 2);
  const lines = rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`);
  return `Usage: lla ${command} ${usage}\n\n${summary}\n\nOptions:\n${lines.join('\n')}\n`;
}

function requireString(command: string, name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UsageError(`lla ${command}: --${name} takes a value`);
  return value;
}

/** An integer option within [min, max]; `fallback` when absent. */
export function intOption(
  command: string,
  args: ParsedArgs,
  name: string,
  fallback: number,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = requireString(command, name, args.values[name]);
  if (raw === undefined) return fallback;
  const value = Number(raw.trim());
  if (raw.trim() === '' || !Number.isInteger(value)) {
    throw new UsageError(`lla ${command}: --${name} must be a whole number, got '${raw}'`);
  }
  if (value < min || value > max || !Number.isSafeInteger(value)) {
    // above the largest exact number the text, not its rounded value, is what the user typed
    const range = max === Number.MAX_SAFE_INTEGER && value < min ? `at least ${min}` : `between ${min} and ${max}`;
    throw new UsageError(`lla ${command}: --${name} must be ${range}, got ${raw.trim()}`);
  }
  return value;
}

/**
 * An option bounded by a kernel limit (KERNEL_LIMITS in src/kernels/limits-table.ts, the one table both backends
 * honour): whole or real as the limit is, within its bounds (`min` may raise the lower one, e.g. 1 thread), and
 * the limit's reason in the message, so that a run never fails inside a kernel after its work.
 */
export function limitOption(
  command: string,
  args: ParsedArgs,
  name: string,
  limit: KernelLimitName,
  fallback: number,
  min?: number,
): number {
  const bounds = KERNEL_LIMITS[limit];
  const low = Math.max(bounds.min, min ?? bounds.min);
  const raw = requireString(command, name, args.values[name]);
  if (raw === undefined) return fallback;
  const value = Number(raw.trim());
  const kind = bounds.integer ? 'a whole number' : 'a number';
  if (raw.trim() === '' || !(bounds.integer ? Number.isInteger(value) : Number.isFinite(value))) {
    throw new UsageError(`lla ${command}: --${name} must be ${kind}, got '${raw}'`);
  }
  if (value < low || value > bounds.max || (bounds.integer && !Number.isSafeInteger(value))) {
    throw new UsageError(
      `lla ${command}: --${name} must be between ${low} and ${bounds.max}, got ${raw.trim()} ` +
        `(the kernel limit on ${limit}: ${bounds.reason})`,
    );
  }
  return value;
}

/** A finite number option within [min, max] (inclusive unless `exclusiveMin`). */
export function numberOption(
  command: string,
  args: ParsedArgs,
  name: string,
  fallback: number,
  min = -Infinity,
  max = Infinity,
  exclusiveMin = false,
): number {
  const raw = requireString(command, name, args.values[name]);
  if (raw === undefined) return fallback;
  const value = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(`lla ${command}: --${name} must be a number, got '${raw}'`);
  }
  if (value < min || value > max || (exclusiveMin && value === min)) {
    const low = exclusiveMin ? `greater than ${min}` : `at least ${min}`;
    const range = max === Infinity ? low : `${low} and at most ${max}`;
    throw new UsageError(`lla ${command}: --${name} must be ${range}, got ${value}`);
  }
  return value;
}

/** A string option restricted to `choices`. */
export function choiceOption<T extends string>(
  command: string,
  args: ParsedArgs,
  name: string,
  choices: readonly T[],
  fallback: T,
): T;
export function choiceOption<T extends string>(
  command: string,
  args: ParsedArgs,
  name: string,
  choices: readonly T[],
  fallback?: T,
): T | undefined;
export function choiceOption<T extends string>(
  command: string,
  args: ParsedArgs,
  name: string,
  choices: readonly T[],
  fallback?: T,
): T | undefined {
  const raw = requireString(command, name, args.values[name]);
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`lla ${command}: --${name} must be one of ${choices.join(', ')}; got '${raw}'`);
  }
  return raw as T;
}

export function stringOption(command: string, args: ParsedArgs, name: string): string | undefined {
  return requireString(command, name, args.values[name]);
}

/** Exactly `count` positional arguments, named for the message. */
export function positionals(command: string, args: ParsedArgs, names: string[]): string[] {
  if (args.positionals.length !== names.length) {
    const got = args.positionals.length === 0 ? 'none' : args.positionals.map((p) => `'${p}'`).join(' ');
    throw new UsageError(
      `lla ${command}: expected ${names.map((n) => `<${n}>`).join(' ')}, got ${got}. ` + `Run 'lla ${command} --help'.`,
    );
  }
  return args.positionals;
}
