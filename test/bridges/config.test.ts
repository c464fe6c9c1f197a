/**
 * The --bridge-config file: unknown keys, bad filters and templates, unknown types and variables
 * are refused at start with their place named; templates render every variable; the forward
 * filter agrees with the core's reference matcher; an unreachable backend is named in the log
 * while the server still starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseBridgeConfig } from '../../src/bridges/config.js';
import { ForwardFilter } from '../../src/bridges/filter.js';
import { BACKENDS } from '../../src/bridges/registry.js';
import { Template } from '../../src/bridges/template.js';
import { filterMatches, validateTopicFilter } from '../../src/core/topic.js';
import { freeLoopbackPort } from '../../bench/lib/backend-services.js';
import { runBroker, waitFor } from '../interop/harness.js';
import { bridgeConfigFile, bridgedBroker } from './helpers.js';

const kafka = (extra: Record<string, unknown>) => ({ name: 'k', type: 'kafka', brokers: ['127.0.0.1:9092'], forward: [{ from: 'a/#', to: 't' }], ...extra });

/** The message parseBridgeConfig throws for `bridges`. */
function refusal(bridges: unknown[]): string {
  try {
    parseBridgeConfig({ bridges }, BACKENDS);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('the configuration was accepted');
}

test('bad configurations are refused naming the place and what is allowed', () => {
  assert.match(refusal([kafka({ brokrs: ['x'] })]), /bridges\[0\] \(a kafka bridge\): unknown key "brokrs"/);
  assert.match(refusal([kafka({ forward: [{ from: 'a/#', to: 't', kye: 'x' }] })]), /bridges\[0\]\.forward\[0\]: unknown key "kye"/);
  assert.match(refusal([kafka({ type: 'rocketmq' })]), /bridges\[0\]\.type must be one of kafka, jetstream, redis-streams, http/);
  assert.match(refusal([kafka({ forward: [{ from: 'a/#/b', to: 't' }] })]), /bridges\[0\]\.forward\[0\]\.from: "a\/#\/b" is not a topic filter/);
  assert.match(refusal([kafka({ forward: [{ from: 'a/#', to: 'x-${clientId}' }] })]), /forward\[0\]\.to: unknown variable \$\{clientId\}.*\$\{clientid\}/);
  assert.match(refusal([kafka({ forward: [{ from: 'a/#', to: 't', key: '${key}' }] })]), /forward\[0\]\.key: unknown variable \$\{key\}/);
  assert.match(refusal([kafka({ forward: [{ from: 'a/#', to: 'x-${topic' }] })]), /forward\[0\]\.to: unclosed \$\{/);
  assert.match(refusal([kafka({ forward: [], consume: [{ from: 'c', to: 'cmd/${clientid}' }] })]), /consume\[0\]\.to: unknown variable \$\{clientid\}/);
  assert.match(refusal([kafka({ forward: [], consume: [{ from: 'c', to: 'cmd/#' }] })]), /consume\[0\]\.to: "cmd\/#" is not a topic name/);
  assert.match(refusal([kafka({ forward: [{ from: 'a', to: 't', payload: 'xml' }] })]), /forward\[0\]\.payload must be "raw".*or "json"/);
  assert.match(refusal([kafka({ forward: [], consume: [{ from: 'a', to: 'b', qos: 3 }] })]), /consume\[0\]\.qos must be an integer from 0 to 2/);
  assert.match(refusal([kafka({}), kafka({})]), /bridges\[1\]\.name "k" is used by another bridge/);
  assert.match(refusal([kafka({ forward: [] })]), /has neither forward nor consume rules/);
  assert.match(refusal([{ name: 'h', type: 'http', url: 'ftp://x', forward: [{ from: '#', to: 'x' }] }]), /bridges\[0\]\.url: "ftp:\/\/x" must be http/);
  assert.match(refusal([{ name: 'h', type: 'http', url: 'http://x', consume: [{ from: 'a', to: 'b' }] }]), /consume: a http bridge only forwards/);
  assert.match(refusal([{ name: 'r', type: 'redis-streams', url: 'http://x', forward: [{ from: '#', to: 'x' }] }]), /bridges\[0\]\.url: "http:\/\/x": only redis:\/\//);
  assert.match(
    refusal([
      kafka({
        forward: [],
        consume: [
          { from: 'a', to: 'b', group: 'g' },
          { from: 'c', to: 'd', group: 'g' },
        ],
      }),
    ]),
    /consume\[1\]\.group "g" is used by another consume rule/,
  );
});

test('junction start names the file and the place of a bad bridge configuration, and exits', async () => {
  const file = bridgeConfigFile([kafka({ forward: [{ form: 'a/#', to: 't' }] })]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-bridge-bad-'));
  const r = await runBroker(['start', '--mqtt-port', '0', '--data-dir', dir, '--bridge-config', file], 8000);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr + r.stdout, /--bridge-config .*bridges\.json: bridges\[0\]\.forward\[0\]: unknown key "form"/);
  const missing = await runBroker(['start', '--mqtt-port', '0', '--data-dir', dir, '--bridge-config', path.join(dir, 'nope.json')], 8000);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr + missing.stdout, /--bridge-config: cannot read .*nope\.json/);
});

test('an unreachable backend is named at start; the server starts and buffers', async (t) => {
  const port = await freeLoopbackPort();
  const broker = await bridgedBroker(t, [kafka({ brokers: [`127.0.0.1:${port}`], connectTimeout: 300 })]);
  const named = (l: Record<string, unknown>) => String(l['msg']).startsWith('bridge backend unreachable at start');
  await waitFor(() => broker.logs.some(named), 5000, 'the unreachable backend named in the log');
  const line = broker.logs.find(named)!;
  assert.equal(line['bridge'], 'k');
  assert.match(String(line['error']), new RegExp(`Kafka at 127\\.0\\.0\\.1:${port}`));
});

test('templates: client id, username, topic and its levels forward; key, headers and topic levels consume', () => {
  const f = { topic: 'fleet/42/gps', clientId: 'truck-1', username: 'ops' };
  assert.equal(Template.compile('${username}/${clientid}:${topic}|${topic[1]}|${topic[9]}|', 'forward').forward(f), 'ops/truck-1:fleet/42/gps|42||');
  const r = { topic: 'device-commands', key: '013800000001', headers: new Map([['kind', 'text']]) };
  assert.equal(Template.compile('jt808/${key}/${key}/dn', 'consume').consume(r), 'jt808/013800000001/013800000001/dn');
  assert.equal(Template.compile('cmd/${headers.kind}/${headers.none}', 'consume').consume(r), 'cmd/text/');
  assert.equal(Template.compile('plain', 'forward').constant, true);
});

test('the forward filter matches exactly as the core reference matcher', () => {
  const level = fc.constantFrom('a', 'b', '', 'ab', '$x');
  const topic = fc.array(level, { minLength: 1, maxLength: 5 }).map((l) => l.join('/'));
  const filterLevel = fc.constantFrom('a', 'b', '', '+', 'ab', '$x');
  const filter = fc.tuple(fc.array(filterLevel, { minLength: 1, maxLength: 4 }), fc.boolean()).map(([l, multi]) => (multi ? [...l, '#'] : l).join('/'));
  fc.assert(
    fc.property(filter, topic, (fl, tp) => {
      fc.pre(validateTopicFilter(fl) === null);
      assert.equal(new ForwardFilter(fl).matches(tp), filterMatches(fl, tp), `${fl} against ${tp}`);
    }),
    { numRuns: 3000, seed: 16 },
  );
  assert.equal(new ForwardFilter('#').matches('$SYS/x'), false);
});
