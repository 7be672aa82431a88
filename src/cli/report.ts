/** `overnight report`: the morning report (HTML file, terminal summary, or the JSON it is drawn from). */
import { writeFileSync } from 'node:fs';
import { CliError, EX_CONFIG } from './errors.js';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { ingestOnce } from '../events/ingest.js';
import { MetricHistory } from '../history/metric-history.js';
import { ProgressTracker } from '../progress/progress-tracker.js';
import { buildNightReport } from '../report/report-data.js';
import { renderNightHtml } from '../report/report-html.js';
import { renderNightText } from '../report/report-text.js';
import { openDatabase } from '../store/database.js';
import { systemClock } from '../util/clock.js';
import { parseDuration } from './audit.js';
import { printJson } from './format.js';

interface ReportFlags {
  since: string;
  out?: string;
  json?: boolean;
  config?: string;
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('the morning report: plots of the night with its events, task progress, recoveries and alerts')
    .option('--since <duration>', 'the night began this long ago (8h, 12h, 1d)', '12h')
    .option('--out <file>', 'write one self-contained HTML file (no network needed to read it)')
    .option('--json', 'print the data the report is drawn from (series, events, recoveries, tasks, alerts)')
    .option('--config <file>', 'configuration file (for the state directory)')
    .action(async (flags: ReportFlags) => {
      const sinceMs = Date.now() - parseDuration(flags.since);
      const { config } = loadConfig(flags.config);
      const db = openDatabase(config.stateDir);
      try {
        const { events } = await ingestOnce(db, config);
        const report = await buildNightReport(
          {
            db,
            events,
            history: new MetricHistory(db, config.history.intervalSec * 1000),
            progress: new ProgressTracker(db, config, systemClock),
            config,
          },
          sinceMs,
        );
        if (flags.out) {
          try {
            writeFileSync(flags.out, renderNightHtml(report));
          } catch (err) {
            const why = (err as NodeJS.ErrnoException).code ?? String(err).slice(0, 200);
            throw new CliError(`--out: cannot write ${JSON.stringify(flags.out.slice(0, 200))}: ${why}`, EX_CONFIG);
          }
          process.stderr.write(`overnight: report written to ${flags.out}\n`);
        }
        if (flags.json) printJson(report);
        else if (!flags.out) process.stdout.write(renderNightText(report));
      } finally {
        db.close();
      }
    });
}
