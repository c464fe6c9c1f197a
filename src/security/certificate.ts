/**
 * Client certificate identity: a TLS transport that verified the client's certificate against
 * --tls-ca hands its CN or SAN to the link as `peerIdentity`; that identity is the username from
 * then on (mosquitto's use_identity_as_username) and no password is checked. Links without one
 * (plain TCP, TLS without a client certificate or without --tls-ca) pass to the next provider.
 */
import type { ConnectInfo } from '../core/auth.js';
import { IGNORE, type AuthProvider, type ProviderDecision } from './provider.js';

export const certificateProvider: AuthProvider = {
  name: 'certificate',
  authenticate(info: ConnectInfo): ProviderDecision {
    const identity = info.peerIdentity ?? null;
    return identity === null ? IGNORE : { outcome: 'allow', username: identity };
  },
};
