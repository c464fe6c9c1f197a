/** STOMP over TLS on --stomps-port with the server's --tls-cert/--tls-key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { frame, stompBroker } from '../helpers.js';

test('--stomps-port speaks STOMP over TLS', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-stomp-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'server.crt');
  const key = path.join(dir, 'server.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], {
    stdio: 'ignore',
  });
  const { portOf } = await stompBroker(t, ['--stomps-port', '0', '--tls-cert', cert, '--tls-key', key]);
  const port = portOf('stomp', 'tls');
  const socket = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(cert) });
  t.after(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  socket.write(frame('CONNECT', { 'accept-version': '1.2', host: 'localhost' }));
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\0')) resolve(text);
    });
  });
  assert.match(answer, /^CONNECTED\nversion:1\.2\n/);
});
