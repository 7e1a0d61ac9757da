/**
 * Streams a text file (plain or gzip, detected by its magic bytes) line by line, never holding the file as one
 * string. Every defect of the bytes themselves becomes an InputError naming the file and 1-based line:
 * missing file, directory, NUL bytes (binary data), invalid UTF-8, a line longer than the cap, truncated or
 * corrupt gzip.
 *
 * A hand-written splitter over byte chunks is used instead of node:readline because readline buffers an
 * unterminated line without limit (a binary file or a gzip bomb without newlines would exhaust memory) and
 * decodes with replacement characters, which would hide invalid UTF-8.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { InputError, InterruptedError } from '../errors.js';

/** Default cap on one line: far above any real sequence, far below what would exhaust memory. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

export interface LineReaderOptions {
  /** lines longer than this many bytes are rejected (default 64 MiB) */
  maxLineBytes?: number;
  /** called after each chunk with the bytes read from the file (compressed bytes for .gz) and its size */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** stops reading between chunks with an InterruptedError */
  signal?: AbortSignal;
}

export interface LineReaderResult {
  /** lines read (the last line counts even without a trailing newline) */
  lines: number;
  /** size of the file on disk */
  fileBytes: number;
  /** decompressed bytes */
  textBytes: number;
  gzip: boolean;
}

const NEWLINE = 0x0a;
const GZIP_MAGIC = [0x1f, 0x8b];

function countNewlines(bytes: Buffer, end: number): number {
  let count = 0;
  let at = bytes.indexOf(NEWLINE);
  while (at !== -1 && at < end) {
    count += 1;
    at = bytes.indexOf(NEWLINE, at + 1);
  }
  return count;
}

async function openInput(path: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new InputError('no such file: check the path (relative paths start at the current directory)', path);
    if (code === 'EACCES' || code === 'EPERM') throw new InputError('permission denied: make the file readable', path);
    if (code === 'EISDIR') throw new InputError('is a directory, not a corpus file: name a file inside it', path);
    throw new InputError(`cannot open the file (${(error as Error).message})`, path);
  }
  const info = await handle.stat();
  if (info.isDirectory()) {
    await handle.close();
    throw new InputError('is a directory, not a corpus file: name a file inside it', path);
  }
  return { handle, size: info.size };
}

async function startsWithGzipMagic(handle: FileHandle): Promise<boolean> {
  const head = Buffer.alloc(2);
  try {
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new InputError('is a directory, not a corpus file: name a file inside it');
    throw error;
  }
}

/**
 * Calls `onLine` for every line (without its `\n` or `\r\n`), with its 1-based number. `onLine` may throw
 * (an InputError for a malformed line); reading stops and the file is closed.
 */
export async function forEachLine(
  path: string,
  onLine: (line: string, lineNumber: number) => void,
  options: LineReaderOptions = {},
): Promise<LineReaderResult> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const { handle, size } = await openInput(path);
  let gzip: boolean;
  try {
    gzip = await startsWithGzipMagic(handle);
  } catch (error) {
    await handle.close();
    if (error instanceof InputError) throw new InputError(error.message, path);
    throw new InputError(`cannot read the file (${(error as Error).message})`, path);
  }
  // fileStream owns the handle and closes it when it ends or is destroyed.
  const fileStream = handle.createReadStream({ start: 0, highWaterMark: 1 << 16 });
  let source: Readable = fileStream;
  if (gzip) {
    const gunzip = createGunzip();
    fileStream.on('error', (error) => gunzip.destroy(error));
    source = fileStream.pipe(gunzip);
  }

  let lineNumber = 0;
  let textBytes = 0;
  let atStart = true;
  // The unterminated tail of the previous chunks (no newline inside), and its length in bytes.
  let carry: Buffer[] = [];
  let carryBytes = 0;

  const tooLong = (line: number) =>
    new InputError(
      `line longer than ${formatBytes(maxLineBytes)}: no corpus line ` +
        'is that long, so this is probably not a text corpus (binary or wrongly compressed?); check the file, ' +
        'or split the sequence across lines',
      path,
      line,
    );

  /** Decodes and emits the complete lines of `block`, which ends with a newline unless it is the file's end. */
  const emitBlock = (block: Buffer) => {
    const firstLine = lineNumber + 1;
    if (block.length > maxLineBytes) {
      // Only a block larger than the cap can hold a line longer than the cap.
      let start = 0;
      let line = firstLine;
      while (start < block.length) {
        let end = block.indexOf(NEWLINE, start);
        if (end === -1) end = block.length;
        if (end - start > maxLineBytes) throw tooLong(line);
        start = end + 1;
        line += 1;
      }
    }
    if (!isUtf8(block)) {
      let start = 0;
      let line = firstLine;
      for (;;) {
        let end = block.indexOf(NEWLINE, start);
        if (end === -1) end = block.length;
        const piece = block.subarray(start, end);
        if (!isUtf8(piece)) {
          throw new InputError(
            `invalid UTF-8 (byte ${validPrefixLength(piece) + 1} of the line): lla reads ` +
              'UTF-8 text; convert the file, e.g. iconv -f latin1 -t utf-8',
            path,
            line,
          );
        }
        if (end >= block.length) break;
        start = end + 1;
        line += 1;
      }
    }
    const text = block.toString('utf8');
    const lines = text.split('\n');
    // A block ending with a newline leaves one empty string after the last separator.
    const count = text.endsWith('\n') ? lines.length - 1 : lines.length;
    for (let index = 0; index < count; index += 1) {
      let line = lines[index];
      if (line.endsWith('\r')) line = line.slice(0, -1);
      lineNumber += 1;
      onLine(line, lineNumber);
    }
  };

  try {
    for await (const raw of source) {
      if (options.signal?.aborted) throw new InterruptedError('interrupted while reading the input');
      let chunk = raw as Buffer;
      textBytes += chunk.length;
      if (atStart) {
        atStart = false;
        if (
          chunk.length >= 2 &&
          ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))
        ) {
          throw new InputError(
            'the file is UTF-16 (byte-order mark): lla reads UTF-8 text; convert it, ' +
              'e.g. iconv -f utf-16 -t utf-8',
            path,
            1,
          );
        }
        // A UTF-8 byte-order mark is not part of the first token.
        if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
      }
      const zero = chunk.indexOf(0);
      if (zero !== -1) {
        throw new InputError(
          'binary data (a NUL byte): lla reads UTF-8 text, one sequence or event per line; ' +
            'is this the right file?',
          path,
          lineNumber + 1 + countNewlines(chunk, zero),
        );
      }
      const lastNewline = chunk.lastIndexOf(NEWLINE);
      if (lastNewline === -1) {
        carry.push(chunk);
        carryBytes += chunk.length;
        if (carryBytes > maxLineBytes) throw tooLong(lineNumber + 1);
        continue;
      }
      const head = chunk.subarray(0, lastNewline + 1);
      if (carryBytes + chunk.indexOf(NEWLINE) > maxLineBytes) throw tooLong(lineNumber + 1);
      emitBlock(carry.length === 0 ? head : Buffer.concat([...carry, head]));
      const tail = chunk.subarray(lastNewline + 1);
      carry = tail.length > 0 ? [tail] : [];
      carryBytes = tail.length;
      options.onProgress?.(fileStream.bytesRead, size);
    }
    if (carryBytes > 0) emitBlock(Buffer.concat(carry));
    options.onProgress?.(size, size);
  } catch (error) {
    if (error instanceof InputError || error instanceof InterruptedError) throw error;
    const zlibCode = (error as NodeJS.ErrnoException).code;
    if (zlibCode === 'Z_BUF_ERROR') {
      throw new InputError(
        'the gzip data ends early (a truncated download or copy?): fetch or compress the ' + 'file again',
        path,
        lineNumber + 1,
      );
    }
    if (typeof zlibCode === 'string' && zlibCode.startsWith('Z_')) {
      throw new InputError(
        `corrupt gzip data (${(error as Error).message}): fetch or compress the file again`,
        path,
        lineNumber + 1,
      );
    }
    if (zlibCode === 'EISDIR') throw new InputError('is a directory, not a corpus file: name a file inside it', path);
    throw new InputError(`cannot read the file (${(error as Error).message})`, path, lineNumber + 1);
  } finally {
    source.destroy();
    fileStream.destroy();
  }
  return { lines: lineNumber, fileBytes: size, textBytes, gzip };
}

/** Length of the longest prefix of `bytes` that is valid UTF-8 up to a character boundary. */
function validPrefixLength(bytes: Buffer): number {
  // Step character by character: a prefix may end mid-character, so isUtf8 of prefixes cannot be bisected.
  let at = 0;
  while (at < bytes.length) {
    const lead = bytes[at];
    const width =
      lead < 0x80
        ? 1
        : lead >= 0xc2 && lead <= 0xdf
          ? 2
          : lead >= 0xe0 && lead <= 0xef
            ? 3
            : lead >= 0xf0 && lead <= 0xf4
              ? 4
              : 0;
    if (width === 0 || at + width > bytes.length || !isUtf8(bytes.subarray(at, at + width))) return at;
    at += width;
  }
  return at;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
