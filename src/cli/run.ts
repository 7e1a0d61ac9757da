/** Process entry of the CLI: wires stdio, Ctrl-C and the exit code around main(). */
import { main } from './main.js';

const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts += 1;
  if (interrupts > 1) process.exit(130);
  process.stderr.write(
    '\nlla: interrupt received: stopping after the current step (a training iteration, or a ' +
      'chunk of sequences) and writing nothing partial; Ctrl-C again to quit at once\n',
  );
  controller.abort();
});
// A closed pipe (`lla ... | head`) is not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
});

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  interactive: Boolean(process.stderr.isTTY),
  env: process.env,
  signal: controller.signal,
});
process.exitCode = code;
