/** `overnight monitor`: the overnight loop as a daemon (live view on a terminal, JSON lines otherwise). */
import type { Server } from 'node:http';
import type { Command } from 'commander';
import { createOvernightContext } from '../context.js';
import type { OvernightMetrics } from '../metrics/prometheus.js';
import { renderLiveView } from '../monitor/live-view.js';
import { OvernightMonitor } from '../monitor/overnight-monitor.js';
import { loadNative } from '../native.js';
import { implicitScope, noScopeMessage } from '../policy/implicit-scope.js';
import { CliError, EX_CONFIG } from './errors.js';
import { listenHost, port, positiveInt, secondsIn } from './flag-values.js';
import { listenError } from './listen-error.js';
import { loadConfigOrExit } from './config-option.js';
import { releaseStartupPages, tuneDaemonProcess } from './daemon-tuning.js';
import { MonitorLog } from './monitor-log.js';
import { closeHttpServer } from './serve-shutdown.js';

/** recover: on needs a scope: refuse to start when none is named and none is implied (PID 1 parent, session leader). */
function checkRecoveryScope(config: {
  monitor: { recover: string };
  policy: { scopeRoot?: number; scopeUnit?: string; scopeUser?: string | number };
}): void {
  if (config.monitor.recover !== 'on') return;
  const p = config.policy;
  if (p.scopeRoot !== undefined || p.scopeUnit !== undefined || p.scopeUser !== undefined) return;
  const implicit = implicitScope();
  if (implicit.root === null) throw new CliError(noScopeMessage(implicit.reason), EX_CONFIG);
}

interface MonitorFlags {
  config?: string;
  interval?: number;
  metrics?: number;
  metricsHost: string;
  logFile?: string;
  json?: boolean;
  cycles?: number;
}

export function registerMonitorCommand(program: Command): void {
  program
    .command('monitor')
    .description(
      'watch, recover and escalate all night: health -> recovery -> progress -> resources -> sleep (woken by ' +
        'PSI, Xids, exits, deadlines)',
    )
    .option('--config <file>', 'configuration file')
    // The bounds of monitor.intervalSec: past 2^31 ms, setTimeout fires after 1 ms (a busy loop).
    .option(
      '--interval <seconds>',
      'seconds between cycles, 0.05 to 86400 (default: monitor.intervalSec, 300)',
      secondsIn('--interval', 0.05, 86_400, EX_CONFIG),
    )
    .option('--metrics <port>', 'serve Prometheus metrics on this port at /metrics', port('--metrics', EX_CONFIG))
    .option('--metrics-host <host>', 'address for --metrics', listenHost('--metrics-host', EX_CONFIG), '127.0.0.1')
    .option('--log-file <file>', 'append JSON lines here instead of stderr')
    .option('--json', 'JSON lines even on a terminal')
    .option('--cycles <n>', 'stop after n cycles (default: run until SIGTERM)', positiveInt('--cycles', EX_CONFIG))
    .action(async (flags: MonitorFlags) => {
      const { config, path } = loadConfigOrExit(flags.config);
      const interval = flags.interval ?? config.monitor.intervalSec;
      const cycles = flags.cycles ?? Infinity;
      checkRecoveryScope(config);
      const logFile = flags.logFile ? MonitorLog.open(flags.logFile) : undefined;
      // Before the context starts the sampler's and the scans' threads (see daemon-tuning.ts).
      const tuning = tuneDaemonProcess();
      // One background Sampler, as in `serve`: host samples for the thresholds between cycles, and the
      // agent's processes scanned on its own thread for leak slopes and hang windows.
      const ctx = await createOvernightContext({ config, background: true });
      // prom-client and the exposition are loaded only with --metrics (about 10 MB of RSS otherwise unused).
      let metrics: OvernightMetrics | undefined;
      let metricsServer: Server | undefined;
      if (flags.metrics !== undefined) {
        const [{ OvernightMetrics, serveMetrics }, { scrapeSources }] = await Promise.all([
          import('../metrics/prometheus.js'),
          import('../metrics/scrape-sources.js'),
        ]);
        metrics = new OvernightMetrics(scrapeSources(ctx));
        metrics.attachEvents(ctx.events);
        try {
          metricsServer = await serveMetrics(metrics, flags.metrics, flags.metricsHost);
        } catch (err) {
          // The background sampler would keep the process alive: close before reporting.
          ctx.gpu?.close();
          await ctx.close();
          await logFile?.close();
          throw listenError(err, {
            portFlag: '--metrics',
            port: flags.metrics,
            hostFlag: '--metrics-host',
            host: flags.metricsHost,
          });
        }
      }
      // `now`: lines an operator waits for; healthy routine cycles may be held back a few seconds (monitor-log.ts).
      const emit = (obj: object, now: boolean) => {
        if (logFile) logFile.line(obj, now);
        else process.stderr.write(`${JSON.stringify(obj)}\n`);
      };
      const live = !flags.json && !flags.logFile && process.stdout.isTTY;
      // systemd: READY=1 after the first cycle, WATCHDOG=1 every cycle; cycles run at least twice per WatchdogSec.
      const watchdogMs = process.env.WATCHDOG_USEC ? Number(process.env.WATCHDOG_USEC) / 1000 : Infinity;
      const intervalMs = Math.min(interval * 1000, watchdogMs / 2);
      let ready = false;
      // Until the loop ends: a line that arrives later (the release's) is not written to a closing log.
      let running = true;
      const notify = (msg: string) => {
        try {
          loadNative().sdNotify(msg);
        } catch (err) {
          emit({ type: 'sd_notify', error: (err as Error).message }, true);
        }
      };
      const monitor = new OvernightMonitor(ctx, {
        intervalMs,
        ...(metrics ? { metrics } : {}),
        keepAlive: () => {
          notify(ready ? 'WATCHDOG=1' : 'READY=1\nWATCHDOG=1');
          ready = true;
        },
        onEvent: (e) => {
          if (!live) emit({ type: 'event', ...e }, true);
        },
        onCycle: (c, h) => {
          // Start-up is over once the first cycle has run (see daemon-tuning.ts); the log says what left the RSS.
          if (monitor.cycles === 1)
            void releaseStartupPages().then((r) => {
              if (r && !live && running) emit({ type: 'memory', at: new Date().toISOString(), ...r }, false);
            });
          if (live)
            process.stdout.write(
              `\x1b[2J\x1b[H${renderLiveView(c, h, ctx.progress.list(), monitor.events, intervalMs)}\n`,
            );
          else {
            // `check`: full or quick (monitor.fullCheckSec), next to what triggered the cycle.
            const { at, trigger, ...rest } = c;
            emit(
              { type: 'cycle', at, trigger, check: h.check_type, ...rest },
              monitor.cycles === 1 ||
                c.status !== 'healthy' ||
                c.recoveries.length > 0 ||
                c.alerts.length > 0 ||
                c.resources.length > 0 ||
                c.emergency !== undefined,
            );
          }
        },
      });
      const ac = new AbortController();
      let stoppedBy: NodeJS.Signals | undefined;
      const stop = (signal: NodeJS.Signals) => {
        stoppedBy = signal;
        ac.abort();
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      // SIGHUP (logrotate's postrotate) ends a Node process by default: here it writes what is held
      // and reopens --log-file at its path; the monitor goes on.
      const hup = () => void logFile?.reopen();
      process.on('SIGHUP', hup);
      if (!live)
        emit(
          {
            type: 'start',
            config: path ?? 'defaults',
            interval_s: intervalMs / 1000,
            recover: config.monitor.recover,
            tuning,
            metrics:
              flags.metrics !== undefined
                ? `http://${flags.metricsHost}:${metricsServer && (metricsServer.address() as { port: number }).port}` +
                  '/metrics'
                : null,
          },
          true,
        );
      await monitor.run(ac.signal, cycles);
      running = false;
      notify('STOPPING=1');
      process.off('SIGHUP', hup);
      // The last line of an orderly stop (written at once, with everything held before it).
      if (stoppedBy && !live)
        emit({ type: 'stopped', at: new Date().toISOString(), signal: stoppedBy, cycles: monitor.cycles }, true);
      // Not awaited: a stalled scraper is cut off after the grace while the rest shuts down.
      if (metricsServer) void closeHttpServer(metricsServer);
      ctx.gpu?.close();
      await ctx.close();
      await logFile?.close();
    });
}
