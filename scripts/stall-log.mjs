// Loaded into a broker with `node --import scripts/stall-log.mjs` (scripts/storm-stalls): a 1 ms
// interval notes every gap over 5 ms in its event loop, as "STALL <monotonic µs> <gap ms> <epoch
// ms>" lines in STALL_LOG, so a stall can be laid over a perf profile of the same clock
// (perf record -k CLOCK_MONOTONIC).
import { writeSync, openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const out = openSync(process.env.STALL_LOG ?? `/tmp/stalls-${process.pid}.log`, 'a');
let last = process.hrtime.bigint();
setInterval(() => {
  const now = process.hrtime.bigint();
  const gap = Number(now - last) / 1e6;
  last = now;
  // The first 2.5 s are the broker's own start-up.
  if (performance.now() > 2500 && gap > 5) writeSync(out, `STALL ${now / 1000n} ${gap.toFixed(1)} ${Date.now()}\n`);
}, 1).unref();
