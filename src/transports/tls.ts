/**
 * TLS listeners (node:tls) and the certificates they share. Certificates are read from the
 * files given by --tls-cert/--tls-key/--tls-ca and can be reloaded (SIGHUP) without dropping
 * connections: new handshakes use the new context, open connections keep theirs.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { Server } from 'node:net';
import type { LinkAcceptor } from './link.js';
import { attachSocket } from './tcp.js';

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
  private servers: tls.Server[] = [];
  private current: tls.SecureContextOptions;

  constructor(files: TlsFiles) {
    this.files = files;
    this.current = this.read();
  }

  get requireClientCert(): boolean {
    return this.files.requireClientCert;
  }

  get hasCa(): boolean {
    return this.files.ca !== undefined;
  }

  /** The PEM material for listeners that build their own contexts (uWebSockets.js SSLApp). */
  get paths(): Readonly<TlsFiles> {
    return this.files;
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

export interface TlsListenerOptions {
  host: string;
  port: number;
  maxConnections: number;
}

/** Starts a TLS listener; resolves with the server once bound. */
export function listenTls(options: TlsListenerOptions, provider: TlsProvider, accept: LinkAcceptor): Promise<Server> {
  const server = tls.createServer(provider.serverOptions(), (socket) => attachSocket(socket, 'tls', accept));
  server.maxConnections = options.maxConnections;
  // A failed handshake is the client's problem; never let it reach the process.
  server.on('tlsClientError', () => {});
  provider.track(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
