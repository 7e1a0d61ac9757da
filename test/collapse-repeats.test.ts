// bench/collapse-repeats.ts, which the lookahead study (bench/RESULTS.md) trains on: a row is dropped only when it
// repeats the same user's previous action in time order (ties in file order), users interleaved in the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { collapseRepeats } from '../bench/collapse-repeats.js';

test('drops each user’s immediate repeats in time order, keeps the header and the file order', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'lla-collapse-'));
  try {
    const rows = [
      'user\ttime\taction',
      'a\t10\tx',
      'b\t10\tx', // another user's x does not make a's next x a repeat
      'a\t30\tx', // a: x (10), y (20), x (30): not a repeat of y, which comes before it in time
      'a\t20\ty',
      'b\t11\tx', // b's repeat
      'a\t30\tz', // same time as a's x at 30: after it in file order
      'a\t40\tz', // repeat of z
      'b\t12\ty',
    ];
    const input = join(folder, 'in.tsv.gz');
    const output = join(folder, 'out.tsv.gz');
    writeFileSync(input, gzipSync(rows.join('\n') + '\n'));
    const summary = await collapseRepeats(input, output);
    const written = gunzipSync(readFileSync(output)).toString('utf8').trimEnd().split('\n');
    assert.equal(written, [rows[0], rows[1], rows[2], rows[3], rows[4], rows[6], rows[8]]);
    assert.equal(summary, { events: 8, kept: 6, users: 2 });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test.run();
