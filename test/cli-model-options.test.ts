// The backend flags every model command shares (src/cli/model-options.ts): a bad value is a usage error that
// names the command that ran.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCommandArgs } from '../src/cli/options.js';
import { BACKEND_OPTIONS, backendFrom } from '../src/cli/model-options.js';

const COMMANDS_WITH_BACKENDS = ['train', 'eval', 'infer', 'predict', 'topics', 'export', 'report'];

function failure(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

test('a bad --tf-backend names the command that ran, whichever it is', () => {
  for (const command of COMMANDS_WITH_BACKENDS) {
    const args = parseCommandArgs(command, ['--tf-backend', 'gpu'], BACKEND_OPTIONS);
    const error = failure(() => backendFrom(command, args, {}));
    assert.is(error.name, 'UsageError');
    assert.match(
      error.message,
      new RegExp(`^lla ${command}: --tf-backend="gpu" is not a TensorFlow.js backend`),
      error.message,
    );
  }
});

test('--tf-backend without a value names the command too', () => {
  const error = failure(() => backendFrom('predict', { values: { 'tf-backend': true }, positionals: [] }, {}));
  assert.is(error.message, 'lla predict: --tf-backend takes a value');
});

test('a good --tf-backend is read as given', () => {
  const args = parseCommandArgs('eval', ['--tf-backend', 'cpu', '--threads', '2'], BACKEND_OPTIONS);
  assert.equal(backendFrom('eval', args, {}), { backend: 'auto', tfBackend: 'cpu', threads: 2 });
});

test.run();
