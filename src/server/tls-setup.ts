/** Builds the TLS certificate holder from the options (null when TLS is not configured). */
import type { StartOptions } from '../cli/options.js';
import type { TlsProvider } from '../transports/tls.js';

export function createTlsProvider(options: StartOptions): TlsProvider | null {
  void options;
  return null;
}
