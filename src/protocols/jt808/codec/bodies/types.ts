/** The shape every message body codec has: JSON object <-> body bytes, per edition. */
import type { BodyReader, BodyWriter } from '../bytes.js';
import type { Fields, JsonObject } from '../json-fields.js';

export interface BodyCodec {
  /** Parses a body; throws Jt808BodyError when it does not fit the layout. */
  decode(r: BodyReader, is2019: boolean): JsonObject;
  /** Writes a body from its JSON; throws Jt808InputError for a missing or mistyped field. */
  encode(w: BodyWriter, body: Fields, is2019: boolean): void;
}

/** A message without a body (heartbeat, queries). */
export const EMPTY_BODY: BodyCodec = {
  decode: () => ({}),
  encode: () => {},
};
