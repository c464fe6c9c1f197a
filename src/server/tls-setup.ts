/** Builds the TLS certificate holder from the options (null when TLS is not configured). */
import { ConfigError } from '../errors.js';
import { TlsProvider } from '../transports/tls.js';
import type { TransportOptions } from '../transports/flags.js';

/**
 * Reads --tls-cert/--tls-key/--tls-ca; throws ConfigError naming the flags when they do not fit
 * together or do not load. A TLS listener without certificates is refused where it opens.
 */
export function createTlsProvider(options: TransportOptions): TlsProvider | null {
  const { tlsCert: cert, tlsKey: key, tlsCa: ca } = options;
  if (cert === undefined || key === undefined) {
    if (cert !== undefined || key !== undefined) throw new ConfigError('--tls-cert and --tls-key go together: give both');
    if (ca !== undefined || options.tlsRequireClientCert) throw new ConfigError('--tls-ca and --tls-require-client-cert need --tls-cert and --tls-key');
    return null;
  }
  if (options.tlsRequireClientCert && ca === undefined) {
    throw new ConfigError('--tls-require-client-cert needs --tls-ca (the CA bundle client certificates are verified against)');
  }
  try {
    return new TlsProvider({ cert, key, ...(ca !== undefined ? { ca } : {}), requireClientCert: options.tlsRequireClientCert });
  } catch (err) {
    // Names the flags, never the key material itself.
    const detail = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`cannot load the TLS certificate files (--tls-cert ${cert}, --tls-key ${key}${ca !== undefined ? `, --tls-ca ${ca}` : ''}): ${detail}`);
  }
}
