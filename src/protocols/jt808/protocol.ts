/**
 * The JT/T 808 protocol: a TCP listener on --jt808-port (standard 6207) and a TLS one on
 * --jt808-tls-port, each opening only when its flag is given. Terminals become clients named by
 * their phone number; see handlers/index.ts for the MQTT contract.
 */
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { Protocol } from '../../gateway/protocol.js';
import { Jt808Connection } from './connection.js';
import type { Jt808Options } from './flags.js';
import { BrokerRegistrar, HttpRegistrar, type Registrar } from './registrar.js';

/** Deadlines (ms), limits and the registrar, from the --jt808-* flags. */
export interface Jt808Config {
  readonly heartbeatTimeoutMs: number;
  readonly authTimeoutMs: number;
  readonly retryIntervalMs: number;
  readonly retryCount: number;
  readonly maxInflight: number;
  readonly maxQueued: number;
  readonly maxFrameSize: number;
  readonly maxSplitParts: number;
  readonly splitTimeoutMs: number;
  readonly maxViolations: number;
  readonly registrar: Registrar;
}

/** The --jt808-* deadlines (in ms), limits and registrar. */
function jt808Config(o: Jt808Options, registrar: Registrar): Jt808Config {
  return {
    heartbeatTimeoutMs: o.jt808HeartbeatTimeout * 1000,
    authTimeoutMs: o.jt808AuthTimeout * 1000,
    retryIntervalMs: o.jt808RetryInterval * 1000,
    retryCount: o.jt808RetryCount,
    maxInflight: o.jt808MaxInflight,
    maxQueued: o.jt808MaxQueued,
    maxFrameSize: o.jt808MaxFrameSize,
    maxSplitParts: o.jt808MaxSplitParts,
    splitTimeoutMs: o.jt808SplitTimeout * 1000,
    maxViolations: o.jt808MaxViolations,
    registrar,
  };
}

/** The operator's HTTP endpoints when given; else the broker's authentication decides. */
function jt808Registrar(o: Jt808Options, anonymous: boolean, log: Logger): Registrar {
  if (o.jt808RegistryUrl !== undefined || o.jt808AuthUrl !== undefined) {
    for (const [flag, url] of [
      ['--jt808-registry-url', o.jt808RegistryUrl],
      ['--jt808-auth-url', o.jt808AuthUrl],
    ] as const) {
      if (url !== undefined && !/^https?:\/\/[^\s]+$/.test(url)) throw new ConfigError(`${flag} must be an http:// or https:// URL`);
    }
    return new HttpRegistrar({ registryUrl: o.jt808RegistryUrl, authUrl: o.jt808AuthUrl, timeoutMs: o.jt808HttpTimeout * 1000, retries: o.jt808HttpRetries, retryDelayMs: 1000 }, log);
  }
  return new BrokerRegistrar(anonymous);
}

export const jt808Protocol: Protocol<Jt808Options> = {
  name: 'jt808',
  async start(kit, o) {
    const specs = [
      { protocol: 'jt808', transport: 'tcp', flag: '--jt808-port', port: o.jt808Port },
      { protocol: 'jt808', transport: 'tls', flag: '--jt808-tls-port', port: o.jt808TlsPort },
    ] as const;
    if (specs.every((s) => s.port < 0)) return [];
    const registrar = jt808Registrar(o, kit.admitsAnonymous, kit.log);
    if (registrar.mode === 'broker' && !kit.admitsAnonymous && !kit.authenticates) {
      kit.log.warn('JT/T 808 terminals will all be refused: give --jt808-registry-url/--jt808-auth-url, an authentication provider, or --allow-anonymous');
    }
    const config = jt808Config(o, registrar);
    const listeners = await kit.listenAll(
      specs,
      kit.acceptor('jt808', (link) => new Jt808Connection(link, kit, config)),
    );
    kit.log.info('JT/T 808 gateway ready', { registration: registrar.mode });
    return listeners;
  },
};
