/** The messages between the bench coordinator and its worker processes, and the counters they carry. */

import type { BenchOptions } from './options.js';
import type { ClientRole } from './plan.js';

/** Cumulative counts of one worker (or, summed, of the run). */
export interface Counters {
  connectStarted: number;
  connected: number;
  connectFailed: number;
  subscribed: number;
  /** Connections that ended without the generator closing them. */
  closed: number;
  sent: number;
  acked: number;
  received: number;
  errors: number;
}

/** All-zero counters. */
export function zeroCounters(): Counters {
  return { connectStarted: 0, connected: 0, connectFailed: 0, subscribed: 0, closed: 0, sent: 0, acked: 0, received: 0, errors: 0 };
}

/** a + b, field by field, into a new object. */
export function addCounters(a: Counters, b: Counters): Counters {
  const sum = zeroCounters();
  for (const key of Object.keys(sum) as Array<keyof Counters>) sum[key] = a[key] + b[key];
  return sum;
}

/** CPU time of a process in microseconds (process.cpuUsage()). */
export interface CpuTime {
  user: number;
  system: number;
}

/** Coordinator -> worker. */
export type Command =
  | { type: 'setup'; options: BenchOptions; runId: string; proc: number; procs: number }
  | { type: 'connect'; roles: ClientRole[] }
  | { type: 'seed' }
  | { type: 'start' }
  | { type: 'mark'; reset: boolean; stop: boolean }
  | { type: 'drain' }
  | { type: 'close' };

/** Worker -> coordinator. */
export type Report =
  | { type: 'ready'; counters: Counters; errorSamples: string[] }
  | { type: 'stats'; counters: Counters }
  | { type: 'mark'; counters: Counters; cpu: CpuTime }
  | {
      type: 'final';
      counters: Counters;
      cpu: CpuTime;
      /** hdr-histogram-js compressed base64, microseconds. */
      latency: string;
      connectLatency: string;
      /** process.hrtime of the first connect attempt and the last CONNACK, in ms (one clock for every process). */
      firstConnectMs: number;
      lastConnackMs: number;
      /** Connections accepted per "source>host:port" ("*" = source chosen by the kernel). */
      spread: Record<string, number>;
      errorSamples: string[];
    }
  | { type: 'closed' }
  | { type: 'fatal'; message: string };
