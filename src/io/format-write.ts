/**
 * Writing the model-file container (layout in format.ts and docs/model-format.md): the caller's header and
 * sections in, byte chunks out, written atomically.
 */
import { crc32 } from './crc32.js';
import { writeFileAtomic } from './atomic.js';
import { packageVersion } from '../package-info.js';
import {
  CURRENT_FORMAT_VERSION,
  KINDS,
  MAGIC_BYTES,
  PREFIX_BYTES,
  RESERVED_KEYS,
  TRAILER_BYTES,
  align,
  dtypeOf,
  hostIsLittleEndian,
  swapBytes,
  type ModelFileInput,
  type SectionArray,
  type SectionEntry,
} from './format.js';

/**
 * Encodes a model file or checkpoint as a list of byte chunks (views over the caller's arrays where the host is
 * little-endian, so nothing large is copied). Invalid input (a reserved header key, a non-finite number in the
 * header, an unsupported array type) throws an Error naming it.
 */
export function encodeModelFile(input: ModelFileInput): Uint8Array[] {
  const { kind, header, sections } = input;
  if (!KINDS.includes(kind))
    throw new Error(`encodeModelFile: kind must be 'model' or 'checkpoint', got ${JSON.stringify(kind)}`);
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new Error('encodeModelFile: header must be a plain object of caller fields');
  }
  for (const key of RESERVED_KEYS) {
    if (Object.hasOwn(header, key)) {
      throw new Error(`encodeModelFile: header field "${key}" is reserved for the file format; rename it`);
    }
  }
  const nonFinite = findNonFiniteNumber(header, 'header');
  if (nonFinite !== undefined) {
    throw new Error(
      `encodeModelFile: ${nonFinite} is not a finite number and JSON cannot hold it; store it in a float section or as a string`,
    );
  }

  // Section table: each section starts at the next multiple of 8 after the previous one's end.
  const table: SectionEntry[] = [];
  const payloads: Uint8Array[] = [];
  let cursor = 0;
  for (const [name, array] of Object.entries(sections)) {
    if (name.length === 0) throw new Error('encodeModelFile: a section name is empty; give every section a name');
    const dtype = dtypeOf(array);
    if (dtype === undefined) {
      throw new Error(
        `encodeModelFile: section "${name}" is a ${describe(array)}; use Int32Array, Float32Array, Float64Array or Uint8Array`,
      );
    }
    const offset = align(cursor);
    table.push({ name, dtype, count: array.length, offset });
    payloads.push(littleEndianBytes(array));
    cursor = offset + array.byteLength;
  }
  const dataBytes = cursor;

  let headerJson: string;
  try {
    headerJson = JSON.stringify({ kind, llaVersion: packageVersion(), ...header, sections: table, dataBytes });
  } catch (error) {
    throw new Error(
      `encodeModelFile: the header cannot be written as JSON (${(error as Error).message}); remove cycles and BigInts`,
    );
  }
  const headerBytes = new TextEncoder().encode(headerJson);
  if (headerBytes.length > 0xffffffff)
    throw new Error('encodeModelFile: the header exceeds 4 GiB; move large tables into sections');

  const dataStart = align(PREFIX_BYTES + headerBytes.length);
  const totalBytes = dataStart + dataBytes + TRAILER_BYTES;

  // prefix: magic, version, flags, header length, header, zero padding up to the data region.
  const prefix = new Uint8Array(dataStart);
  const prefixView = new DataView(prefix.buffer);
  prefix.set(MAGIC_BYTES, 0);
  prefixView.setUint32(8, CURRENT_FORMAT_VERSION, true);
  prefixView.setUint32(12, 0, true); // flags: none defined in format 1
  prefixView.setUint32(16, headerBytes.length, true);
  prefix.set(headerBytes, PREFIX_BYTES);

  const chunks: Uint8Array[] = [prefix];
  let written = 0; // bytes of the data region emitted so far
  for (let index = 0; index < table.length; index++) {
    if (table[index].offset > written) chunks.push(new Uint8Array(table[index].offset - written));
    if (payloads[index].length > 0) chunks.push(payloads[index]);
    written = table[index].offset + payloads[index].length;
  }

  const trailer = new Uint8Array(TRAILER_BYTES);
  const trailerView = new DataView(trailer.buffer);
  trailerView.setBigUint64(0, BigInt(totalBytes), true);
  let checksum = 0;
  for (const chunk of chunks) checksum = crc32(chunk, checksum);
  checksum = crc32(trailer.subarray(0, 8), checksum);
  trailerView.setUint32(8, checksum, true);
  chunks.push(trailer);
  return chunks;
}

/** Encodes and writes atomically: an existing file at `path` is replaced only by a complete new one. */
export function writeModelFile(path: string, input: ModelFileInput): void {
  writeFileAtomic(path, encodeModelFile(input));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/** The path of the first NaN or ±Infinity in a JSON-bound value (JSON.stringify would silently write null). */
function findNonFiniteNumber(value: unknown, path: string, seen = new Set<object>()): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path} (${value})`;
  if (value === null || typeof value !== 'object') return undefined;
  if (seen.has(value)) return undefined; // a cycle: JSON.stringify reports it below
  seen.add(value);
  if (ArrayBuffer.isView(value)) return `${path} (a typed array; put it in a section)`;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined; // e.g. Date: serialises itself
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = findNonFiniteNumber(value[index], `${path}[${index}]`, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const found = findNonFiniteNumber(item, `${path}.${key}`, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The array's bytes in little-endian order: a view on little-endian hosts, a byte-swapped copy otherwise. */
function littleEndianBytes(array: SectionArray): Uint8Array {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  if (hostIsLittleEndian || array.BYTES_PER_ELEMENT === 1) return bytes;
  const copy = bytes.slice();
  swapBytes(copy, array.BYTES_PER_ELEMENT);
  return copy;
}
