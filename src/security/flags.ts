/** Flags of authentication providers, ACL, rate limits and overload protection: the SecurityOptions part of StartOptions and its rows. */
import { constrainedMemory } from 'node:process';
import { totalmem } from 'node:os';
import type { FlagDef } from '../config/flags.js';

export interface SecurityOptions {
  /** undefined when neither given nor set in the config file: the loopback default decides */
  allowAnonymous: boolean | undefined;
  passwordFile: string | undefined;
  deviceKeysFile: string | undefined;
  jwtSecret: string | undefined;
  jwtPublicKey: string | undefined;
  /** refuse JWTs without `exp` */
  jwtRequireExp: boolean;
  /** seconds a device signature's timestamp may differ from the server's clock */
  deviceSignatureWindow: number;
  authHttpUrl: string | undefined;
  /** ms */
  authHttpTimeout: number;
  authHttpCacheSize: number;
  /** seconds */
  authHttpCacheTtl: number;
  authHttpFailOpen: boolean;
  /** comma-separated provider names, in order */
  authChain: string;
  aclFile: string | undefined;
  aclCacheSize: number;
  /** parent topic of {parent}/p2p/{clientId}; `+` = any; undefined = off */
  p2pParent: string | undefined;
  maxConnectionRate: number;
  maxPublishRate: number;
  maxPublishBytesRate: number;
  publishQuotaStrikes: number;
  maxSubscriptions: number;
  maxTopicLength: number;
  /** bytes of RSS; 0 = no check */
  maxMemory: number;
}

/** 80% of the memory this process may use (its cgroup limit when it has one, else the machine's). */
function defaultMaxMemory(): number {
  const machine = totalmem();
  const limit = constrainedMemory?.() ?? 0;
  const usable = limit > 0 && limit < machine ? limit : machine;
  return Math.floor(usable * 0.8);
}

/** Rows for --help, parsing and the config file (group and kinds as in options.ts). */
export const SECURITY_FLAGS: readonly FlagDef<keyof SecurityOptions>[] = [
  {
    name: 'allow-anonymous',
    key: 'allowAnonymous',
    kind: 'bool',
    group: 'Security',
    // No default value: whether the operator said so decides against the loopback default.
    default: undefined,
    defaultText: 'true on a loopback --host without authentication providers, else false',
    help: 'accept clients without credentials; --no-allow-anonymous refuses them on loopback too',
  },
  {
    name: 'auth-chain',
    key: 'authChain',
    kind: 'string',
    group: 'Security',
    default: 'certificate,password-file,device-keys,jwt,http',
    valueName: 'LIST',
    help: 'order in which the configured providers are asked; the first allow or deny decides',
  },
  {
    name: 'password-file',
    key: 'passwordFile',
    kind: 'path',
    group: 'Security',
    default: undefined,
    defaultText: 'none',
    valueName: 'FILE',
    help: 'user:hash lines (scrypt, PBKDF2-SHA512, mosquitto $7$); write with junction passwd FILE USER',
  },
  {
    name: 'device-keys-file',
    key: 'deviceKeysFile',
    kind: 'path',
    group: 'Security',
    default: undefined,
    defaultText: 'none',
    valueName: 'FILE',
    help: 'JSON access keys, device credentials and tokens for Signature|, DeviceCredential| and Token| logins',
  },
  {
    name: 'jwt-secret',
    key: 'jwtSecret',
    kind: 'string',
    group: 'Security',
    default: undefined,
    defaultText: 'none',
    valueName: 'SECRET',
    help: 'HS256 key (32 bytes or more) for JWTs in the password field',
  },
  {
    name: 'jwt-public-key',
    key: 'jwtPublicKey',
    kind: 'path',
    group: 'Security',
    default: undefined,
    defaultText: 'none',
    valueName: 'FILE',
    help: 'RS256 public key (PEM) for JWTs in the password field',
  },
  {
    name: 'jwt-require-exp',
    key: 'jwtRequireExp',
    kind: 'bool',
    group: 'Security',
    default: true,
    help: 'refuse JWTs without an exp claim (a token that never expires cannot be revoked); --no-jwt-require-exp accepts them',
  },
  {
    name: 'device-signature-window',
    key: 'deviceSignatureWindow',
    kind: 'int',
    group: 'Security',
    default: 300,
    min: 1,
    max: 86_400,
    valueName: 'SECONDS',
    help: 'how far the timestamp of a Signature| or DeviceCredential| login may be from the server clock; older signatures are refused as replays',
  },
  {
    name: 'auth-http-url',
    key: 'authHttpUrl',
    kind: 'string',
    group: 'Security',
    default: undefined,
    defaultText: 'none',
    valueName: 'URL',
    help: 'POST connect fields here; 200 {"result":"allow"} admits',
  },
  {
    name: 'auth-http-timeout',
    key: 'authHttpTimeout',
    kind: 'int',
    group: 'Security',
    default: 5000,
    min: 10,
    max: 60_000,
    valueName: 'MS',
    help: 'how long the HTTP hook may take before the client is refused',
  },
  { name: 'auth-http-cache-size', key: 'authHttpCacheSize', kind: 'int', group: 'Security', default: 10_000, min: 0, max: 10_000_000, help: 'HTTP hook decisions remembered; 0 = ask every time' },
  {
    name: 'auth-http-cache-ttl',
    key: 'authHttpCacheTtl',
    kind: 'int',
    group: 'Security',
    default: 60,
    min: 1,
    max: 86_400,
    valueName: 'SECONDS',
    help: 'how long an HTTP hook decision is remembered',
  },
  { name: 'auth-http-fail-open', key: 'authHttpFailOpen', kind: 'bool', group: 'Security', default: false, help: 'when the HTTP hook fails, ask the next provider instead of refusing' },
  {
    name: 'acl-file',
    key: 'aclFile',
    kind: 'path',
    group: 'Security',
    default: undefined,
    defaultText: 'none (everything allowed)',
    valueName: 'FILE',
    help: 'mosquitto-format ACL: user, topic read|write|readwrite|deny, pattern with %c %u',
  },
  { name: 'acl-cache-size', key: 'aclCacheSize', kind: 'int', group: 'Security', default: 256, min: 0, max: 1_000_000, help: 'topic decisions cached per connection' },
  {
    name: 'p2p-parent',
    key: 'p2pParent',
    kind: 'string',
    group: 'Security',
    default: undefined,
    defaultText: 'off',
    valueName: 'TOPIC',
    help: 'point-to-point: PUBLISH to TOPIC/p2p/{clientId} reaches that client only (+ = any parent)',
  },
  {
    name: 'max-connection-rate',
    key: 'maxConnectionRate',
    kind: 'int',
    group: 'Limits',
    default: 0,
    defaultText: '0 (unlimited)',
    min: 0,
    max: 1_000_000,
    help: 'CONNECTs per second from one address; more get 0x9F',
  },
  {
    name: 'max-publish-rate',
    key: 'maxPublishRate',
    kind: 'int',
    group: 'Limits',
    default: 0,
    defaultText: '0 (unlimited)',
    min: 0,
    max: 10_000_000,
    help: 'PUBLISHes per second per client; above it reading pauses',
  },
  {
    name: 'max-publish-bytes-rate',
    key: 'maxPublishBytesRate',
    kind: 'size',
    group: 'Limits',
    default: 0,
    defaultText: '0 (unlimited)',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    help: 'payload bytes per second per client; above it reading pauses',
  },
  {
    name: 'publish-quota-strikes',
    key: 'publishQuotaStrikes',
    kind: 'int',
    group: 'Limits',
    default: 5,
    min: 0,
    max: 3600,
    help: 'seconds in a row over the publish rate before an MQTT 5 client gets DISCONNECT 0x97',
  },
  { name: 'max-subscriptions', key: 'maxSubscriptions', kind: 'int', group: 'Limits', default: 100_000, min: 0, max: 100_000_000, help: 'subscriptions per client; 0 = unlimited' },
  { name: 'max-topic-length', key: 'maxTopicLength', kind: 'int', group: 'Limits', default: 65_535, min: 1, max: 65_535, help: 'most bytes in a topic name or filter' },
  {
    name: 'max-memory',
    key: 'maxMemory',
    kind: 'size',
    group: 'Limits',
    default: defaultMaxMemory,
    defaultText: '80% of RAM',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    help: 'above this RSS new connections get 0x89 (server busy); 0 = no check',
  },
];
