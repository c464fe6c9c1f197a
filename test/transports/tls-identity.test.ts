/** The client-certificate identity a TLS link offers as username (in process, over a real TLS socket). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { Link, LinkHandler } from '../../src/transports/link.js';
import { TlsProvider, listenTls } from '../../src/transports/tls.js';
import type { BoundServer } from '../../src/transports/tcp.js';
import { Logger } from '../../src/log/logger.js';
import { makeCerts, type Certs } from './helpers.js';

let certs: Certs;
let server: BoundServer;
let links: Array<Link | string> = [];
let arrived: (() => void) | null = null;

before(async () => {
  certs = makeCerts();
  const provider = new TlsProvider({ cert: certs.cert, key: certs.key, ca: certs.ca, requireClientCert: false });
  const handler: LinkHandler = { onData: () => {}, onDrain: () => {}, onClose: () => {} };
  server = await listenTls(
    { host: '127.0.0.1', port: 0, maxConnections: 100, pacing: { ratePerSecond: 0, backlog: 511, descriptors: null, log: new Logger({ level: 'silent' }) } },
    provider,
    (link) => {
      links.push(link);
      arrived?.();
      return handler;
    },
  );
});
after(() => {
  server.close();
  certs.remove();
});

/** Connects with the given client certificate (or none) and returns the identity the link carried. */
async function identityWith(cert?: string, key?: string): Promise<string | null | undefined> {
  links = [];
  const linked = new Promise<void>((resolve) => (arrived = resolve));
  const socket = tls.connect({
    host: '127.0.0.1',
    port: server.port,
    ca: readFileSync(certs.ca),
    ...(cert !== undefined && key !== undefined ? { cert: readFileSync(cert), key: readFileSync(key) } : {}),
  });
  socket.on('error', () => {});
  await linked;
  socket.destroy();
  return (links[0] as Link).peerIdentity;
}

test('a verified client certificate offers its CN as the identity', async () => {
  assert.equal(await identityWith(certs.clientCert, certs.clientKey), 'device-42');
});

test('without a CN the first subjectAltName is the identity', async () => {
  assert.equal(await identityWith(certs.sanCert, certs.sanKey), 'device-san');
});

test('no certificate, or one --tls-ca does not verify, gives no identity', async () => {
  assert.equal(await identityWith(), null);
  assert.equal(await identityWith(certs.otherCert, certs.otherKey), null);
});
