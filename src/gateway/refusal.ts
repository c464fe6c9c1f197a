/**
 * Why the gateway refused what a client asked, in the gateway's own words; each protocol says
 * it its own way (MQTT 5 a reason code, 3.1.1 a failure code or nothing, STOMP an ERROR frame,
 * JT/T 808 a general response with result 1). Refusals that end a login are AdmissionRefusals.
 */

export const enum Refusal {
  None = 0,
  /** the ACL, the client's grants, or a `$SYS` topic */
  NotAuthorized = 1,
  /** more levels than --max-topic-levels or longer than --max-topic-length */
  TopicInvalid = 2,
  /** the publish rate kept above the limit (flooding), or too many subscriptions */
  QuotaExceeded = 3,
  /** a retained publish or will while --retain-available is false */
  RetainNotSupported = 4,
}

/** Why a login was refused. */
export type AdmissionRefusal =
  /** memory above --max-memory */
  | 'server-busy'
  /** more connections from this address per second than --max-connection-rate */
  | 'rate-limited'
  /** credentials nobody accepted */
  | 'bad-credentials'
  /** known but not allowed (anonymous refused, a token for another client) */
  | 'not-authorized'
  /** an authentication provider failed (an HTTP hook down) */
  | 'unavailable'
  /** the client id, username or address is on the operator's ban list */
  | 'banned'
  /** the client id's session belongs to another identity (--allow-identity-takeover is off) */
  | 'client-id-taken';

/** The MQTT 5 CONNACK reason of each admission refusal (STOMP and the vehicle gateways use the names). */
export const ADMISSION_REASON_CODES: Readonly<Record<AdmissionRefusal, number>> = {
  'server-busy': 0x89,
  'rate-limited': 0x9f,
  'bad-credentials': 0x86,
  'not-authorized': 0x87,
  unavailable: 0x88,
  banned: 0x8a,
  'client-id-taken': 0x85,
};
