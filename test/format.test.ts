// The versioned model file / checkpoint container, its CRC-32, the atomic writer and the checkpoint helpers:
// bit-exact round trips, every damage case (with the reason and the file named), atomicity under failure, and
// the committed format-1 fixtures that must keep loading.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../src/errors.js';
import { crc32, crc32IsNative, crc32Portable } from '../src/io/crc32.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { CURRENT_FORMAT_VERSION, type ModelFileInput, type SectionArray } from '../src/io/format.js';
import { decodeModelFile, readModelFile, requireSection } from '../src/io/format-read.js';
import { encodeModelFile, writeModelFile } from '../src/io/format-write.js';
import { checkpointPath, readCheckpoint, removeCheckpoint, writeCheckpoint } from '../src/train/checkpoint.js';
import { packageVersion } from '../src/package-info.js';
import { awkwardFloat32, awkwardFloat64, fixtureCheckpoint, fixtureModel } from './fixtures/models/fixture-content.js';
import { mulberry32Uint32 } from './helpers/mulberry32.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models');

let scratchRoot = '';
function freshFolder(): string {
  if (scratchRoot === '') scratchRoot = mkdtempSync(join(tmpdir(), 'lla-format-test-'));
  return mkdtempSync(join(scratchRoot, 'case-'));
}

function randomBits(bytes: number, seed: number): Uint8Array {
  const next = mulberry32Uint32(seed);
  const out = new Uint8Array(bytes);
  for (let index = 0; index < bytes; index++) out[index] = next() & 0xff;
  return out;
}

const bytesOf = (array: SectionArray) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
const concat = (chunks: Uint8Array[]) => new Uint8Array(Buffer.concat(chunks));

/** Checks that `action` throws an InputError whose message names `file` and matches `reason`. */
function expectInputError(action: () => unknown, file: string, reason: RegExp): InputError {
  try {
    action();
  } catch (error) {
    if (!(error instanceof InputError)) throw new Error(`expected an InputError, got ${String(error)}`);
    assert.is(error.file, file, 'the error names the file');
    assert.ok(error.message.includes(file), `message names the file: ${error.message}`);
    assert.match(error.message, reason);
    assert.is(error.exitCode, 2);
    return error;
  }
  assert.unreachable(`expected an InputError matching ${reason}`);
  throw new Error('unreachable');
}

/** Recomputes the trailer (length + CRC-32) of a file edited in place: a consistent but malformed file. */
function reseal(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setBigUint64(bytes.length - 12, BigInt(bytes.length), true);
  view.setUint32(bytes.length - 4, crc32Portable(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

/**
 * Builds a format-1 file from a raw header object and data region, following docs/model-format.md alone (an
 * encoder independent of the one under test), so that malformed headers can be made with a valid checksum.
 */
function assembleVersion1(header: unknown, data: Uint8Array, version = 1, flags = 0): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const dataStart = Math.ceil((20 + json.length) / 8) * 8;
  const total = dataStart + data.length + 12;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(Buffer.from('LLAMODEL', 'latin1'), 0);
  view.setUint32(8, version, true);
  view.setUint32(12, flags, true);
  view.setUint32(16, json.length, true);
  out.set(json, 20);
  out.set(data, dataStart);
  return reseal(out);
}

function headerOf(bytes: Uint8Array): Record<string, unknown> {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(16, true);
  return JSON.parse(Buffer.from(bytes.subarray(20, 20 + length)).toString('utf8')) as Record<string, unknown>;
}

function allDtypesInput(seed: number): ModelFileInput {
  // Random bit patterns cover every exponent (subnormals, NaNs with payloads, infinities) of both float widths.
  const float64 = new Float64Array(randomBits(8 * 257, seed).buffer);
  float64.set(awkwardFloat64, 0);
  const float32 = new Float32Array(randomBits(4 * 301, seed + 1).buffer);
  float32.set(awkwardFloat32, 0);
  return {
    kind: 'model',
    header: { config: { topics: 4 }, note: 'round trip' },
    sections: {
      int32: new Int32Array(randomBits(4 * 123, seed + 2).buffer),
      float32,
      bytes: randomBits(13, seed + 3), // odd length: the next section must still start 8-aligned
      float64,
      empty: new Int32Array(0),
      // a view into the middle of a larger buffer: only the viewed elements are written
      slice: new Float32Array(new Float32Array([9, 8, 7, 6, 5]).buffer, 4, 3),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
const checksum = suite('format: CRC-32');

checksum('known check value and agreement of the native and portable versions, piece by piece', () => {
  const check = Buffer.from('123456789', 'latin1');
  assert.is(crc32Portable(check), 0xcbf43926);
  assert.is(crc32(check), 0xcbf43926);
  const data = randomBits(10007, 5);
  const whole = crc32Portable(data);
  assert.is(crc32(data), whole);
  assert.is(crc32Portable(data.subarray(4000), crc32Portable(data.subarray(0, 4000))), whole);
  assert.is(crc32(data.subarray(4000), crc32(data.subarray(0, 4000))), whole);
  assert.is(crc32Portable(new Uint8Array(0)), 0);
  // Empty input continues the running value (Node 20.20's zlib.crc32 alone returns 0 for this one).
  assert.is(crc32(new Uint8Array(new ArrayBuffer(0)), 123), 123);
  assert.is(crc32Portable(new Uint8Array(new ArrayBuffer(0)), 123), 123);
  // Node 20.20 has zlib.crc32; the portable version is what older Node 20 releases use.
  assert.type(crc32IsNative, 'boolean');
});

checksum.run();

// ---------------------------------------------------------------------------------------------------------
const roundTrip = suite('format: round trip');

roundTrip('every dtype comes back bit-exact, in its own aligned buffer, in the caller order', () => {
  const folder = freshFolder();
  const path = join(folder, 'all.lla');
  const input = allDtypesInput(11);
  writeModelFile(path, input);
  const loaded = readModelFile(path, { expectKind: 'model' });
  assert.is(loaded.formatVersion, CURRENT_FORMAT_VERSION);
  assert.is(loaded.kind, 'model');
  assert.is(loaded.llaVersion, packageVersion());
  assert.equal(loaded.header, input.header);
  assert.equal(Object.keys(loaded.sections), Object.keys(input.sections));
  for (const [name, original] of Object.entries(input.sections)) {
    const back = loaded.sections[name];
    assert.is(back.constructor, original.constructor, `${name}: same array type`);
    assert.is(back.length, original.length, `${name}: same length`);
    assert.equal(bytesOf(back), bytesOf(original), `${name}: same bits`);
    assert.is(back.byteOffset, 0, `${name}: own buffer`);
    assert.is(back.buffer.byteLength, back.byteLength, `${name}: buffer holds exactly the section`);
  }
  // -0 and subnormals explicitly (Object.is tells -0 from 0).
  const float64 = loaded.sections.float64 as Float64Array;
  assert.ok(Object.is(float64[1], -0));
  assert.is(float64[2], 5e-324);
  const float32 = loaded.sections.float32 as Float32Array;
  assert.ok(Object.is(float32[1], -0));
  assert.is(float32[2], Math.fround(1e-45));
  assert.equal([...(loaded.sections.slice as Float32Array)], [8, 7, 6]);
  assert.equal(readdirSync(folder), ['all.lla'], 'no temporary file left');
});

roundTrip('sections are 8-aligned in the file and the trailer holds the length and CRC-32', () => {
  const bytes = concat(encodeModelFile(allDtypesInput(12)));
  const header = headerOf(bytes);
  const table = header.sections as { name: string; offset: number; count: number }[];
  assert.is(table.length, 6);
  for (const entry of table) assert.is(entry.offset % 8, 0, `${entry.name} offset ${entry.offset}`);
  const dataStart = Math.ceil((20 + new DataView(bytes.buffer).getUint32(16, true)) / 8) * 8;
  assert.is(bytes.length, dataStart + (header.dataBytes as number) + 12);
  const view = new DataView(bytes.buffer);
  assert.is(view.getBigUint64(bytes.length - 12, true), BigInt(bytes.length));
  assert.is(view.getUint32(bytes.length - 4, true), crc32Portable(bytes.subarray(0, bytes.length - 4)));
  // Little-endian on disk: the int32 section's first element read from the raw bytes.
  const int32 = allDtypesInput(12).sections.int32 as Int32Array;
  assert.is(view.getInt32(dataStart + table[0].offset, true), int32[0]);
});

roundTrip('unicode vocabulary and nested header fields survive; memory decoding agrees with file reading', () => {
  const input: ModelFileInput = {
    kind: 'checkpoint',
    header: {
      vocabulary: ['naïve', 'Ünïcödé', '中文', 'emoji 🎉🚀', 'quote " and \\ backslash', 'new\nline', '', '\u0000nul'],
      history: [{ iteration: 3, perplexity: 99.5, seconds: 1e-9 }],
      nested: { deep: { list: [1, [2, [3]]], flag: true, none: null } },
    },
    sections: { counts: new Int32Array([1, 2, 3]) },
  };
  // An own "__proto__" key (as JSON.parse makes it), which the reader must keep as data.
  Object.defineProperty(input.header, '__proto__', { value: { polluted: true }, enumerable: true });
  const bytes = concat(encodeModelFile(input));
  const decoded = decodeModelFile(bytes, 'memory.lla', { expectKind: 'checkpoint' });
  assert.equal(decoded.header.vocabulary, input.header.vocabulary);
  assert.equal(decoded.header.history, input.header.history);
  assert.equal(decoded.header.nested, input.header.nested);
  // A "__proto__" key stays plain data; it never becomes the object's prototype.
  assert.is(Object.getPrototypeOf(decoded.header), Object.prototype);
  assert.is((decoded.header as { polluted?: unknown }).polluted, undefined);
  assert.equal(Object.getOwnPropertyDescriptor(decoded.header, '__proto__')?.value, { polluted: true });
  const path = join(freshFolder(), 'unicode.lla');
  writeFileSync(path, bytes);
  assert.equal(readModelFile(path).header, decoded.header);
});

roundTrip('encoding rejects what it cannot store faithfully, naming it', () => {
  const base = { kind: 'model' as const, sections: {} };
  assert.throws(() => encodeModelFile({ ...base, header: { sections: 1 } }), /"sections" is reserved/);
  assert.throws(() => encodeModelFile({ ...base, header: { kind: 'x' } }), /"kind" is reserved/);
  assert.throws(
    () => encodeModelFile({ ...base, header: { history: [{ perplexity: NaN }] } }),
    /header\.history\[0\]\.perplexity \(NaN\)/,
  );
  assert.throws(() => encodeModelFile({ ...base, header: { limit: Infinity } }), /header\.limit \(Infinity\)/);
  assert.throws(
    () => encodeModelFile({ ...base, header: {}, sections: { wide: new Uint16Array(3) as unknown as Uint8Array } }),
    /section "wide" is a Uint16Array/,
  );
  assert.throws(() => encodeModelFile({ kind: 'weights' as 'model', header: {}, sections: {} }), /kind must be/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => encodeModelFile({ ...base, header: cyclic }), /cannot be written as JSON/);
});

roundTrip('requireSection returns a typed section or names what is missing', () => {
  const contents = decodeModelFile(concat(encodeModelFile(allDtypesInput(13))), 'm.lla');
  assert.instance(requireSection(contents, 'float64', 'float64', 'm.lla'), Float64Array);
  expectInputError(() => requireSection(contents, 'absent', 'int32', 'm.lla'), 'm.lla', /no section "absent"/);
  expectInputError(
    () => requireSection(contents, 'int32', 'float32', 'm.lla'),
    'm.lla',
    /holds int32 values where float32/,
  );
});

roundTrip.run();

// ---------------------------------------------------------------------------------------------------------
const damage = suite('format: damaged, truncated, foreign and newer files');

function writtenModel(): { folder: string; path: string; bytes: Uint8Array } {
  const folder = freshFolder();
  const path = join(folder, 'model.lla');
  writeModelFile(path, allDtypesInput(21));
  return { folder, path, bytes: new Uint8Array(readFileSync(path)) };
}

damage('a flipped byte in the sections or the header: checksum mismatch', () => {
  const { path, bytes } = writtenModel();
  for (const at of [Math.floor(bytes.length / 2), bytes.length - 20, 40, bytes.length - 3]) {
    const copy = bytes.slice();
    copy[at] ^= 0x10;
    writeFileSync(path, copy);
    expectInputError(() => readModelFile(path), path, /is damaged: its checksum does not match/);
  }
  // A flip that breaks the header's JSON is still reported as damage, not as a writer bug.
  const copy = bytes.slice();
  copy[20] = 0x78; // '{' → 'x'
  writeFileSync(path, copy);
  expectInputError(() => readModelFile(path), path, /is damaged/);
  // So is a corrupted header length.
  const longHeader = bytes.slice();
  new DataView(longHeader.buffer).setUint32(16, 0x7fffffff, true);
  writeFileSync(path, longHeader);
  expectInputError(() => readModelFile(path), path, /is damaged/);
});

damage('a file cut short anywhere: truncated', () => {
  const { path, bytes } = writtenModel();
  for (const length of [bytes.length - 1, bytes.length - 12, Math.floor(bytes.length / 2), 200, 30, 19, 5, 0]) {
    writeFileSync(path, bytes.subarray(0, length));
    expectInputError(() => readModelFile(path), path, /is truncated/);
  }
});

damage('bytes appended after the end: damaged', () => {
  const { path, bytes } = writtenModel();
  writeFileSync(path, concat([bytes, new Uint8Array(16)]));
  expectInputError(() => readModelFile(path), path, /is damaged/);
});

damage('a newer format version: names both versions and says to upgrade', () => {
  const { path, bytes } = writtenModel();
  const newer = bytes.slice();
  new DataView(newer.buffer).setUint32(8, 2, true);
  writeFileSync(path, newer);
  const error = expectInputError(() => readModelFile(path), path, /was written by lla \S+ with model format 2/);
  assert.match(error.message, `this lla (${packageVersion()}) reads formats up to 1: upgrade lla`);
  // Even when the newer header is unreadable the version numbers are still reported.
  new DataView(newer.buffer).setUint32(16, 0x7fffffff, true);
  writeFileSync(path, newer);
  expectInputError(() => readModelFile(path), path, /written by a newer lla with model format 2; .*upgrade lla/);
  // Version 0 was never written: damage.
  const zero = bytes.slice();
  new DataView(zero.buffer).setUint32(8, 0, true);
  writeFileSync(path, zero);
  expectInputError(() => readModelFile(path), path, /is damaged/);
});

damage('wrong magic: not an lla model file', () => {
  const { path, bytes } = writtenModel();
  const other = bytes.slice();
  other[7] = 0x58; // LLAMODEX
  writeFileSync(path, other);
  expectInputError(() => readModelFile(path), path, /is not an lla model file \(it does not start with "LLAMODEL"\)/);
  writeFileSync(path, 'user\ttime\taction\nalice\t1\tpush\n');
  expectInputError(() => readModelFile(path), path, /is not an lla model file/);
  writeFileSync(path, 'XY');
  expectInputError(() => readModelFile(path), path, /is not an lla model file/);
});

damage('consistent files with a malformed header: each problem named', () => {
  const path = join(freshFolder(), 'malformed.lla');
  const data = new Uint8Array(24);
  const good = {
    kind: 'model',
    llaVersion: '0.0.1',
    sections: [
      { name: 'a', dtype: 'int32', count: 2, offset: 0 },
      { name: 'b', dtype: 'float64', count: 2, offset: 8 },
    ],
    dataBytes: 24,
  };
  // The independent assembler agrees with the reader on a good file.
  writeFileSync(path, assembleVersion1(good, data));
  const loaded = readModelFile(path);
  assert.equal(Object.keys(loaded.sections), ['a', 'b']);
  assert.is(loaded.llaVersion, '0.0.1');

  const cases: [unknown, RegExp][] = [
    [
      { ...good, sections: [{ name: 'a', dtype: 'int32', count: 7, offset: 0 }] },
      /section "a" is out of bounds: it ends at byte 28 of a 24-byte data region/,
    ],
    [
      { ...good, sections: [{ name: 'a', dtype: 'int32', count: 1, offset: 4 }] },
      /section "a" has an invalid offset 4/,
    ],
    [
      {
        ...good,
        sections: [
          { name: 'a', dtype: 'int32', count: 4, offset: 0 },
          { name: 'b', dtype: 'uint8', count: 1, offset: 8 },
        ],
      },
      /sections "a" and "b" overlap/,
    ],
    [{ ...good, sections: [{ name: 'a', dtype: 'int64', count: 1, offset: 0 }] }, /unknown dtype "int64"/],
    [
      {
        ...good,
        sections: [
          { name: 'a', dtype: 'int32', count: 1, offset: 0 },
          { name: 'a', dtype: 'int32', count: 1, offset: 8 },
        ],
      },
      /section "a" appears twice/,
    ],
    [{ ...good, sections: [{ name: 'a', dtype: 'int32', count: -1, offset: 0 }] }, /invalid element count -1/],
    [{ ...good, kind: 'weights' }, /kind is "weights"/],
    [{ ...good, dataBytes: 16 }, /out of bounds/],
    [{ ...good, dataBytes: 32 }, /is malformed: the file is shorter than its layout/],
    [{ ...good, sections: undefined }, /no section table/],
    [[1, 2], /JSON but not an object/],
  ];
  for (const [header, reason] of cases) {
    writeFileSync(path, assembleVersion1(header, data));
    expectInputError(() => readModelFile(path), path, /is malformed: /);
    expectInputError(() => readModelFile(path), path, reason);
  }
  // Header bytes that are not JSON, with a valid checksum.
  const notJson = assembleVersion1(good, data);
  notJson[20] = 0x78;
  writeFileSync(path, reseal(notJson));
  expectInputError(() => readModelFile(path), path, /is malformed: the header is not valid UTF-8 JSON/);
  // Unknown flags in format 1.
  writeFileSync(path, assembleVersion1(good, data, 1, 4));
  expectInputError(() => readModelFile(path), path, /flags 0x4 are set/);
});

damage('wrong kind, missing file, folder', () => {
  const folder = freshFolder();
  const model = join(folder, 'model.lla');
  const checkpoint = join(folder, 'run.lla.ckpt');
  writeModelFile(model, fixtureModel());
  writeModelFile(checkpoint, fixtureCheckpoint());
  expectInputError(
    () => readModelFile(checkpoint, { expectKind: 'model' }),
    checkpoint,
    /is a training checkpoint, not a model/,
  );
  expectInputError(
    () => readModelFile(model, { expectKind: 'checkpoint' }),
    model,
    /is a model file, not a training checkpoint/,
  );
  assert.is(readModelFile(checkpoint).kind, 'checkpoint', 'without expectKind either kind loads');
  const missing = join(folder, 'absent.lla');
  expectInputError(() => readModelFile(missing), missing, /no such file; check the path/);
  expectInputError(() => readModelFile(folder), folder, /is a folder, not a model file/);
});

damage.run();

// ---------------------------------------------------------------------------------------------------------
const atomic = suite('format: atomic writes');

const temporaries = (folder: string) => readdirSync(folder).filter((name) => name.endsWith('.tmp'));

atomic('writes strings and bytes in order and leaves no temporary file', () => {
  const folder = freshFolder();
  const path = join(folder, 'out.txt');
  writeFileAtomic(path, ['héllo ', new Uint8Array([0x77, 0x6f]), 'rld']);
  assert.is(readFileSync(path, 'utf8'), 'héllo world');
  writeFileAtomic(path, ['replaced']);
  assert.is(readFileSync(path, 'utf8'), 'replaced');
  assert.equal(readdirSync(folder), ['out.txt']);
});

atomic('a failure half-way through the chunks keeps the previous file and removes the temporary one', () => {
  const folder = freshFolder();
  const path = join(folder, 'model.lla');
  writeModelFile(path, fixtureModel());
  const before = readFileSync(path);
  let produced = 0;
  function* failing(): Generator<Uint8Array> {
    for (const chunk of encodeModelFile(allDtypesInput(31))) {
      yield chunk;
      produced++;
      if (produced === 3) throw new Error('producer failed');
    }
  }
  assert.throws(() => writeFileAtomic(path, failing()), /producer failed/);
  assert.is(produced, 3, 'the failure came after some chunks were written');
  assert.equal(readFileSync(path), before);
  assert.equal(temporaries(folder), []);
  assert.equal(readdirSync(folder), ['model.lla']);
});

atomic('a section getter that throws leaves the previous model intact', () => {
  const folder = freshFolder();
  const path = join(folder, 'model.lla');
  writeModelFile(path, fixtureModel());
  const before = readFileSync(path);
  const sections = {} as Record<string, SectionArray>;
  Object.defineProperty(sections, 'broken', {
    enumerable: true,
    get: () => {
      throw new Error('section unavailable');
    },
  });
  assert.throws(() => writeModelFile(path, { kind: 'model', header: {}, sections }), /section unavailable/);
  assert.equal(readFileSync(path), before);
  assert.equal(temporaries(folder), []);
});

atomic('a missing folder, a folder as target, no permission: InputError naming the path and the fix', () => {
  const folder = freshFolder();
  const nowhere = join(folder, 'no', 'such', 'model.lla');
  expectInputError(
    () => writeFileAtomic(nowhere, ['x']),
    nowhere,
    /folder .*no[/\\]such does not exist; create it first \(mkdir -p/,
  );
  const asFolder = join(folder, 'sub');
  mkdirSync(asFolder);
  expectInputError(() => writeFileAtomic(asFolder, ['x']), asFolder, /this path is a folder/);
  assert.equal(readdirSync(folder), ['sub']);
  const underFile = join(folder, 'file.txt');
  writeFileSync(underFile, 'x');
  const throughFile = join(underFile, 'model.lla');
  expectInputError(() => writeFileAtomic(throughFile, ['x']), throughFile, /is not a folder/);
});

atomic('a read-only folder: permission error, previous file intact, no temporary file', () => {
  if (process.getuid?.() === 0) {
    // root ignores folder permissions; /sys refuses new files even to root on Linux.
    if (process.platform !== 'linux') {
      console.log('  (skipped: running as root off Linux, no read-only folder to write into)');
      return;
    }
    const path = '/sys/lla-format-test.lla';
    expectInputError(
      () => writeFileAtomic(path, ['x']),
      path,
      /no permission to create files in \/sys; choose a folder you can write to/,
    );
    return;
  }
  const folder = freshFolder();
  const path = join(folder, 'model.lla');
  writeModelFile(path, fixtureModel());
  const before = readFileSync(path);
  chmodSync(folder, 0o555);
  try {
    expectInputError(() => writeModelFile(path, allDtypesInput(41)), path, /no permission to create files in/);
  } finally {
    chmodSync(folder, 0o755);
  }
  assert.equal(readFileSync(path), before);
  assert.equal(temporaries(folder), []);
});

atomic('replacing a file keeps its permission bits', () => {
  if (process.platform === 'win32') return;
  const path = join(freshFolder(), 'model.lla');
  writeModelFile(path, fixtureModel());
  chmodSync(path, 0o640);
  writeModelFile(path, fixtureModel());
  assert.is(statSync(path).mode & 0o777, 0o640);
});

atomic.run();

// ---------------------------------------------------------------------------------------------------------
const checkpoints = suite('format: checkpoints');

checkpoints('path, absent, round trip, wrong kind, damage, removal', () => {
  const out = join(freshFolder(), 'run.lla');
  assert.is(checkpointPath(out), `${out}.ckpt`);
  assert.is(readCheckpoint(out), null, 'no checkpoint yet');
  const input = fixtureCheckpoint();
  writeCheckpoint(out, { header: input.header, sections: input.sections });
  const loaded = readCheckpoint(out);
  assert.ok(loaded);
  assert.is(loaded.kind, 'checkpoint');
  assert.equal(loaded.header, input.header);
  assert.equal(bytesOf(loaded.sections.assignments), bytesOf(input.sections.assignments));
  // Rewriting replaces it atomically.
  writeCheckpoint(out, { header: { ...input.header, iteration: 8 }, sections: input.sections });
  assert.is(readCheckpoint(out)?.header.iteration, 8);
  assert.equal(temporaries(dirname(out)), []);
  // Damage: clear error naming the checkpoint file.
  const bytes = readFileSync(checkpointPath(out));
  bytes[bytes.length - 30] ^= 1;
  writeFileSync(checkpointPath(out), bytes);
  expectInputError(() => readCheckpoint(out), checkpointPath(out), /is damaged/);
  // A model file sitting where the checkpoint should be.
  writeModelFile(checkpointPath(out), fixtureModel());
  expectInputError(() => readCheckpoint(out), checkpointPath(out), /is a model file, not a training checkpoint/);
  removeCheckpoint(out);
  assert.is(readCheckpoint(out), null);
  removeCheckpoint(out); // removing twice is fine
});

checkpoints.run();

// ---------------------------------------------------------------------------------------------------------
const history = suite('format: files written by earlier versions keep loading');

history('the committed format-1 model fixture loads with its content', () => {
  const path = join(fixtures, 'v1-model.lla');
  assert.ok(statSync(path).size < 50 * 1024, 'fixture stays small');
  const loaded = readModelFile(path, { expectKind: 'model' });
  assert.is(loaded.formatVersion, 1);
  assert.is(loaded.kind, 'model');
  assert.is(loaded.llaVersion, '0.1.0');
  const expected = fixtureModel();
  assert.equal(loaded.header, expected.header);
  assert.equal(Object.keys(loaded.sections), Object.keys(expected.sections));
  for (const [name, array] of Object.entries(expected.sections)) {
    assert.is(loaded.sections[name].constructor, array.constructor, name);
    assert.equal(bytesOf(loaded.sections[name]), bytesOf(array), name);
  }
  // A few values written out literally, independent of fixture-content.ts.
  assert.equal((loaded.header.vocabulary as string[]).slice(2, 5), ['café', '日本語の操作', '🚀 deploy']);
  assert.equal([...(loaded.sections.extremes as Int32Array)], [-2147483648, 2147483647, -1, 0]);
  assert.equal([...(loaded.sections.flags as Uint8Array)], [0, 1, 127, 128, 255]);
  const awkward = loaded.sections.awkward as Float64Array;
  assert.ok(Object.is(awkward[1], -0));
  assert.is(awkward[2], 5e-324);
  assert.is(awkward[5], -Infinity);
  assert.is((loaded.sections.lstmWeights as Float32Array)[0], Math.fround(Math.sin(1)));
  assert.is(loaded.sections.empty.length, 0);
});

history('the committed format-1 checkpoint fixture loads with its content', () => {
  const out = join(fixtures, 'v1-checkpoint.lla');
  const loaded = readModelFile(out, { expectKind: 'checkpoint' });
  assert.is(loaded.formatVersion, 1);
  assert.equal(loaded.header, { iteration: 7, rngState: [1, 2, 3, 4], config: { topics: 3 } });
  assert.equal([...(loaded.sections.assignments as Int32Array)].slice(0, 6), [0, 1, 2, 0, 1, 2]);
  assert.equal([...(loaded.sections.logLikelihood as Float64Array)], [-1234.5, -1200.25]);
});

history.after(() => {
  if (scratchRoot !== '') rmSync(scratchRoot, { recursive: true, force: true });
});

history.run();
