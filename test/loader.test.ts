// The kernel backend loader: every path with stand-in candidates (so the real build is untouched), then the
// real backends, asserting which one actually loaded.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKernel, resetFallbackWarning, resolveBackendChoice, validateBuildInfo } from '../src/kernels/loader.js';
import { BackendError, UsageError } from '../src/errors.js';
import { packageVersion } from '../src/package-info.js';
import type { BackendName, BuildInfo, Kernel } from '../src/kernels/types.js';

/** A kernel object that only answers buildInfo(): enough for the loader, which never samples. */
function fakeKernel(name: BackendName, overrides: Partial<BuildInfo> = {}): Kernel {
  const info: BuildInfo = {
    backend: name,
    version: packageVersion(),
    napiVersion: name === 'native' ? 8 : null,
    instructionSet: 'test',
    threads: true,
    maxThreads: 2,
    ...overrides,
  };
  return { name, buildInfo: () => info } as unknown as Kernel;
}
const broken = (reason: string) => () => {
  throw new Error(reason);
};

const choice = suite('loader: backend choice');
choice('--backend wins over LLA_BACKEND; default auto', () => {
  assert.is(resolveBackendChoice(undefined, {}), 'auto');
  assert.is(resolveBackendChoice(undefined, { LLA_BACKEND: 'wasm' }), 'wasm');
  assert.is(resolveBackendChoice('native', { LLA_BACKEND: 'wasm' }), 'native');
  assert.is(resolveBackendChoice(undefined, { LLA_BACKEND: ' NATIVE ' }), 'native');
});
choice('an unknown value is a usage error naming its source', () => {
  try {
    resolveBackendChoice(undefined, { LLA_BACKEND: 'gpu' });
    assert.unreachable('should throw');
  } catch (error) {
    assert.instance(error, UsageError);
    assert.is((error as UsageError).exitCode, 2);
    assert.match((error as Error).message, /LLA_BACKEND='gpu'/);
    assert.match((error as Error).message, /auto, native, wasm/);
  }
});
choice.run();

const paths = suite('loader: fallback and forced backends');
paths('auto takes native when it loads, without a warning', async () => {
  resetFallbackWarning();
  const warnings: string[] = [];
  const kernel = await loadKernel({
    env: {},
    warn: (m) => warnings.push(m),
    candidates: { native: () => fakeKernel('native'), wasm: () => fakeKernel('wasm') },
  });
  assert.is(kernel.name, 'native');
  assert.equal(warnings, []);
});
paths('auto falls back to wasm with exactly one warning per process', async () => {
  resetFallbackWarning();
  const warnings: string[] = [];
  const options = {
    env: {},
    warn: (m: string) => warnings.push(m),
    candidates: { native: broken('addon file missing'), wasm: () => fakeKernel('wasm') },
  };
  assert.is((await loadKernel(options)).name, 'wasm');
  assert.is((await loadKernel(options)).name, 'wasm');
  assert.is(warnings.length, 1);
  assert.match(warnings[0], /addon file missing/);
  assert.match(warnings[0], /LLA_BACKEND=wasm/);
});
paths('a forced backend never falls back and lists the attempt with its fix', async () => {
  let tried = 0;
  try {
    await loadKernel({
      env: { LLA_BACKEND: 'native' },
      candidates: {
        native: broken('addon file missing'),
        wasm: () => {
          tried++;
          return fakeKernel('wasm');
        },
      },
    });
    assert.unreachable('should throw');
  } catch (error) {
    assert.instance(error, BackendError);
    assert.is(tried, 0);
    assert.match((error as Error).message, /native kernel backend was requested \(LLA_BACKEND\)/);
    assert.match((error as Error).message, /addon file missing/);
    assert.match((error as Error).message, /npm run build:native/);
  }
});
paths('auto with nothing loadable lists every attempt', async () => {
  try {
    await loadKernel({ env: {}, candidates: { native: broken('no addon'), wasm: broken('no wasm file') } });
    assert.unreachable('should throw');
  } catch (error) {
    const message = (error as Error).message;
    assert.match(message, /no kernel backend could be loaded/);
    assert.match(message, /native backend failed to load: no addon/);
    assert.match(message, /wasm backend failed to load: no wasm file/);
  }
});
paths('a stale or inconsistent build is rejected through buildInfo', async () => {
  assert.throws(
    () => validateBuildInfo('native', fakeKernel('native', { version: '0.0.0-old' }), packageVersion()),
    /stale build/,
  );
  assert.throws(
    () => validateBuildInfo('native', fakeKernel('native', { napiVersion: 999 }), packageVersion()),
    /Node-API 999/,
  );
  assert.throws(() => validateBuildInfo('wasm', fakeKernel('native'), packageVersion()), /calls itself 'native'/);
  assert.throws(
    () => validateBuildInfo('native', fakeKernel('native', { maxThreads: 0 }), packageVersion()),
    /maxThreads/,
  );
  resetFallbackWarning();
  const warnings: string[] = [];
  const kernel = await loadKernel({
    env: {},
    warn: (m) => warnings.push(m),
    candidates: { native: () => fakeKernel('native', { version: '0.0.0-old' }), wasm: () => fakeKernel('wasm') },
  });
  assert.is(kernel.name, 'wasm');
  assert.match(warnings[0], /stale build/);
});
paths.run();

for (const backend of ['native', 'wasm'] as const) {
  const real = suite(`loader: the real ${backend} backend`);
  real(`${backend} loads when forced and reports itself`, async () => {
    const kernel = await loadKernel({ backend });
    assert.is(kernel.name, backend);
    const info = kernel.buildInfo();
    assert.is(info.backend, backend);
    assert.is(info.version, packageVersion());
    assert.ok(info.maxThreads >= 1);
    if (backend === 'native') assert.ok((info.napiVersion ?? 0) >= 8);
    else assert.is(info.napiVersion, null);
  });
  real(`${backend}: zero-copy checksum over a backend-allocated token array`, async () => {
    const kernel = await loadKernel({ backend });
    const values = kernel.allocInt32(100_003);
    let expected = 2166136261;
    for (let i = 0; i < values.length; i++) {
      values[i] = (i * 2654435761) % 50_000;
      expected = Math.imul((expected ^ values[i]) >>> 0, 16777619) >>> 0;
    }
    assert.is(kernel.checksum(values), expected);
    // the kernel reads the array in place: a change made through the same view shows up
    values[77] += 1;
    assert.is.not(kernel.checksum(values), expected);
  });
  real.run();
}
