/** Summary statistics of a corpus as read (before any vocabulary filtering), for `lla corpus-stats`. */
import type { RawDocuments } from './types.js';

export interface LengthSummary {
  min: number;
  p10: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface CorpusStats {
  file: string;
  format: string;
  sequences: number;
  tokens: number;
  /** distinct tokens in the whole file */
  vocabulary: number;
  lengths: LengthSummary;
  lines: number;
  /** events only */
  users?: number;
}

/** Nearest-rank quantile of sorted values: the smallest value with at least q of the values at or below it. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

export function lengthSummary(offsets: Int32Array): LengthSummary {
  const count = offsets.length - 1;
  // lengths: [D] tokens per sequence, sorted ascending
  const lengths = new Int32Array(count);
  for (let d = 0; d < count; d += 1) lengths[d] = offsets[d + 1] - offsets[d];
  lengths.sort();
  const total = count === 0 ? 0 : offsets[count] - offsets[0];
  return {
    min: count === 0 ? 0 : lengths[0],
    p10: quantile(lengths, 0.1),
    median: quantile(lengths, 0.5),
    p90: quantile(lengths, 0.9),
    p99: quantile(lengths, 0.99),
    max: count === 0 ? 0 : lengths[count - 1],
    mean: count === 0 ? 0 : total / count,
  };
}

export function corpusStats(raw: RawDocuments): CorpusStats {
  const stats: CorpusStats = {
    file: raw.file,
    format: raw.format,
    sequences: raw.offsets.length - 1,
    tokens: raw.tokens.length,
    vocabulary: raw.tokenStrings.length,
    lengths: lengthSummary(raw.offsets),
    lines: raw.lines,
  };
  if (raw.users !== undefined) stats.users = raw.users;
  return stats;
}
