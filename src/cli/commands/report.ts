/**
 * `lla report <model> --out report.html`: one self-contained HTML page about a trained model: perplexity,
 * log-likelihood and throughput curves, the topic-transition heatmap, top actions per topic, example topic
 * trajectories, settings and backends (src/report/).
 */
import { basename } from 'node:path';
import type { Command, CommandIO } from '../command.js';
import { intOption, stringOption, type ParsedArgs } from '../options.js';
import { BACKEND_OPTIONS, backendFrom } from '../model-options.js';
import { LlaModel } from '../../model/model.js';
import { reportDataFromModel } from '../../report/data.js';
import { DEFAULT_TOPIC_ACTIONS } from '../../eval/topics.js';
import { TRAJECTORIES_KEPT } from '../../train/trainer.js';
import { renderReport } from '../../report/html.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { checkOutputs } from '../../io/outputs.js';
import { UsageError } from '../../errors.js';

/** `model.lla` -> `model.html`; any other name gets `.html` appended (never overwrites the model itself). */
export function defaultReportPath(modelPath: string): string {
  return modelPath.endsWith('.lla') ? `${modelPath.slice(0, -'.lla'.length)}.html` : `${modelPath}.html`;
}

export const command: Command = {
  usage: '<model> [--out report.html] [options]',
  description:
    'Writes one HTML file (no network resources: styles, scripts and SVG charts are inline) with the ' +
    "model's held-out perplexity or training log-likelihood per iteration, E-step and M-step tokens/s, the K x K " +
    'topic-transition heatmap, the top actions of every topic, example sequences drawn as topic trajectories, and ' +
    'the settings and backends of the run. Works for every model kind (the lstm baseline has no topic sections). ' +
    'A cache model (the recency cache) has nothing of its own to draw and is refused. ' +
    'The output path is checked before any work: a folder, a named pipe or a device there, or the model itself, ' +
    'is refused (exit 2); a symbolic link to a regular file writes the file it points to. The file is written atomically.',
  options: {
    out: {
      type: 'string',
      short: 'o',
      valueName: 'FILE',
      description: 'the HTML file to write (default: the model path with .html)',
    },
    top: {
      type: 'string',
      valueName: 'N',
      description: 'actions listed per topic',
      default: String(DEFAULT_TOPIC_ACTIONS),
    },
    trajectories: {
      type: 'string',
      valueName: 'N',
      description: `example sequences drawn (at most the ${TRAJECTORIES_KEPT} the model keeps)`,
      default: String(TRAJECTORIES_KEPT),
    },
    ...BACKEND_OPTIONS,
  },
  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    if (args.positionals.length !== 1) {
      throw new UsageError(
        `lla report: expected one <model> file, got ${args.positionals.length}. ` + "Run 'lla report --help'.",
      );
    }
    const modelPath = args.positionals[0];
    const out = stringOption('report', args, 'out') ?? defaultReportPath(modelPath);
    const top = intOption('report', args, 'top', DEFAULT_TOPIC_ACTIONS, 1, 100);
    const trajectories = intOption('report', args, 'trajectories', TRAJECTORIES_KEPT, 0, 100);
    const backends = backendFrom('report', args, io.env);
    checkOutputs('report', [{ path: out, name: '--out' }], [{ path: modelPath, name: 'the model' }]);
    const model = await LlaModel.load(modelPath, {
      backend: backends.backend,
      threads: backends.threads,
      warn: (message: string) => io.stderr.write(`${message}\n`),
      ...(backends.tfBackend ? { tfBackend: backends.tfBackend } : {}),
    });
    if (model.model === 'cache') {
      throw new UsageError(
        `lla report: ${modelPath} is a 'cache' model (the recency cache): it has no training ` +
          "history, topics or trajectories to report; 'lla eval' scores it and every other model's report shows it " +
          'as a reference',
      );
    }
    let html: string;
    try {
      html = renderReport(reportDataFromModel(model, { title: basename(modelPath), topActions: top, trajectories }));
    } finally {
      model.dispose();
    }
    writeFileAtomic(out, [html]);
    const bytes = Buffer.byteLength(html, 'utf8');
    if (args.values.json) {
      io.stdout.write(`${JSON.stringify({ model: modelPath, kind: model.model, out, bytes })}\n`);
    } else {
      io.stdout.write(
        `wrote ${out} (${(bytes / 1024).toFixed(0)} KiB): report of the ${model.model} model ${modelPath}\n`,
      );
    }
    return 0;
  },
};
