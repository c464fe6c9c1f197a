/** The network-level fuzzer, short version: the broker survives and good clients lose nothing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brokerFor, connect } from '../interop/harness.js';
import { runNetFuzz } from './net-fuzz.js';

test('24 connections sending mutated MQTT, STOMP, JT/T 808 and GB/T 32960 streams for 5 s: broker stays up, a QoS 1 publisher/subscriber pair loses nothing, no internal error', async (t) => {
  const broker = await brokerFor(t, { args: ['--max-packet-size', '64KiB', '--stomp-port', '0', '--jt808-port', '0', '--gbt32960-port', '0'] });
  // A fixed seed keeps CI deterministic; fresh seeds are for long runs (JUNCTION_FUZZ_SEED=$RANDOM).
  const seed = Number(process.env['JUNCTION_FUZZ_SEED'] ?? 20261125);
  const r = await runNetFuzz(broker, { seconds: Number(process.env['JUNCTION_NETFUZZ_SECONDS'] ?? 5), attackers: 24, seed });
  t.diagnostic(`${r.streams} mutated streams (${JSON.stringify(r.perProtocol)}, ${r.bytes} bytes); good messages ${r.goodReceived}/${r.goodSent}`);
  assert.ok(r.streams > 100, `only ${r.streams} mutated streams were sent`);
  for (const protocol of ['mqtt', 'stomp', 'jt808', 'gbt32960']) assert.ok((r.perProtocol[protocol] ?? 0) > 10, `the ${protocol} port got ${r.perProtocol[protocol] ?? 0} mutated streams`);
  // The pair publishes QoS 1 one at a time; on a machine loaded by other jobs 5 s gives a few dozen.
  assert.ok(r.goodSent > 20, `only ${r.goodSent} good messages were published`);
  assert.deepEqual(r.problems, [], `seed ${seed}:\n${r.problems.join('\n')}`);
  const after = await connect(t, broker.url);
  assert.ok(after.connected, 'a new client connects after the fuzz');
});
