/** The memory per connection a conn run reports: with --broker-gc, what the broker keeps after the GC. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zeroCounters } from '../../../bench/load/ipc.js';
import { newHistogram } from '../../../bench/load/histogram.js';
import { parseBenchOptions } from '../../../bench/load/options.js';
import { planCounts } from '../../../bench/load/plan.js';
import { buildResult, type ResultInput } from '../../../bench/load/report.js';

const MiB = 1_048_576;

function input(argv: string[]): ResultInput {
  const o = parseBenchOptions(argv);
  const totals = { ...zeroCounters(), connected: 1000 };
  const sample = (rss: number) => ({ cpuMicros: 0, rssBytes: rss * MiB, peakRssBytes: 90 * MiB });
  return {
    o,
    counts: planCounts(o),
    procs: 1,
    port: 1883,
    startedAt: new Date(),
    // The holding window ends with the young generation the storm grew still committed (80 MiB);
    // the reading after the GC (and the settle) is what the connections keep (65 MiB).
    window: { seconds: 5, begin: zeroCounters(), end: zeroCounters(), generatorCpuMicros: 0, brokerCpuMicros: 0, brokerRss: 80 * MiB },
    totals,
    spread: { '127.0.0.1>127.0.0.1:1883': 1000 },
    latency: newHistogram(),
    connectLatency: newHistogram(),
    connectSeconds: 1,
    coordinatorCpu: 0,
    errorSamples: [],
    broker: { pid: 42, command: 'junction', before: sample(60), after: sample(65), peakRss: 90 * MiB },
  };
}

test('conn --broker-gc reports the RSS read after the GC; without it, the end of the holding window', () => {
  const gc = buildResult(input(['conn', '--connections', '1000', '--broker-gc', '--broker-settle', '20'])).broker!;
  assert.equal(gc.rssBytes, 65 * MiB);
  assert.equal(gc.bytesPerConnection, Math.round((5 * MiB) / 1000));
  const plain = buildResult(input(['conn', '--connections', '1000'])).broker!;
  assert.equal(plain.rssBytes, 80 * MiB);
  assert.equal(plain.bytesPerConnection, Math.round((20 * MiB) / 1000));
});
