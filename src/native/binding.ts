/**
 * Loads the Rust addon (native/junction.node) and describes its raw exports. The addon is
 * optional: `--native off` or a missing build falls back to the TypeScript twins, except that
 * JUNCTION_REQUIRE_NATIVE=1 (set in CI) turns a missing addon into an error so a broken native
 * build can never pass the tests silently.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ABI version the wrappers are written against; the addon exports the one it was built with. */
export const NATIVE_ABI_VERSION = 3;

/** What --native and JUNCTION_NATIVE accept. */
export const NATIVE_MODES = ['auto', 'on', 'off'] as const;
/** How to pick the implementation: always native, never, or native when it loads. */
export type NativeMode = (typeof NATIVE_MODES)[number];

/** Opaque handle of one native trie (an N-API external); freed when collected. */
export type NativeTrieHandle = { readonly __nativeTrie: unique symbol };

/** Opaque handle of one native TCP listener (native/src/bind_tcp.rs). */
export type NativeTcpHandle = { readonly __nativeTcp: unique symbol };

/** The addon's exports (see native/src/bind_scanner.rs, bind_trie.rs, bind_fd.rs and bind_tcp.rs). */
export interface NativeBinding {
  readonly abiVersion: number;
  scanFrames(buf: Uint8Array, start: number, end: number, maxPacketSize: number, v5: boolean, out: Uint32Array): void;
  /** Does nothing: measures the N-API call overhead. */
  noop(): void;
  trieNew(cacheSize: number): NativeTrieHandle;
  trieInsert(trie: NativeTrieHandle, filter: string, id: number, options: number): boolean;
  trieRemove(trie: NativeTrieHandle, filter: string, id: number): boolean;
  /** Removes without bumping the generation or touching the cache (between begin/end bulk). */
  trieRemoveQuiet(trie: NativeTrieHandle, filter: string, id: number): boolean;
  trieBeginBulk(trie: NativeTrieHandle): void;
  trieEndBulk(trie: NativeTrieHandle, removed: number): void;
  /** Pair count; the pairs are written into `out` only when 2 * count <= out.length. */
  trieMatchInto(trie: NativeTrieHandle, topic: string, out: Int32Array): number;
  /** As trieMatchInto, for a topic given as UTF-8 bytes buf[start, end). */
  trieMatchBytesInto(trie: NativeTrieHandle, buf: Uint8Array, start: number, end: number, out: Int32Array): number;
  trieClearCache(trie: NativeTrieHandle): void;
  /** Fills out[0..5): size, cached topics, live nodes, generation low and high 32 bits. */
  trieStats(trie: NativeTrieHandle, out: Uint32Array): void;
  /** A close-on-exec duplicate of a file descriptor (native/src/bind_fd.rs). */
  dupFd(fd: number): number;
  /** Closes a descriptor made by dupFd. */
  closeFd(fd: number): void;
  /**
   * flock(fd, LOCK_EX | LOCK_NB): true when this process now holds the lock, false when another
   * does. Absent from addons built before it: callers check it is a function.
   */
  lockFd?(fd: number): boolean;
  /**
   * malloc_trim(0): the C heap's free pages go back to the kernel; false where the C library has
   * no such call (native/src/bind_memory.rs). Absent from addons built before it.
   */
  trimHeap?(): boolean;
  /**
   * Replaces this process with `path` run with `args` (NUL-separated, argv[0] first), in place:
   * execv, same process id (native/src/bind_exec.rs). Returns only by throwing. Absent from addons built before it.
   */
  execNode?(path: string, args: string): never;
  /**
   * Opens a native TCP listener (src/transports/native-tcp.ts): `onEvents(arena, count)` gets
   * [kind, id, arg] triples in `events`, the bytes read, in event order, in `arena`, and the scan
   * records of framed connections' EV_FRAMES events, block after block, in `records`.
   */
  tcpListen(
    ip: string,
    port: number,
    backlog: number,
    reusePort: boolean,
    maxConnections: number,
    announceAfterMs: number,
    acceptRate: number,
    events: Int32Array,
    records: Uint32Array,
    onEvents: (arena: Buffer, count: number) => void,
  ): NativeTcpHandle;
  tcpPort(listener: NativeTcpHandle): number;
  /**
   * Writes segment i (lens[i] bytes of the arena, consecutive) to connection ids[i], each
   * connection's segments in order in one writev; out gets [id, pending bytes or -errno] pairs;
   * returns their number.
   */
  tcpWrite(listener: NativeTcpHandle, arena: Uint8Array, ids: Int32Array, lens: Int32Array, count: number, out: Int32Array): number;
  tcpEnd(listener: NativeTcpHandle, id: number): void;
  tcpDestroy(listener: NativeTcpHandle, id: number): void;
  tcpPause(listener: NativeTcpHandle, id: number): void;
  tcpResume(listener: NativeTcpHandle, id: number): void;
  /** MQTT framing in Rust for this connection from its next read on: whole frames and their scan records (EV_FRAMES). */
  tcpFrame(listener: NativeTcpHandle, id: number, maxPacketSize: number, v5: boolean): void;
  tcpPeerAddress(listener: NativeTcpHandle, id: number): string;
  tcpPeerPort(listener: NativeTcpHandle, id: number): number;
  tcpCloseListener(listener: NativeTcpHandle): void;
  tcpOpenCount(listener: NativeTcpHandle): number;
}

/**
 * Where the addon is looked for: JUNCTION_NATIVE_PATH when set, else <repo>/native/junction.node
 * found above this file.
 */
export function nativeModulePath(): string {
  const override = process.env.JUNCTION_NATIVE_PATH;
  if (override !== undefined && override !== '') return override;
  // dist/src/native/binding.js and build/src/native/binding.js: the repository is three folders up.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'native', 'junction.node');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'native', 'junction.node');
}

let cached: { binding: NativeBinding | null; reason: string } | null = null;

function tryLoad(): { binding: NativeBinding | null; reason: string } {
  if (cached !== null) return cached;
  const path = nativeModulePath();
  try {
    const require = createRequire(import.meta.url);
    const binding = require(path) as NativeBinding;
    if (binding.abiVersion !== NATIVE_ABI_VERSION) {
      cached = { binding: null, reason: `${path} has ABI ${String(binding.abiVersion)}, expected ${NATIVE_ABI_VERSION}` };
    } else {
      cached = { binding, reason: '' };
    }
  } catch (err) {
    // First line only: require() appends its require stack, which says nothing useful here.
    const message = err instanceof Error ? err.message : String(err);
    cached = { binding: null, reason: message.split('\n')[0] };
  }
  return cached;
}

/** Why the addon did not load ('' when it did, or was not tried yet). */
export function nativeLoadFailure(): string {
  return cached?.reason ?? '';
}

/**
 * Loads the addon per `mode`: null for 'off' (and for 'auto' when it cannot load), the binding
 * otherwise; 'on' (or 'auto' with JUNCTION_REQUIRE_NATIVE=1) throws when it cannot load.
 */
export function loadNative(mode: NativeMode): NativeBinding | null {
  if (mode === 'off') return null;
  const required = mode === 'on' || process.env.JUNCTION_REQUIRE_NATIVE === '1';
  const { binding, reason } = tryLoad();
  if (binding === null && required) {
    throw new Error(`native module not loaded: ${reason}; run \`make build\` or start with --native off`);
  }
  return binding;
}
