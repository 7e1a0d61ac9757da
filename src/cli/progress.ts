/** Progress output on stderr: a bar (cli-progress) on a terminal, nothing otherwise. */
import cliProgress from 'cli-progress';
import type { CommandIO } from './command.js';

export interface Progress {
  update(done: number, detail: string): void;
  /** the work grew (or shrank) while running */
  setTotal(total: number): void;
  stop(): void;
}

/** cli-progress draws a clean single-line bar with ETA and redraw throttling: no need to write our own. */
export function progressBar(io: CommandIO, total: number, label: string): Progress {
  if (!io.interactive) return { update: () => undefined, setTotal: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: io.stderr as NodeJS.WriteStream,
      format: `${label} [{bar}] {value}/{total} | {detail} | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 4,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { detail: 'starting' });
  return {
    update: (done, detail) => bar.update(done, { detail }),
    setTotal: (total) => bar.setTotal(total),
    stop: () => bar.stop(),
  };
}
