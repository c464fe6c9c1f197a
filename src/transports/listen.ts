/**
 * Opening a node:net or node:tls listener for a protocol, the same way for every protocol: the
 * backlog, accept pacing and connection cap of tcp.ts, and one wording for what goes wrong,
 * naming the flag ("--stomp-port 61613: cannot listen on 127.0.0.1:61613 (the port is in use)").
 */
import { ConfigError } from '../errors.js';
import type { AcceptPacing } from './accept-gate.js';
import type { LinkAcceptor } from './link.js';
import { listenTcp, type BoundServer } from './tcp.js';
import type { NativeBinding } from '../native/binding.js';
import { listenNativeTcp } from './native-tcp.js';
import { listenTls, type TlsProvider } from './tls.js';

/** One open listening socket, printed at start and closed at shutdown. */
export interface Listener {
  readonly protocol: string;
  readonly transport: 'tcp' | 'tls' | 'ws' | 'wss';
  readonly host: string;
  readonly port: number;
  close(): void;
}

/** What to open. */
export interface NetListenSpec {
  readonly protocol: string;
  readonly transport: 'tcp' | 'tls';
  /** The port flag, named in errors (--stomp-port). */
  readonly flag: string;
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly pacing: AcceptPacing;
  /** The certificates; null when --tls-cert/--tls-key were not given. */
  readonly tls: TlsProvider | null;
  /** Plain TCP through the Rust module (--tcp-transport native); null or absent = node:net. */
  readonly nativeTcp?: NativeTcpSetup | null;
  /** Told of each connection the native listener closed at accept (--max-connections reached). */
  readonly refusedAtAccept?: () => void;
}

/** How native TCP listeners are opened (--tcp-transport native). */
export interface NativeTcpSetup {
  readonly native: NativeBinding;
  /** --tcp-reuse-port */
  readonly reusePort: boolean;
}

/** Binds the listener; throws ConfigError naming the flag when it cannot. */
export async function listenNet(spec: NetListenSpec, accept: LinkAcceptor): Promise<Listener> {
  const options = { host: spec.host, port: spec.port, maxConnections: spec.maxConnections, pacing: spec.pacing };
  let server: BoundServer;
  try {
    const nativeTcp = spec.nativeTcp ?? null;
    if (spec.transport === 'tcp' && nativeTcp !== null) {
      server = await listenNativeTcp(nativeTcp.native, { ...options, reusePort: nativeTcp.reusePort, refused: spec.refusedAtAccept ?? null }, accept);
    } else if (spec.transport === 'tcp') server = await listenTcp(options, accept);
    else {
      if (spec.tls === null) throw new ConfigError(`${spec.flag} needs --tls-cert and --tls-key (PEM files of the server certificate and its private key)`);
      server = await listenTls(options, spec.tls, accept);
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw listenFailure(spec.flag, spec.host, spec.port, err);
  }
  return { protocol: spec.protocol, transport: spec.transport, host: spec.host, port: server.port, close: () => server.close() };
}

/** The error naming the flag of a listener that cannot bind: "--X-port P: cannot listen on H:P (why)". */
export function listenFailure(flag: string, host: string, port: number, err: unknown): ConfigError {
  return new ConfigError(`${flag} ${port}: cannot listen on ${host}:${port} (${why(err)})`);
}

function why(err: unknown): string {
  if (typeof err === 'string') return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return 'the port is in use';
  if (code === 'EACCES') return 'permission denied: ports below 1024 need privileges';
  if (code === 'EADDRNOTAVAIL') return 'no such address on this machine';
  return err instanceof Error ? err.message : String(err);
}
