/** `lla bench --mstep`: the LSTM M-step engines side by side (src/bench/mstep-throughput.ts), as a table or JSON. */
import type { CommandIO } from '../command.js';
import { intOption, numberOption, stringOption, type ParsedArgs } from '../options.js';
import { tfBackendFrom } from '../model-options.js';
import { KERNEL_LIMITS, type KernelLimitName } from '../../kernels/types.js';
import { kernelLimitProblem } from '../../kernels/limits.js';
import {
  MSTEP_BENCH_DEFAULTS,
  MSTEP_ENGINES,
  mstepRatios,
  runMstepBench,
  type MstepBenchCell,
  type MstepEngineName,
} from '../../bench/mstep-throughput.js';
import { UsageError } from '../../errors.js';

const NAME = 'bench';
const d = MSTEP_BENCH_DEFAULTS;

/** A comma-separated list of whole numbers inside a kernel limit (e.g. --topics 50,500). */
function listOption(args: ParsedArgs, name: string, limit: KernelLimitName, fallback: number[]): number[] {
  const raw = stringOption(NAME, args, name);
  if (raw === undefined) return fallback;
  const values = raw.split(',').map((part) => Number(part.trim()));
  for (const value of values) {
    const problem = kernelLimitProblem(limit, value);
    if (problem !== undefined || (limit === 'threads' && value === 0)) {
      throw new UsageError(
        `lla bench --mstep: --${name} takes a comma-separated list of whole numbers within ` +
          `[${Math.max(1, KERNEL_LIMITS[limit].min)}, ${KERNEL_LIMITS[limit].max}], got '${raw}'`,
      );
    }
  }
  return values;
}

function enginesOption(args: ParsedArgs): MstepEngineName[] {
  const raw = stringOption(NAME, args, 'engines');
  if (raw === undefined) return [...d.engines];
  const names = raw.split(',').map((part) => part.trim());
  const unknown = names.filter((name) => !(MSTEP_ENGINES as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(
      `lla bench --mstep: --engines takes some of ${MSTEP_ENGINES.join(', ')}, comma-separated; got '${raw}'`,
    );
  }
  return names as MstepEngineName[];
}

export function formatMstepTable(cells: MstepBenchCell[]): string {
  const lines = ['   K    H  engine          threads   tokens/s   rounds (tokens/s)                 RSS growth'];
  for (const cell of cells) {
    lines.push(
      `${String(cell.topics).padStart(4)} ${String(cell.hidden).padStart(4)}  ${cell.engine.padEnd(15)} ` +
        `${(cell.threads === null ? '-' : String(cell.threads)).padStart(7)} ${Math.round(cell.tokensPerSecond).toLocaleString('en-US').padStart(10)}   ` +
        `${cell.rounds
          .map((value) => Math.round(value).toLocaleString('en-US'))
          .join(', ')
          .padEnd(33)} ` +
        `${(cell.residentGrowthBytes / 1048576).toFixed(1).padStart(6)} MiB`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function runMstepCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  if (args.positionals.length > 0) {
    throw new UsageError(
      'lla bench --mstep: takes no input file (it trains on topic sequences sampled from a synthetic LLA)',
    );
  }
  const tfBackend = tfBackendFrom(NAME, args);
  const settings = {
    topics: listOption(args, 'topics', 'topics', d.topics),
    hidden: listOption(args, 'hidden', 'hidden', d.hidden),
    threads: listOption(args, 'threads', 'threads', d.threads),
    engines: enginesOption(args),
    embedding: d.embedding,
    batch: d.batch,
    bptt: d.bptt,
    learningRate: d.learningRate,
    rounds: intOption(NAME, args, 'rounds', d.rounds, 1, 1000),
    seconds: numberOption(NAME, args, 'seconds', d.seconds, 0.05, 600),
    sequences: d.sequences,
    length: d.length,
    seed: intOption(NAME, args, 'seed', d.seed, 0, 2 ** 31 - 1),
    ...(tfBackend === undefined ? {} : { tfBackend }),
  };
  const json = args.values.json === true;
  const result = await runMstepBench({
    ...settings,
    signal: io.signal,
    onCell: (cell) => {
      if (!json && io.interactive)
        io.stderr.write(`lla bench --mstep: K=${cell.topics} H=${cell.hidden} ${cell.engine} done\n`);
    },
  });
  if (json) {
    io.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  const lines = [
    `lla bench --mstep: lla's topic LSTM, E=${d.embedding}, B=${d.batch}, L=${d.bptt}; median of ${settings.rounds} ` +
      `rounds of about ${settings.seconds} s each, engines taking turns; load average ${result.loadAverage.map((v) => v.toFixed(2)).join(' ')}`,
  ];
  for (const missing of result.unavailable) lines.push(`${missing.engine}: not available (${missing.reason})`);
  io.stdout.write(`${lines.join('\n')}\n${formatMstepTable(result.cells)}`);
  const ratios: string[] = [];
  const fixed = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a');
  for (const K of settings.topics) {
    for (const H of settings.hidden) {
      const r = mstepRatios(result.cells, K, H);
      ratios.push(
        `K=${K} H=${H}: kernel-native 1t / TF.js ${fixed(r.nativeOverTfjs)}, kernel-WASM 1t / TF.js ${fixed(r.wasmOverTfjs)}, ` +
          `2t / 1t native ${fixed(r.nativeTwoOverOne)}, WASM ${fixed(r.wasmTwoOverOne)}`,
      );
    }
  }
  io.stdout.write(
    `${ratios.join('\n')}\npeak memory ${(result.peakRssBytes / 1048576).toFixed(1)} MiB (the process, every engine)\n`,
  );
  return 0;
}
