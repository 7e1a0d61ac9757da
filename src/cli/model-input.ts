/**
 * What the model-consuming commands (eval, infer, predict, topics, export) share: loading the model named on
 * the command line with the backend flags, refusing a model of the wrong kind before any work, and reading an
 * input file as sequences of action strings.
 */
import type { CommandIO } from './command.js';
import type { ParsedArgs } from './options.js';
import { backendFrom } from './model-options.js';
import { LlaModel } from '../model/model.js';
import { readDocuments } from '../corpus/documents.js';
import type { RawDocuments, ReadOptions } from '../corpus/types.js';
import { UsageError } from '../errors.js';

/** Loads `path` on the backends chosen by --backend/--tf-backend/--threads (or LLA_BACKEND / LLA_TF_BACKEND). */
export async function loadModelFor(command: string, path: string, args: ParsedArgs, io: CommandIO): Promise<LlaModel> {
  const backends = backendFrom(command, args, io.env);
  return LlaModel.load(path, {
    backend: backends.backend,
    threads: backends.threads,
    warn: (message: string) => io.stderr.write(`${message}\n`),
    ...(backends.tfBackend ? { tfBackend: backends.tfBackend } : {}),
  });
}

/**
 * Refuses a model whose kind cannot do `what` (the lstm and cache baselines have no topics, phi or topic transitions):
 * a usage error (exit 2) raised before anything is read or written.
 */
export function requireTopicModel(command: string, model: LlaModel, path: string, what: string): void {
  if (model.model === 'lstm' || model.model === 'cache') {
    const kind = model.model === 'lstm' ? "an 'lstm' baseline model" : "a 'cache' model (the recency cache)";
    throw new UsageError(
      `lla ${command}: ${path} is ${kind}, which has no topics, so it cannot ${what}; ` +
        `give a topic model (trained with --model lla, word-lla or lda), or use 'lla eval' and 'lla predict' for the ` +
        `${model.model} baseline`,
    );
  }
}

/** The input file read whole: one entry per sequence, its id and its action strings (unfiltered). */
export interface InputSequences {
  raw: RawDocuments;
  ids: string[];
  sequences: string[][];
}

export async function readSequences(path: string, read: ReadOptions): Promise<InputSequences> {
  const raw = await readDocuments(path, read);
  const sequences: string[][] = [];
  for (let d = 0; d + 1 < raw.offsets.length; d++) {
    const sequence: string[] = new Array(raw.offsets[d + 1] - raw.offsets[d]);
    for (let t = raw.offsets[d]; t < raw.offsets[d + 1]; t++)
      sequence[t - raw.offsets[d]] = raw.tokenStrings[raw.tokens[t]];
    sequences.push(sequence);
  }
  return { raw, ids: raw.ids, sequences };
}

/** JSON with non-finite numbers as null (NaN metrics, e.g. Recall on sequences too short to rank). */
export function finiteJson(value: unknown): string {
  return JSON.stringify(value, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}
