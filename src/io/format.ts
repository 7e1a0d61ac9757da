/**
 * The versioned container for model files and checkpoints (SPEC section 6; byte layout in docs/model-format.md):
 *
 *   magic "LLAMODEL" | u32 format version | u32 flags | u32 header byte length | JSON header (UTF-8)
 *   | zero padding to a multiple of 8 | data region: binary sections, little-endian, each 8-aligned
 *   | u64 total file length | u32 CRC-32 of every byte before it
 *
 * The first 20 bytes and the header's `llaVersion` field keep their meaning in every format version, so that
 * any lla can at least say which lla wrote a file it cannot read. Reading dispatches on the format version
 * (`decoders` in format-read.ts): a new format adds a decoder and keeps the old ones, so files from earlier
 * versions load. This file holds the layout both sides share; format-write.ts encodes, format-read.ts decodes.
 */

/** The format this lla writes. */
export const CURRENT_FORMAT_VERSION = 1;
/** The newest format this lla can read (every version from 1 up to it has a decoder). */
export const NEWEST_READABLE_FORMAT_VERSION = 1;

export const MAGIC = 'LLAMODEL';
export const MAGIC_BYTES = new TextEncoder().encode(MAGIC);
/** magic (8) + format version (4) + flags (4) + header byte length (4). */
export const PREFIX_BYTES = 20;
/** u64 total file length + u32 CRC-32. */
export const TRAILER_BYTES = 12;
export const ALIGNMENT = 8;

export type ModelFileKind = 'model' | 'checkpoint';
export const KINDS: readonly ModelFileKind[] = ['model', 'checkpoint'];

export type SectionDtype = 'int32' | 'float32' | 'float64' | 'uint8';
export type SectionArray = Int32Array | Float32Array | Float64Array | Uint8Array;

/** Bytes per element and how to view a fresh buffer, per dtype. */
export const DTYPES: Record<
  SectionDtype,
  { bytes: number; view: (buffer: ArrayBuffer, count: number) => SectionArray }
> = {
  int32: { bytes: 4, view: (buffer, count) => new Int32Array(buffer, 0, count) },
  float32: { bytes: 4, view: (buffer, count) => new Float32Array(buffer, 0, count) },
  float64: { bytes: 8, view: (buffer, count) => new Float64Array(buffer, 0, count) },
  uint8: { bytes: 1, view: (buffer, count) => new Uint8Array(buffer, 0, count) },
};

/** One row of the header's section table. `offset` counts from the start of the data region. */
export interface SectionEntry {
  name: string;
  dtype: SectionDtype;
  count: number;
  offset: number;
}

/** Header keys the container itself fills in; the caller's header must not use them. */
export const RESERVED_KEYS = ['kind', 'llaVersion', 'sections', 'dataBytes'] as const;

export interface ModelFileInput {
  kind: ModelFileKind;
  /** Caller fields (config, vocabulary, history, ...): any JSON value, numbers finite. */
  header: Record<string, unknown>;
  sections: Record<string, SectionArray>;
}

export interface ModelFileContents {
  formatVersion: number;
  kind: ModelFileKind;
  /** The package version of the lla that wrote the file. */
  llaVersion: string;
  /** The caller fields given when the file was written. */
  header: Record<string, unknown>;
  /** Each section in its own freshly allocated (hence aligned) buffer. */
  sections: Record<string, SectionArray>;
}

export interface ReadModelFileOptions {
  /** Fail with a clear error when the file is of the other kind (a checkpoint given where a model is expected). */
  expectKind?: ModelFileKind;
}

export const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export const align = (value: number) => Math.ceil(value / ALIGNMENT) * ALIGNMENT;

export function dtypeOf(array: unknown): SectionDtype | undefined {
  if (array instanceof Int32Array) return 'int32';
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof Uint8Array && !(array instanceof Uint8ClampedArray)) return 'uint8';
  return undefined;
}

/** Reverses the byte order of each `width`-byte element in place (big-endian hosts only). */
export function swapBytes(bytes: Uint8Array, width: number): void {
  for (let start = 0; start < bytes.length; start += width) bytes.subarray(start, start + width).reverse();
}
