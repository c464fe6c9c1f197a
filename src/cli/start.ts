/**
 * `junction start`: runs the server until SIGTERM/SIGINT, then stops accepting, sends MQTT 5
 * clients DISCONNECT 0x8B, flushes the store and exits 0 within 5 s. SIGHUP reloads the log
 * level, TLS certificates and the security files (server/reload.ts); SIGUSR2 logs memory use (after a full GC when node runs with --expose-gc) and the
 * event-loop delay since the previous report.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import type { StartOptions } from '../server/options.js';
import type { Logger } from '../log/logger.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startServer } from '../server/server.js';

const SHUTDOWN_DEADLINE_MS = 5000;

/** Runs the broker until a signal stops it. */
export async function runStart(options: StartOptions, log: Logger, reparse: () => StartOptions = () => options): Promise<void> {
  const server = await startServer(options, log, reparse);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const deadline = setTimeout(() => {
      log.error('shutdown took longer than 5 s; exiting anyway');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    server.stop().then(
      () => {
        log.info('stopped', { signal });
        process.exit(0);
      },
      (err: unknown) => {
        log.error('shutdown failed', { error: err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => void server.reload('SIGHUP'));
  // Health report for operators and benchmarks: memory, and the event-loop delay since the last
  // report. With node --expose-gc it first collects garbage, so "memory per connection" can be
  // read after a full GC.
  const resolutionMs = 10;
  const loopDelay = monitorEventLoopDelay({ resolution: resolutionMs });
  loopDelay.enable();
  process.on('SIGUSR2', () => {
    // The histogram holds whole timer intervals: the lag is what exceeds the resolution.
    const ms = (ns: number): number => Math.max(0, Math.round(ns / 1e4) / 100 - resolutionMs);
    const delay = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) };
    loopDelay.reset();
    const gc = (globalThis as { gc?: (options?: { type: string; execution: string; flavor: string }) => void }).gc;
    if (gc !== undefined) {
      gc();
      // What V8 does under memory pressure: compacts and gives back free old-generation pages.
      gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    }
    const m = process.memoryUsage();
    // Committed bytes per V8 space: the young generation a connection storm grew (16 to 32 MiB)
    // stays committed, even after the GCs above, until V8's memory reducer shrinks it (about 20 s
    // of calm later): RSS read right after a storm is not what the connections hold.
    const spaces: Record<string, number> = {};
    for (const s of getHeapSpaceStatistics()) spaces[s.space_name] = s.space_size;
    log.info('memory', {
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      heapSpaces: spaces,
      external: m.external,
      gc: gc !== undefined,
      online: server.broker.onlineCount,
      eventLoopLagMs: delay,
    });
  });
}
