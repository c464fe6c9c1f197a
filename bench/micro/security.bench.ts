/**
 * Authorization on the PUBLISH hot path: one topic decided by the ACL file (40 users, patterns,
 * deny rules) from scratch, and the same decision through a connection's cache; plus the cost
 * of one password check (scrypt and PBKDF2-SHA512, off the event loop but still per CONNECT).
 */
import { Bench } from 'tinybench';
import { AclAuthorizer, GrantsFirstAuthorizer, parseAcl } from '../../src/security/acl-file.js';
import { ConnectionGuard } from '../../src/security/client-guard.js';
import { PublishPacer } from '../../src/security/publish-pacer.js';
import { hashPassword, parseHash, verifyPassword, type StoredHash } from '../../src/security/password-hash.js';
import { parseToolArgs } from '../lib/tool-cli.js';
import { microSpec } from './registry.js';

parseToolArgs(microSpec('security'));

const lines: string[] = ['topic read public/#'];
for (let u = 0; u < 40; u++) lines.push(`user user${u}`, `topic readwrite home/${u}/#`, `topic deny home/${u}/secret`, `topic read $SYS/#`);
lines.push('pattern write devices/%c/up', 'pattern read devices/%u/down/#');
const authorizer = new GrantsFirstAuthorizer(new AclAuthorizer(parseAcl(lines.join('\n'))));
const noop = { pause() {}, resume() {} };
const guard = new ConnectionGuard(authorizer, 'dev-7', 'user7', null, 256, { messages: 0, bytes: 0, strikes: 5 }, noop, new PublishPacer());
const topics = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? `home/7/room${i}/temp` : `devices/dev-7/up`));

const scrypt = parseHash(await hashPassword('pw', 'scrypt')) as StoredHash;
const pbkdf2 = parseHash(await hashPassword('pw', 'pbkdf2')) as StoredHash;
const pw = Buffer.from('pw');

let i = 0;
const bench = new Bench({ time: 500 });
bench
  .add('ACL decision, uncached (file with 40 users + patterns)', () => {
    authorizer.canPublish('dev-7', 'user7', topics[i++ & 15]!);
  })
  .add('ACL decision through the per-connection cache', () => {
    guard.canPublish(topics[i++ & 15]!);
  });
await bench.run();
console.table(bench.table());

const slow = new Bench({ time: 1000, iterations: 5 });
slow.add('password check: scrypt N=16384', async () => void (await verifyPassword(scrypt, pw)));
slow.add('password check: PBKDF2-SHA512 210000 iterations', async () => void (await verifyPassword(pbkdf2, pw)));
await slow.run();
console.table(slow.table());
