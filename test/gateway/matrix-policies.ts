/**
 * The security policies of the protocol matrix (policy-matrix.test.ts): each gives one broker's
 * flags and the credentials a device of each protocol presents. Every identity that gets in is
 * held to the same RIGHTS, so the same topic must meet the same answer whatever the protocol;
 * a protocol that cannot carry a policy's credentials (a GB/T 32960 login has no password, a
 * JT/T 808 terminal no user name) must be refused, like an MQTT client without credentials.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import type { IClientOptions } from 'mqtt';
import { hashPassword } from '../../src/security/password-hash.js';
import type { TestContext } from '../interop/harness.js';
import { writeIn } from '../security/helpers.js';

/** JT/T 808 terminals and GB/T 32960 vehicles: the first of each may use its topics, the second may not. */
export const PHONE_OK = '013912340001';
export const PHONE_BAD = '013912340002';
export const VIN_OK = 'LJNCTMATRIX000001';
export const VIN_BAD = 'LJNCTMATRIX000002';

export const jtUp = (phone: string): string => `jt808/${phone}/${phone}/up`;
export const jtDown = (phone: string): string => `jt808/${phone}/${phone}/dn`;
export const gbtUp = (vin: string): string => `gbt32960/${vin}/upstream/info`;
export const gbtDown = (vin: string): string => `gbt32960/${vin}/dnstream`;

/** What every admitted device may do, in every policy. */
export const RIGHTS = {
  publish: ['fleet/up/#', jtUp(PHONE_OK), `gbt32960/${VIN_OK}/upstream/#`, 'app/p2p/#', jtDown(PHONE_OK)],
  subscribe: ['fleet/dn/#', jtDown(PHONE_OK), gbtDown(VIN_OK)],
} as const;

/** The ACL lines of RIGHTS. */
const RULES = [...RIGHTS.publish.map((t) => `topic write ${t}`), ...RIGHTS.subscribe.map((t) => `topic read ${t}`)].join('\n');

export interface Policy {
  readonly name: string;
  /** Broker flags of this policy (files written to `dir`). */
  args(t: TestContext, dir: string): Promise<string[]>;
  /** MQTT credentials of the device and of the observer (who may do anything). */
  readonly mqtt: IClientOptions;
  readonly observer: IClientOptions;
  /** STOMP CONNECT headers of the device. */
  readonly stomp: Record<string, string>;
  /** The JT/T 808 auth code (0102) of a terminal, or null: this policy cannot admit terminals. */
  jt808(phone: string): string | null;
  /** Whether this policy can admit a vehicle (its login carries only the VIN). */
  readonly gbt32960: boolean;
  /** True when its devices are authenticated identities (not the anonymous rule): their sessions are theirs alone. */
  readonly named: boolean;
}

const JWT_SECRET = 'matrix-secret-0123456789abcdefghij';

async function jwt(publish: readonly string[], subscribe: readonly string[], sub: string): Promise<string> {
  return new SignJWT({ publish: [...publish], subscribe: [...subscribe] }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(new TextEncoder().encode(JWT_SECRET));
}

const DEVICE_JWT = await jwt(RIGHTS.publish, RIGHTS.subscribe, 'dev');
/** A token names its holder: a terminal's names its phone number (its user name). */
const TERMINAL_JWTS = new Map([PHONE_OK, PHONE_BAD].map((phone) => [phone, '']));
for (const phone of TERMINAL_JWTS.keys()) TERMINAL_JWTS.set(phone, await jwt(RIGHTS.publish, RIGHTS.subscribe, phone));
const OBSERVER_JWT = await jwt(['#'], ['#'], 'observer');
const TOKEN_USER = 'Token|AK1|inst';

/** An HTTP hook granting RIGHTS to a device password (or any vehicle VIN) and everything to the observer. */
async function hook(t: TestContext): Promise<string> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const info = JSON.parse(body) as { username: string | null; password: string | null; protocol: string };
      let answer: Record<string, unknown> = { result: 'deny' };
      if (info.username === 'observer' && info.password === 'obs-secret') answer = { result: 'allow', publish: ['#'], subscribe: ['#'] };
      else if (info.password === 'dev-secret' || (info.protocol.startsWith('gbt32960') && (info.username === VIN_OK || info.username === VIN_BAD))) {
        answer = { result: 'allow', publish: RIGHTS.publish, subscribe: RIGHTS.subscribe };
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth`;
}

export const POLICIES: readonly Policy[] = [
  {
    name: 'password file and ACL file',
    async args(_t, dir) {
      const users = [
        `dev:${await hashPassword('dev-pw')}`,
        `observer:${await hashPassword('obs-pw')}`,
        `${PHONE_OK}:${await hashPassword('code-ok')}`,
        `${PHONE_BAD}:${await hashPassword('code-bad')}`,
      ];
      const acl = ['user observer', 'topic readwrite #', ...['dev', PHONE_OK, PHONE_BAD].map((u) => `user ${u}\n${RULES}`)].join('\n');
      return ['--password-file', writeIn(dir, 'pw', users.join('\n') + '\n'), '--acl-file', writeIn(dir, 'acl', acl + '\n')];
    },
    mqtt: { username: 'dev', password: 'dev-pw' },
    observer: { username: 'observer', password: 'obs-pw' },
    stomp: { login: 'dev', passcode: 'dev-pw' },
    jt808: (phone) => (phone === PHONE_OK ? 'code-ok' : 'code-bad'),
    gbt32960: false,
    named: true,
  },
  {
    name: 'JWT grants',
    args: async () => ['--jwt-secret', JWT_SECRET],
    mqtt: { username: 'dev', password: DEVICE_JWT },
    observer: { username: 'observer', password: OBSERVER_JWT },
    stomp: { login: 'dev', passcode: DEVICE_JWT },
    jt808: (phone) => TERMINAL_JWTS.get(phone) ?? null,
    gbt32960: false,
    named: true,
  },
  {
    name: 'HTTP hook grants',
    args: async (t) => ['--auth-http-url', await hook(t)],
    mqtt: { username: 'dev', password: 'dev-secret' },
    observer: { username: 'observer', password: 'obs-secret' },
    stomp: { login: 'dev', passcode: 'dev-secret' },
    jt808: () => 'dev-secret',
    gbt32960: true,
    named: true,
  },
  {
    name: 'token grants',
    async args(_t, dir) {
      const keys = {
        instanceId: 'inst',
        accessKeys: { AK1: 'ak-secret' },
        tokens: {
          'tok-w': { accessKey: 'AK1', actions: 'W', topics: RIGHTS.publish },
          'tok-r': { accessKey: 'AK1', actions: 'R', topics: RIGHTS.subscribe },
          'tok-obs': { accessKey: 'AK1', actions: 'RW', topics: ['#'] },
        },
      };
      return ['--device-keys-file', writeIn(dir, 'keys.json', JSON.stringify(keys))];
    },
    mqtt: { username: TOKEN_USER, password: 'R|tok-r|W|tok-w' },
    observer: { username: TOKEN_USER, password: 'RW|tok-obs' },
    stomp: { login: TOKEN_USER, passcode: 'R|tok-r|W|tok-w' },
    jt808: () => null,
    gbt32960: false,
    named: true,
  },
  {
    name: 'anonymous with an ACL file',
    async args(_t, dir) {
      // Anonymous MQTT and STOMP clients get the lines before the first user; terminals and
      // vehicles are named by their phone and VIN.
      const acl = [RULES, 'user observer', 'topic readwrite #', ...[PHONE_OK, PHONE_BAD, VIN_OK, VIN_BAD].map((u) => `user ${u}\n${RULES}`)].join('\n');
      return ['--allow-anonymous', '--acl-file', writeIn(dir, 'acl', acl + '\n')];
    },
    mqtt: {},
    observer: { username: 'observer' },
    stomp: {},
    jt808: () => 'any-code',
    gbt32960: true,
    named: false,
  },
];
