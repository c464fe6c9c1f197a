/**
 * Registration and authentication through the operator's HTTP endpoints (with retries), and the
 * closed mode: no endpoints and anonymous access not allowed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { jt808Broker } from '../helpers.js';
import { waitFor } from '../../../interop/harness.js';
import { Terminal } from '../../../../bench/lib/jt808-terminal.js';

interface Call {
  path: string;
  body: Record<string, unknown>;
}

/** A registry at /reg (first call fails with 500) and an authenticator at /auth accepting `code`. */
async function operatorEndpoints(t: { after: (fn: () => unknown) => void }, code: string): Promise<{ base: string; calls: Call[] }> {
  const calls: Call[] = [];
  let registryCalls = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      calls.push({ path: req.url ?? '', body });
      if (req.url === '/reg') {
        if (registryCalls++ === 0) {
          res.writeHead(500).end();
          return;
        }
        const answer = body['dev_id'] === 'refused' ? { code: 3 } : { code: 0, authcode: code };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        return;
      }
      res.writeHead(body['code'] === code ? 200 : 403).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

const REGISTER = { province: 1, city: 2, manufacturer: 'MK', model: 'M', dev_id: 'D1', color: 1, license_number: 'A1' };

test('HTTP registry (retried after a 500) issues the auth code; the auth endpoint decides later connections; codes never reach the log', async (t) => {
  const secret = 'secret-7f3a';
  const { base, calls } = await operatorEndpoints(t, secret);
  const { broker, port } = await jt808Broker(t, ['--jt808-registry-url', `${base}/reg`, '--jt808-auth-url', `${base}/auth`, '--jt808-http-retries', '2', '--log-level', 'debug']);
  const p = '013800000001';

  const a = await Terminal.connect(port, p);
  t.after(() => a.close());
  const regSn = a.send(0x0100, REGISTER);
  const reg = await a.expect('8100', (r) => r.header['msg_id'] === 0x8100, 6000);
  assert.deepEqual(reg.body, { seq: regSn, result: 0, auth_code: secret });
  const authSn = a.send(0x0102, { code: secret });
  assert.equal(await a.response(0x0102, authSn), 0, "the code from this connection's registration is accepted");
  assert.deepEqual(calls.filter((c) => c.path === '/reg').length, 2, 'one failure, one retry');
  assert.equal(calls[1]!.body['phone'], p);
  assert.equal(calls[1]!.body['license_number'], 'A1');

  const b = await Terminal.connect(port, '013800000002');
  t.after(() => b.close());
  const bad = b.send(0x0102, { code: 'wrong' });
  assert.equal(await b.response(0x0102, bad), 1, 'refused by the auth endpoint (403)');
  const good = b.send(0x0102, { code: secret });
  assert.equal(await b.response(0x0102, good), 0, 'accepted by the auth endpoint (200)');
  assert.deepEqual(
    calls.filter((c) => c.path === '/auth').map((c) => c.body),
    [
      { code: 'wrong', phone: '013800000002' },
      { code: secret, phone: '013800000002' },
    ],
  );

  const c = await Terminal.connect(port, '013800000003');
  t.after(() => c.close());
  const refusedSn = c.send(0x0100, { ...REGISTER, dev_id: 'refused' });
  const refused = await c.expect('8100', (r) => r.header['msg_id'] === 0x8100);
  assert.deepEqual(refused.body, { seq: refusedSn, result: 3 }, "the registry's code becomes the 8100 result");

  assert.ok(!JSON.stringify(broker.logs).includes(secret), 'the auth code never appears in the log');
});

test('without endpoints on a non-loopback host and without --allow-anonymous every terminal is refused', async (t) => {
  const { broker, port } = await jt808Broker(t, ['--host', '0.0.0.0']);
  const term = await Terminal.connect(port, '013800000009');
  t.after(() => term.close());
  const sn = term.send(0x0100, REGISTER);
  const reg = await term.expect('8100', (r) => r.header['msg_id'] === 0x8100);
  assert.deepEqual(reg.body, { seq: sn, result: 1 });
  const authSn = term.send(0x0102, { code: 'anything' });
  assert.equal(await term.response(0x0102, authSn), 1);
  await waitFor(() => broker.logs.some((l) => String(l['msg']).includes('JT/T 808 terminals will all be refused')), 5000, 'the log line');
});

test('a --jt808-port that cannot be bound stops the start with a message naming the flag', async (t) => {
  const { port } = await jt808Broker(t);
  const { runBroker } = await import('../../../interop/harness.js');
  const result = await runBroker(['start', '--mqtt-port', '0', '--store', 'memory', '--jt808-port', String(port)]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr + result.stdout, new RegExp(`--jt808-port ${port}: cannot listen on 127\\.0\\.0\\.1:${port} \\(the port is in use\\)`));
});
