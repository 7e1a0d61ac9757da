/**
 * The versioned container for model files and checkpoints (SPEC section 6; byte layout in docs/model-format.md):
 *
 *   magic "LLAMODEL" | u32 format version | u32 flags | u32 header byte length | JSON header (UTF-8)
 *   | zero padding to a multiple of 8 | data region: binary sections, little-endian, each 8-aligned
 *   | u64 total file length | u32 CRC-32 of every byte before it
 *
 * The first 20 bytes and the header's `llaVersion` field keep their meaning in every format version, so that
 * any lla can at least say which lla wrote a file it cannot read. Reading dispatches on the format version
 * (`decoders` below): a new format adds a decoder and keeps the old ones, so files from earlier versions load.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../errors.js';
import { crc32 } from './crc32.js';
import { writeFileAtomic } from './atomic.js';
import { packageVersion } from '../package-info.js';

/** The format this lla writes. */
export const CURRENT_FORMAT_VERSION = 1;
/** The newest format this lla can read (every version from 1 up to it has a decoder). */
export const NEWEST_READABLE_FORMAT_VERSION = 1;

export const MAGIC = 'LLAMODEL';
const MAGIC_BYTES = new TextEncoder().encode(MAGIC);
/** magic (8) + format version (4) + flags (4) + header byte length (4). */
export const PREFIX_BYTES = 20;
/** u64 total file length + u32 CRC-32. */
export const TRAILER_BYTES = 12;
const ALIGNMENT = 8;

export type ModelFileKind = 'model' | 'checkpoint';
const KINDS: readonly ModelFileKind[] = ['model', 'checkpoint'];

export type SectionDtype = 'int32' | 'float32' | 'float64' | 'uint8';
export type SectionArray = Int32Array | Float32Array | Float64Array | Uint8Array;

/** Bytes per element and how to view a fresh buffer, per dtype. */
const DTYPES: Record<SectionDtype, { bytes: number; view: (buffer: ArrayBuffer, count: number) => SectionArray }> = {
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
const RESERVED_KEYS = ['kind', 'llaVersion', 'sections', 'dataBytes'] as const;

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

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const align = (value: number) => Math.ceil(value / ALIGNMENT) * ALIGNMENT;

// ---------------------------------------------------------------------------------------------------------
// Writing

/**
 * Encodes a model file or checkpoint as a list of byte chunks (views over the caller's arrays where the host is
 * little-endian, so nothing large is copied). Invalid input (a reserved header key, a non-finite number in the
 * header, an unsupported array type) throws an Error naming it.
 */
export function encodeModelFile(input: ModelFileInput): Uint8Array[] {
  const { kind, header, sections } = input;
  if (!KINDS.includes(kind)) throw new Error(`encodeModelFile: kind must be 'model' or 'checkpoint', got ${JSON.stringify(kind)}`);
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
    throw new Error(`encodeModelFile: ${nonFinite} is not a finite number and JSON cannot hold it; store it in a float section or as a string`);
  }

  // Section table: each section starts at the next multiple of 8 after the previous one's end.
  const table: SectionEntry[] = [];
  const payloads: Uint8Array[] = [];
  let cursor = 0;
  for (const [name, array] of Object.entries(sections)) {
    if (name.length === 0) throw new Error('encodeModelFile: a section name is empty; give every section a name');
    const dtype = dtypeOf(array);
    if (dtype === undefined) {
      throw new Error(`encodeModelFile: section "${name}" is a ${describe(array)}; use Int32Array, Float32Array, Float64Array or Uint8Array`);
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
    throw new Error(`encodeModelFile: the header cannot be written as JSON (${(error as Error).message}); remove cycles and BigInts`);
  }
  const headerBytes = new TextEncoder().encode(headerJson);
  if (headerBytes.length > 0xffffffff) throw new Error('encodeModelFile: the header exceeds 4 GiB; move large tables into sections');

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

function dtypeOf(array: unknown): SectionDtype | undefined {
  if (array instanceof Int32Array) return 'int32';
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof Uint8Array && !(array instanceof Uint8ClampedArray)) return 'uint8';
  return undefined;
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

/** Reverses the byte order of each `width`-byte element in place (big-endian hosts only). */
function swapBytes(bytes: Uint8Array, width: number): void {
  for (let start = 0; start < bytes.length; start += width) bytes.subarray(start, start + width).reverse();
}

// ---------------------------------------------------------------------------------------------------------
// Reading

/** Random-access reads from a file or from bytes in memory. */
interface ByteSource {
  readonly size: number;
  /** Fills `target` with the bytes starting at `position`; throws when fewer are available. */
  read(target: Uint8Array, position: number): void;
}

/** What a decoder gets: the source, the file's name for messages, and the 20-byte prefix already parsed. */
interface DecodeContext {
  source: ByteSource;
  file: string;
  formatVersion: number;
  flags: number;
  headerBytes: number;
  prefix: Uint8Array;
  options: ReadModelFileOptions;
}

/**
 * One decoder per format version this lla can read. Migration hook: when format 2 arrives, decodeVersion1 stays
 * and converts what it reads into the current in-memory shape, so version-1 files keep loading.
 */
const decoders: Record<number, (context: DecodeContext) => ModelFileContents> = {
  1: decodeVersion1,
};

/** Reads a model file or checkpoint, verifying its layout and checksum. Every failure is an InputError naming the file. */
export function readModelFile(path: string, options: ReadModelFileOptions = {}): ModelFileContents {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'r');
  } catch (error) {
    throw explainOpenError(error, path);
  }
  try {
    const stats = fstatSync(descriptor);
    if (stats.isDirectory()) {
      throw new InputError('is a folder, not a model file; give the path of the model file inside it', path);
    }
    const source: ByteSource = {
      size: stats.size,
      read(target, position) {
        let filled = 0;
        while (filled < target.length) {
          // at most 1 GiB per call: readSync rejects lengths above 2^31 - 1
          const count = readSync(descriptor, target, filled, Math.min(target.length - filled, 1 << 30), position + filled);
          if (count === 0) throw new InputError('is truncated: the file shrank while it was being read; make sure nothing else is writing it, then retry', path);
          filled += count;
        }
      },
    };
    return decode(source, path, options);
  } finally {
    closeSync(descriptor);
  }
}

/** Decodes a model file held in memory (e.g. shipped inside the package); `name` is used in error messages. */
export function decodeModelFile(bytes: Uint8Array, name: string, options: ReadModelFileOptions = {}): ModelFileContents {
  const source: ByteSource = {
    size: bytes.length,
    read(target, position) {
      if (position + target.length > bytes.length) throw new InputError('is truncated: a read ran past its end', name);
      target.set(bytes.subarray(position, position + target.length));
    },
  };
  return decode(source, name, options);
}

/**
 * Returns section `name` when it exists with the expected dtype, else an InputError naming the file: for callers
 * that turn the generic contents into a model.
 */
export function requireSection(contents: ModelFileContents, name: string, dtype: 'int32', file: string): Int32Array;
export function requireSection(contents: ModelFileContents, name: string, dtype: 'float32', file: string): Float32Array;
export function requireSection(contents: ModelFileContents, name: string, dtype: 'float64', file: string): Float64Array;
export function requireSection(contents: ModelFileContents, name: string, dtype: 'uint8', file: string): Uint8Array;
export function requireSection(contents: ModelFileContents, name: string, dtype: SectionDtype, file: string): SectionArray {
  const section = Object.hasOwn(contents.sections, name) ? contents.sections[name] : undefined;
  if (section === undefined) {
    throw new InputError(`has no section "${name}" (it has: ${Object.keys(contents.sections).join(', ') || 'none'}); it was not written as a ${contents.kind} with this content: write it again with this lla`, file);
  }
  if (dtypeOf(section) !== dtype) {
    throw new InputError(`section "${name}" holds ${dtypeOf(section)} values where ${dtype} is expected; write the file again with this lla`, file);
  }
  return section;
}

function explainOpenError(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new InputError('no such file; check the path (a model file is written by `lla train` with --out)', path);
    case 'EISDIR':
      return new InputError('is a folder, not a model file; give the path of the model file inside it', path);
    case 'EACCES':
    case 'EPERM':
      return new InputError('cannot be read: no permission; change its permissions or run as its owner', path);
    default:
      return code === undefined ? error : new InputError(`cannot be opened: ${(error as Error).message}`, path);
  }
}

function decode(source: ByteSource, file: string, options: ReadModelFileOptions): ModelFileContents {
  const available = Math.min(source.size, PREFIX_BYTES);
  const prefix = new Uint8Array(available);
  source.read(prefix, 0);
  const magicSeen = prefix.subarray(0, Math.min(available, MAGIC_BYTES.length));
  if (!magicSeen.every((byte, index) => byte === MAGIC_BYTES[index])) {
    throw new InputError(`is not an lla model file (it does not start with "${MAGIC}"); give the path of a file written by \`lla train\``, file);
  }
  if (source.size < PREFIX_BYTES) {
    throw new InputError(`is truncated: ${source.size} bytes, shorter than the ${PREFIX_BYTES}-byte start of every model file; the write was cut off: write it again or restore it from a backup`, file);
  }
  const view = new DataView(prefix.buffer);
  const formatVersion = view.getUint32(8, true);
  const flags = view.getUint32(12, true);
  const headerBytes = view.getUint32(16, true);
  if (formatVersion === 0) {
    throw brokenFile(source, file, 'the format version field is 0, which no lla writes');
  }
  if (formatVersion > NEWEST_READABLE_FORMAT_VERSION) {
    const writer = bestEffortWriterVersion(source, headerBytes);
    const by = writer === undefined ? 'a newer lla' : `lla ${writer}`;
    throw new InputError(
      `was written by ${by} with model format ${formatVersion}; this lla (${packageVersion()}) reads formats up to ${NEWEST_READABLE_FORMAT_VERSION}: upgrade lla (npm install lla@latest)`,
      file,
    );
  }
  return decoders[formatVersion]({ source, file, formatVersion, flags, headerBytes, prefix, options });
}

/** The writer's version from the header of a file in a format this lla cannot read (the key is stable). */
function bestEffortWriterVersion(source: ByteSource, headerBytes: number): string | undefined {
  if (PREFIX_BYTES + headerBytes > source.size || headerBytes > 64 * 1024 * 1024) return undefined;
  try {
    const bytes = new Uint8Array(headerBytes);
    source.read(bytes, PREFIX_BYTES);
    const parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as { llaVersion?: unknown };
    return typeof parsed.llaVersion === 'string' ? parsed.llaVersion : undefined;
  } catch {
    return undefined;
  }
}

function decodeVersion1(context: DecodeContext): ModelFileContents {
  const { source, file, flags, headerBytes, prefix, options } = context;
  const headerEnd = PREFIX_BYTES + headerBytes;
  if (headerEnd + TRAILER_BYTES > source.size) {
    throw brokenFile(source, file, `the header length (${headerBytes} bytes) reaches past the end of the file`, headerEnd + TRAILER_BYTES);
  }
  if (flags !== 0) {
    throw brokenFile(source, file, `flags 0x${flags.toString(16)} are set, which format 1 does not define`);
  }

  const headerRaw = new Uint8Array(headerBytes);
  source.read(headerRaw, PREFIX_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerRaw));
  } catch (error) {
    throw brokenFile(source, file, `the header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  const structure = checkHeaderV1(parsed);
  if (typeof structure === 'string') throw brokenFile(source, file, structure);
  const { kind, llaVersion, table, dataBytes, callerFields } = structure;

  const dataStart = align(headerEnd);
  const declaredTotal = dataStart + dataBytes + TRAILER_BYTES;
  if (source.size !== declaredTotal) {
    throw brokenFile(
      source, file,
      source.size > declaredTotal ? `${source.size - declaredTotal} bytes follow the declared end of the file` : 'the file is shorter than its layout',
      declaredTotal,
    );
  }

  // Read in file order, feeding every byte (padding included) to the checksum.
  let checksum = crc32(prefix);
  checksum = crc32(headerRaw, checksum);
  const scratch = new Uint8Array(1 << 20);
  const skipTo = (position: number, target: number) => {
    while (position < target) {
      const piece = scratch.subarray(0, Math.min(scratch.length, target - position));
      source.read(piece, position);
      checksum = crc32(piece, checksum);
      position += piece.length;
    }
  };
  skipTo(headerEnd, dataStart);
  const sections: Record<string, SectionArray> = {};
  let position = dataStart;
  for (const entry of [...table].sort((a, b) => a.offset - b.offset)) {
    skipTo(position, dataStart + entry.offset);
    const width = DTYPES[entry.dtype].bytes;
    const buffer = new ArrayBuffer(entry.count * width);
    const bytes = new Uint8Array(buffer);
    source.read(bytes, dataStart + entry.offset);
    checksum = crc32(bytes, checksum);
    if (!hostIsLittleEndian && width > 1) swapBytes(bytes, width);
    sections[entry.name] = DTYPES[entry.dtype].view(buffer, entry.count);
    position = dataStart + entry.offset + bytes.length;
  }
  skipTo(position, dataStart + dataBytes);

  const trailer = new Uint8Array(TRAILER_BYTES);
  source.read(trailer, dataStart + dataBytes);
  checksum = crc32(trailer.subarray(0, 8), checksum);
  const trailerView = new DataView(trailer.buffer);
  if (trailerView.getBigUint64(0, true) !== BigInt(source.size) || trailerView.getUint32(8, true) !== checksum) {
    throw damaged(file, source.size);
  }

  if (options.expectKind !== undefined && kind !== options.expectKind) {
    throw new InputError(
      kind === 'checkpoint'
        ? 'is a training checkpoint, not a model; give the model file (checkpoints are read by `lla train --resume`)'
        : 'is a model file, not a training checkpoint; to continue training from a model use `lla train --from MODEL`',
      file,
    );
  }

  // Keep the caller's section order (the table order), not the file order.
  const ordered: Record<string, SectionArray> = {};
  for (const entry of table) ordered[entry.name] = sections[entry.name];
  return { formatVersion: 1, kind, llaVersion, header: callerFields, sections: ordered };
}

interface HeaderV1 {
  kind: ModelFileKind;
  llaVersion: string;
  table: SectionEntry[];
  dataBytes: number;
  callerFields: Record<string, unknown>;
}

/** Checks the version-1 header's own fields; returns what is wrong as a string, or the parsed structure. */
function checkHeaderV1(parsed: unknown): HeaderV1 | string {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'the header is JSON but not an object';
  const record = parsed as Record<string, unknown>;
  const { kind, llaVersion, sections, dataBytes } = record;
  if (typeof kind !== 'string' || !KINDS.includes(kind as ModelFileKind)) return `the header's kind is ${JSON.stringify(kind)}, not "model" or "checkpoint"`;
  if (typeof llaVersion !== 'string') return 'the header has no llaVersion string';
  if (!Number.isSafeInteger(dataBytes) || (dataBytes as number) < 0) return `the header's dataBytes (${JSON.stringify(dataBytes)}) is not a byte count`;
  if (!Array.isArray(sections)) return 'the header has no section table';
  const table: SectionEntry[] = [];
  const names = new Set<string>();
  for (const row of sections as unknown[]) {
    const entry = row as Partial<SectionEntry> | null;
    if (entry === null || typeof entry !== 'object') return 'a section table row is not an object';
    const { name, dtype, count, offset } = entry;
    if (typeof name !== 'string' || name.length === 0) return 'a section has no name';
    if (names.has(name)) return `section "${name}" appears twice`;
    names.add(name);
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype)) return `section "${name}" has unknown dtype ${JSON.stringify(dtype)}`;
    if (!Number.isSafeInteger(count) || (count as number) < 0) return `section "${name}" has an invalid element count ${JSON.stringify(count)}`;
    if (!Number.isSafeInteger(offset) || (offset as number) < 0 || (offset as number) % ALIGNMENT !== 0) {
      return `section "${name}" has an invalid offset ${JSON.stringify(offset)} (must be a multiple of ${ALIGNMENT})`;
    }
    const end = (offset as number) + (count as number) * DTYPES[dtype as SectionDtype].bytes;
    if (end > (dataBytes as number)) {
      return `section "${name}" is out of bounds: it ends at byte ${end} of a ${dataBytes}-byte data region`;
    }
    table.push({ name, dtype: dtype as SectionDtype, count: count as number, offset: offset as number });
  }
  const byOffset = [...table].sort((a, b) => a.offset - b.offset);
  for (let index = 1; index < byOffset.length; index++) {
    const previous = byOffset[index - 1];
    if (previous.offset + previous.count * DTYPES[previous.dtype].bytes > byOffset[index].offset) {
      return `sections "${previous.name}" and "${byOffset[index].name}" overlap`;
    }
  }
  const callerFields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    // defineProperty: a "__proto__" key in the JSON must stay data, not replace the object's prototype.
    if (!(RESERVED_KEYS as readonly string[]).includes(key)) {
      Object.defineProperty(callerFields, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return { kind: kind as ModelFileKind, llaVersion, table, dataBytes: dataBytes as number, callerFields };
}

function damaged(file: string, size: number): InputError {
  return new InputError(
    `is damaged: its checksum does not match its ${size} bytes (changed on disk or in transfer); restore it from a backup or write it again`,
    file,
  );
}

/**
 * The error for a file whose layout does not add up. Which one it is depends on the trailer:
 *   - length and checksum intact: the bytes are exactly as written, so the writer was faulty: say what is wrong;
 *   - shorter than its declared layout and not ending in its own trailer: truncated (a cut-off write or copy);
 *   - otherwise: damaged.
 */
function brokenFile(source: ByteSource, file: string, problem: string, declaredTotal?: number): InputError {
  const trailer = checkTrailer(source);
  if (trailer.lengthMatches && trailer.checksumMatches) {
    return new InputError(`is malformed: ${problem}, yet its checksum matches (it was written by a faulty program); write it again with this lla`, file);
  }
  // A file cut short ends in arbitrary bytes; one that still ends in a trailer naming its own size was not cut.
  if (!trailer.lengthMatches && declaredTotal !== undefined && source.size < declaredTotal) {
    return new InputError(
      `is truncated: ${source.size} bytes, but its layout declares ${declaredTotal}; the write or copy was cut off: restore it or write it again`,
      file,
    );
  }
  return damaged(file, source.size);
}

/** Whether the trailer's length field equals the file size, and whether its CRC-32 matches every byte before it. */
function checkTrailer(source: ByteSource): { lengthMatches: boolean; checksumMatches: boolean } {
  if (source.size < PREFIX_BYTES + TRAILER_BYTES) return { lengthMatches: false, checksumMatches: false };
  const trailer = new Uint8Array(TRAILER_BYTES);
  source.read(trailer, source.size - TRAILER_BYTES);
  const view = new DataView(trailer.buffer);
  const lengthMatches = view.getBigUint64(0, true) === BigInt(source.size);
  const scratch = new Uint8Array(1 << 20);
  let checksum = 0;
  const end = source.size - 4;
  for (let position = 0; position < end; position += scratch.length) {
    const piece = scratch.subarray(0, Math.min(scratch.length, end - position));
    source.read(piece, position);
    checksum = crc32(piece, checksum);
  }
  return { lengthMatches, checksumMatches: checksum === view.getUint32(8, true) };
}
