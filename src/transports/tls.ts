/**
 * TLS listeners (node:tls) and the certificates they share. Certificates are read from the
 * files given by --tls-cert/--tls-key/--tls-ca and can be reloaded (SIGHUP) without dropping
 * connections: new handshakes use the new context, open connections keep theirs.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { LinkAcceptor } from './link.js';
import { attachSocket, bindServer, type BoundServer, type TcpListenerOptions } from './tcp.js';

export interface TlsFiles {
  cert: string;
  key: string;
  /** CA bundle to verify client certificates */
  ca?: string;
  requireClientCert: boolean;
}

/** Holds the current certificates; `reload` re-reads the files. */
export class TlsProvider {
  private readonly files: TlsFiles;
  private readonly servers: tls.Server[] = [];
  private current: tls.SecureContextOptions;

  /** Reads and validates the files now, so a bad path or key stops the start. */
  constructor(files: TlsFiles) {
    this.files = files;
    this.current = this.read();
    tls.createSecureContext(this.current);
  }

  get requireClientCert(): boolean {
    return this.files.requireClientCert;
  }

  get hasCa(): boolean {
    return this.files.ca !== undefined;
  }

  /** Server options for node:tls. */
  serverOptions(): tls.TlsOptions {
    return {
      ...this.current,
      minVersion: 'TLSv1.2',
      requestCert: this.files.ca !== undefined || this.files.requireClientCert,
      rejectUnauthorized: this.files.requireClientCert,
    };
  }

  /** Re-reads the files; throws (keeping the old certificates) if they are unreadable or invalid. */
  reload(): void {
    const next = this.read();
    tls.createSecureContext(next); // validates before anything switches
    this.current = next;
    for (const server of this.servers) server.setSecureContext(this.serverOptions());
  }

  /** Switches this node:tls server to new certificates on every reload. */
  track(server: tls.Server): void {
    this.servers.push(server);
  }

  private read(): tls.SecureContextOptions {
    const f = this.files;
    return {
      cert: readFileSync(f.cert),
      key: readFileSync(f.key),
      ...(f.ca !== undefined ? { ca: readFileSync(f.ca) } : {}),
    };
  }
}

/**
 * The identity a verified client certificate offers as username: its subject CN, else its
 * first subjectAltName value (DNS, email, URI or IP). Null when none was presented or it did
 * not verify against --tls-ca.
 */
export function certificateIdentity(socket: tls.TLSSocket): string | null {
  if (!socket.authorized) return null;
  const cert = socket.getPeerCertificate();
  if (cert === null || typeof cert !== 'object' || Object.keys(cert).length === 0) return null;
  const cn = cert.subject?.CN as string | string[] | undefined;
  const first = Array.isArray(cn) ? cn[0] : cn;
  if (first !== undefined && first !== '') return first;
  const san = cert.subjectaltname;
  if (san === undefined || san === '') return null;
  // "DNS:device-1, IP Address:10.0.0.1": the value after the first colon of the first entry.
  const entry = san.split(', ')[0]!;
  const colon = entry.indexOf(':');
  const value = colon === -1 ? entry : entry.slice(colon + 1);
  return value === '' ? null : value;
}

/** Starts a TLS listener; resolves once bound. */
export function listenTls(options: TcpListenerOptions, provider: TlsProvider, accept: LinkAcceptor): Promise<BoundServer> {
  const server = tls.createServer(provider.serverOptions(), (socket) => {
    const identity = provider.hasCa ? certificateIdentity(socket) : null;
    attachSocket(socket, 'tls', (link) => {
      link.peerIdentity = identity;
      return accept(link);
    });
  });
  // A failed handshake is the client's problem; never let it reach the process.
  server.on('tlsClientError', () => {});
  provider.track(server);
  return bindServer(server, options, 'tls');
}
