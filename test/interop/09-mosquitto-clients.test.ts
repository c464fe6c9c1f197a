/** mosquitto_pub / mosquitto_sub (3.1.1 and 5.0) against the broker: QoS 1/2, retained, -C counts. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, connect, run, spawnCommand, startBroker, waitFor, type Broker, type TestContext } from './harness.js';

let broker: Broker;
before(async () => {
  broker = await startBroker();
});
after(() => broker.dispose());

interface SubLine {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** Starts mosquitto_sub and resolves once its SUBACK arrived; `lines()` parses what it printed. */
async function startSub(t: TestContext, version: string, args: string[]): Promise<{ lines: () => SubLine[]; exited: Promise<number | null> }> {
  // stdbuf: mosquitto_sub block-buffers stdout into a pipe, hiding the SUBACK line we wait for.
  const sub = spawnCommand(t, 'stdbuf', ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(broker.port), '-V', version, '-d', '-W', '10', '-F', 'MSG|%t|%p|%q|%r', ...args]);
  await waitFor(() => sub.output().includes('SUBACK'), 5000, `mosquitto_sub SUBACK (output so far: ${sub.output().slice(-300)})`);
  const lines = (): SubLine[] =>
    sub
      .output()
      .split('\n')
      .filter((l) => l.startsWith('MSG|'))
      .map((l) => {
        const [, topic, payload, qos, retain] = l.split('|');
        return { topic: topic!, payload: payload!, qos: Number(qos), retain: retain === '1' };
      });
  return { lines, exited: sub.exited };
}

async function pub(version: string, args: string[]): Promise<void> {
  const r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-V', version, ...args], 10_000);
  assert.equal(r.code, 0, `mosquitto_pub ${args.join(' ')} exit code (stderr: ${r.stderr})`);
}

for (const version of ['mqttv311', 'mqttv5']) {
  for (const qos of [1, 2]) {
    test(`${version}: QoS ${qos} publish and subscribe; -C 2 exits after exactly two messages`, async (t) => {
      const topic = `mosq/${version}/q${qos}`;
      const sub = await startSub(t, version, ['-t', topic, '-q', String(qos), '-C', '2']);
      for (const m of ['one', 'two', 'three']) await pub(version, ['-t', topic, '-q', String(qos), '-m', m]);
      const code = await Promise.race([sub.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 5000))]);
      assert.equal(code, 0, 'mosquitto_sub exits 0 after -C 2 messages');
      assert.deepEqual(
        sub.lines().map((l) => `${l.topic}:${l.payload}:${l.qos}`),
        [`${topic}:one:${qos}`, `${topic}:two:${qos}`],
      );
    });
  }

  test(`${version}: retained message (-r) reaches a later mosquitto_sub with the retain flag`, async (t) => {
    const topic = `mosq/${version}/retained`;
    await pub(version, ['-t', topic, '-q', '1', '-r', '-m', 'kept']);
    const sub = await startSub(t, version, ['-t', topic, '-q', '1', '-C', '1']);
    const code = await Promise.race([sub.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 5000))]);
    assert.equal(code, 0);
    assert.deepEqual(sub.lines(), [{ topic, payload: 'kept', qos: 1, retain: true }]);
    await pub(version, ['-t', topic, '-q', '1', '-r', '-n']); // clear it
  });

  test(`${version}: mosquitto_pub to MQTT.js and MQTT.js to mosquitto_sub`, async (t) => {
    const topic = `mosq/${version}/cross`;
    const js = await connect(t, broker.url, { protocolVersion: version === 'mqttv5' ? 5 : 4 });
    await js.subscribeAsync(`${topic}/to-js`, { qos: 2 });
    const got = collect(js, 1);
    await pub(version, ['-t', `${topic}/to-js`, '-q', '2', '-m', 'from-cli']);
    const [m] = await got;
    assert.equal(m!.payload.toString(), 'from-cli');
    assert.equal(m!.packet.qos, 2);

    const sub = await startSub(t, version, ['-t', `${topic}/to-cli`, '-q', '1', '-C', '1']);
    await js.publishAsync(`${topic}/to-cli`, 'from-js', { qos: 1 });
    await sub.exited;
    assert.deepEqual(
      sub.lines().map((l) => l.payload),
      ['from-js'],
    );
  });
}
