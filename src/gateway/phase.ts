/** Where a connection is in its life, and why its reading is stopped (see shell.ts). */

export const enum Phase {
  /** before the login frame was accepted */
  Connecting = 0,
  /** admission (authentication) is pending; reading is paused */
  Authenticating = 1,
  Online = 2,
  Closed = 3,
}

/** Why reading is stopped; several may hold at once, reading resumes when none does. */
export const enum Pause {
  Admission = 1,
  /** the publish pace (the guard's token bucket ran dry) */
  Rate = 2,
  /** the connection yielded its turn to the others */
  Turn = 4,
  /** the client does not read what we write (--max-socket-buffer) */
  Backpressure = 8,
}
