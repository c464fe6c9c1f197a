/** Shared pieces of the reliability tests: broker RSS from /proc, raw sockets, counters from logs. */
import net from 'node:net';
import type { Broker } from '../interop/harness.js';

export { rssOf } from '../../bench/load/proc-stats.js';

/** The broker's pid, failing clearly when it has exited. */
export function pidOf(broker: Broker): number {
  const pid = broker.process.pid;
  if (pid === undefined || broker.process.exitCode !== null) throw new Error(`broker process is not running (exit code ${broker.process.exitCode})`);
  return pid;
}

/** A plain socket connected to the broker. */
export function openSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with the time (Date.now()) the socket closed, or rejects after `timeoutMs`. */
export function closedWithin(s: net.Socket, timeoutMs: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    if (s.destroyed || s.readyState === 'closed') return resolve(Date.now());
    const timer = setTimeout(() => reject(new Error(`${what}: still open after ${timeoutMs} ms`)), timeoutMs);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now());
    });
    s.on('error', () => {});
  });
}

/** MiB with one decimal, for messages. */
export function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1) + ' MiB';
}
