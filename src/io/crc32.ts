/**
 * CRC-32 (the zlib / PNG / gzip polynomial 0xEDB88320, reflected), used as the model file's checksum.
 * Node >= 20.15 ships zlib.crc32 (native, fast); older Node 20 releases lack it, so a table-driven version
 * computes the same values there. Both take the running value of an earlier call, so a file can be checked
 * piece by piece without holding it whole in memory.
 */
import * as zlib from 'node:zlib';

// crcTable: [256] the CRC of each byte value, for the byte-at-a-time update.
const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let value = byte;
    for (let bit = 0; bit < 8; bit++) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    table[byte] = value >>> 0;
  }
  return table;
})();

/** The portable CRC-32: same results as zlib.crc32(data, previous). */
export function crc32Portable(data: Uint8Array, previous = 0): number {
  let value = (previous ^ 0xffffffff) >>> 0;
  for (let index = 0; index < data.length; index++) {
    value = crcTable[(value ^ data[index]) & 0xff] ^ (value >>> 8);
  }
  return (value ^ 0xffffffff) >>> 0;
}

// Looked up as a property (not a named import) so that a Node without it loads this module and falls back.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, previous?: number) => number }).crc32;

/** CRC-32 of `data`, continuing from `previous` (the result of the call over the bytes before it; 0 to start). */
export const crc32: (data: Uint8Array, previous?: number) => number =
  typeof nativeCrc32 === 'function'
    ? // Node 20.20's zlib.crc32 returns 0, not `previous`, for an empty array over an empty ArrayBuffer.
      (data, previous = 0) => (data.length === 0 ? previous >>> 0 : nativeCrc32(data, previous) >>> 0)
    : crc32Portable;

/** Whether the fast native zlib.crc32 is in use (for tests and diagnostics). */
export const crc32IsNative = typeof nativeCrc32 === 'function';
