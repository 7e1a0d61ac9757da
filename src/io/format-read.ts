/**
 * Reading the model-file container (layout in format.ts and docs/model-format.md): every failure is an
 * InputError that names the file and says whether it is truncated, damaged, malformed or from a newer lla.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../errors.js';
import { crc32 } from './crc32.js';
import { packageVersion } from '../package-info.js';
import {
  ALIGNMENT,
  DTYPES,
  KINDS,
  MAGIC,
  MAGIC_BYTES,
  NEWEST_READABLE_FORMAT_VERSION,
  PREFIX_BYTES,
  RESERVED_KEYS,
  TRAILER_BYTES,
  align,
  dtypeOf,
  hostIsLittleEndian,
  swapBytes,
  type ModelFileContents,
  type ModelFileKind,
  type ReadModelFileOptions,
  type SectionArray,
  type SectionDtype,
  type SectionEntry,
} from './format.js';

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
          const count = readSync(
            descriptor,
            target,
            filled,
            Math.min(target.length - filled, 1 << 30),
            position + filled,
          );
          if (count === 0)
            throw new InputError(
              'is truncated: the file shrank while it was being read; make sure nothing else is writing it, then retry',
              path,
            );
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
export function decodeModelFile(
  bytes: Uint8Array,
  name: string,
  options: ReadModelFileOptions = {},
): ModelFileContents {
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
export function requireSection(
  contents: ModelFileContents,
  name: string,
  dtype: SectionDtype,
  file: string,
): SectionArray {
  const section = Object.hasOwn(contents.sections, name) ? contents.sections[name] : undefined;
  if (section === undefined) {
    throw new InputError(
      `has no section "${name}" (it has: ${Object.keys(contents.sections).join(', ') || 'none'}); it was not written as a ${contents.kind} with this content: write it again with this lla`,
      file,
    );
  }
  if (dtypeOf(section) !== dtype) {
    throw new InputError(
      `section "${name}" holds ${dtypeOf(section)} values where ${dtype} is expected; write the file again with this lla`,
      file,
    );
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
    throw new InputError(
      `is not an lla model file (it does not start with "${MAGIC}"); give the path of a file written by \`lla train\``,
      file,
    );
  }
  if (source.size < PREFIX_BYTES) {
    throw new InputError(
      `is truncated: ${source.size} bytes, shorter than the ${PREFIX_BYTES}-byte start of every model file; the write was cut off: write it again or restore it from a backup`,
      file,
    );
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
    throw brokenFile(
      source,
      file,
      `the header length (${headerBytes} bytes) reaches past the end of the file`,
      headerEnd + TRAILER_BYTES,
    );
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
      source,
      file,
      source.size > declaredTotal
        ? `${source.size - declaredTotal} bytes follow the declared end of the file`
        : 'the file is shorter than its layout',
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
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return 'the header is JSON but not an object';
  const record = parsed as Record<string, unknown>;
  const { kind, llaVersion, sections, dataBytes } = record;
  if (typeof kind !== 'string' || !KINDS.includes(kind as ModelFileKind))
    return `the header's kind is ${JSON.stringify(kind)}, not "model" or "checkpoint"`;
  if (typeof llaVersion !== 'string') return 'the header has no llaVersion string';
  if (!Number.isSafeInteger(dataBytes) || (dataBytes as number) < 0)
    return `the header's dataBytes (${JSON.stringify(dataBytes)}) is not a byte count`;
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
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype))
      return `section "${name}" has unknown dtype ${JSON.stringify(dtype)}`;
    if (!Number.isSafeInteger(count) || (count as number) < 0)
      return `section "${name}" has an invalid element count ${JSON.stringify(count)}`;
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
    return new InputError(
      `is malformed: ${problem}, yet its checksum matches (it was written by a faulty program); write it again with this lla`,
      file,
    );
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
