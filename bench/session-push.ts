/**
 * The serving path's cost per action: a session (model.session()) pushed the first N held-out actions of a file,
 * for each model file given and each kernel backend, in microseconds per push.
 *
 *   npx tsx bench/session-push.ts <events file> <model.lla> [<model.lla> ...] [--actions N] [--seed S]
 *
 * The held-out split is the file's with --seed (default 1), as `lla train` makes it.
 */
import { LlaModel } from '../src/model/model.js';
import { prepareData } from '../src/train/data.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  args.splice(at, 2);
  return value;
};
const count = option('actions', 3000);
const seed = option('seed', 1);
const [file, ...models] = args;
if (file === undefined || models.length === 0) {
  console.error('usage: npx tsx bench/session-push.ts <events file> <model.lla> [...] [--actions N] [--seed S]');
  process.exit(2);
}

async function main(): Promise<void> {
  const data = await prepareData(file, { seed });
  const test = data.test!;
  const actions = Array.from(test.tokens.subarray(0, count), (id) => data.vocabulary.word(id));
  for (const backend of ['native', 'wasm'] as const) {
    for (const path of models) {
      const model = await LlaModel.load(path, { backend, warn: () => undefined });
      const session = model.session();
      const started = performance.now();
      for (const action of actions) session.push(action);
      const perPush = ((performance.now() - started) * 1000) / actions.length;
      console.log(`${backend}\t${path}\trepeats ${model.settings.repeats}\t${perPush.toFixed(1)} us/push`);
      model.dispose();
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
