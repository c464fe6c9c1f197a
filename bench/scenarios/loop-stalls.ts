/**
 * Event-loop stall detector to load into a broker process:
 *
 *   JUNCTION_STALL_MS=2 node --import ./dist/bench/scenarios/loop-stalls.js dist/src/cli/main.js start ...
 *
 * Set by environment variables, not flags: the command line it runs under is the broker's.
 * A 1 ms interval notes every gap longer than JUNCTION_STALL_MS (default 2) once the first
 * JUNCTION_STALL_SKIP_MS (default 2500: start-up) have passed; when the process exits it writes
 * one JSON line on stderr: how many stalls, their total and the longest. Finer than the broker's
 * SIGUSR2 lag report (10 ms timer), for finding what a flood costs the event loop.
 */
import { performance } from 'node:perf_hooks';

const thresholdMs = Number(process.env['JUNCTION_STALL_MS'] ?? 2);
const skipMs = Number(process.env['JUNCTION_STALL_SKIP_MS'] ?? 2500);
let last = performance.now();
let count = 0;
let totalMs = 0;
let maxMs = 0;

setInterval(() => {
  const now = performance.now();
  const gap = now - last;
  last = now;
  if (now < skipMs || gap <= thresholdMs) return;
  count++;
  totalMs += gap;
  if (gap > maxMs) maxMs = gap;
}, 1).unref();

process.on('exit', () => {
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  process.stderr.write(`${JSON.stringify({ msg: 'event-loop stalls', thresholdMs, afterMs: skipMs, count, totalMs: round(totalMs), maxMs: round(maxMs) })}\n`);
});
