/**
 * Loads uWebSockets.js and makes sure it is the native build. Its entry point (src/uws.js)
 * requires binaries/uws_<platform>_<arch>_<abi>.node and, when that throws (or
 * UWS_USE_FALLBACK is set), silently returns a slow JavaScript imitation built on `ws`
 * instead. We recognise the native one by identity: it is the module object Node cached under
 * that binary's path.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';

/** The uWebSockets.js module (types from its docs/index.d.ts). */
export type Uws = typeof import('uWebSockets.js');

const require = createRequire(import.meta.url);
let loaded: { uws: Uws; binary: string } | null = null;

/** Path of the native binary the entry point tries for this platform and Node.js ABI. */
function uwsBinaryPath(): string {
  const entry = require.resolve('uWebSockets.js');
  return join(dirname(entry), '..', 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
}

/** Whether `uws` is the native module rather than the JavaScript fallback. */
export function isNativeUws(uws: unknown): boolean {
  const cached = require.cache[uwsBinaryPath()];
  return cached !== undefined && cached.exports === uws;
}

/**
 * Loads the native uWebSockets.js; throws ConfigError explaining why when only the fallback
 * loads, naming who needs it and the flags that turn them off.
 */
export function loadNativeUws(who = 'WebSocket listeners', flags = '--ws-port and --wss-port'): { uws: Uws; binary: string } {
  if (loaded !== null) return loaded;
  let uws: Uws;
  let binary: string;
  try {
    binary = uwsBinaryPath();
    uws = require('uWebSockets.js') as Uws;
  } catch (err) {
    throw new ConfigError(`${who} need uWebSockets.js, which is not installed (${(err as Error).message}); leave ${flags} off or run npm install`);
  }
  if (!isNativeUws(uws)) {
    const why = process.env['UWS_USE_FALLBACK'] ? 'UWS_USE_FALLBACK is set' : `${binary} is missing or does not load in Node.js ${process.version}`;
    throw new ConfigError(
      `${who} need the native uWebSockets.js, but it fell back to its slow JavaScript implementation (${why}); ` + `install uWebSockets.js built for this platform and Node.js, or leave ${flags} off`,
    );
  }
  loaded = { uws, binary };
  return loaded;
}
