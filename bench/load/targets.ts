/**
 * Where each generator client connects and from which local address: --hosts x --ports give the
 * targets (several nodes of a cluster, or several processes sharing a port), --source-addresses
 * the local addresses. Ephemeral ports are allocated per source address (32768-60999 by default,
 * ~28k each), so 100,000 connections from one machine need several source addresses.
 */

import net from 'node:net';
import { ConfigError } from '../../src/errors.js';

/** One broker endpoint a client connects to. */
export interface Target {
  readonly host: string;
  readonly port: number;
}

/** Most source addresses one run spreads over. */
const MAX_SOURCES = 1024;

/** The transport's standard port when --port is 0. */
export function standardPort(transport: string): number {
  return transport === 'tls' ? 8883 : transport === 'ws' ? 8083 : 1883;
}

function list(raw: string, flag: string): string[] {
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new ConfigError(`--${flag} has an empty item (got "${raw}")`);
  return items;
}

/** The hosts of --hosts, or --host alone; throws ConfigError naming the flag. */
export function parseHosts(hosts: string | undefined, host: string): string[] {
  return hosts === undefined ? [host] : list(hosts, 'hosts');
}

/** The ports of --ports, or --port alone (0 = the transport's standard port). */
export function parsePorts(ports: string | undefined, port: number, transport: string): number[] {
  if (ports === undefined) return [port !== 0 ? port : standardPort(transport)];
  return list(ports, 'ports').map((p) => {
    const n = /^\d+$/.test(p) ? Number(p) : Number.NaN;
    if (!(n >= 1 && n <= 65535)) throw new ConfigError(`--ports must list ports between 1 and 65535 (got "${p}")`);
    return n;
  });
}

/** Every host x port, host-major: clients are spread over them round robin. */
export function targetsOf(o: { hosts: string | undefined; host: string; ports: string | undefined; port: number; transport: string }): Target[] {
  const ports = parsePorts(o.ports, o.port, o.transport);
  return parseHosts(o.hosts, o.host).flatMap((host) => ports.map((port) => ({ host, port })));
}

function ipv4ToInt(text: string, raw: string): number {
  if (net.isIPv4(text)) return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  throw new ConfigError(`--source-addresses: "${text}" is not an IPv4 address (got "${raw}")`);
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * The local addresses of --source-addresses: N = 127.0.0.1..127.0.0.N (used only when every
 * target is a loopback address, 1 = let the kernel choose), or a list of addresses and A-B ranges
 * ("127.0.0.2-127.0.0.9", "10.0.0.5,10.0.0.6"), always used. [] = the kernel chooses.
 */
export function sourceAddressesOf(raw: string, targets: readonly Target[]): string[] {
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n < 1 || n > 254) throw new ConfigError(`--source-addresses must be a count between 1 and 254, or addresses and A-B ranges (got "${raw}")`);
    const loopback = targets.every((t) => /^127\./.test(t.host));
    return loopback && n > 1 ? Array.from({ length: n }, (_, i) => `127.0.0.${i + 1}`) : [];
  }
  const out: string[] = [];
  for (const item of list(raw, 'source-addresses')) {
    const dash = item.indexOf('-');
    if (dash < 0) {
      ipv4ToInt(item, raw);
      out.push(item);
      continue;
    }
    const from = ipv4ToInt(item.slice(0, dash), raw);
    const to = ipv4ToInt(item.slice(dash + 1), raw);
    if (to < from) throw new ConfigError(`--source-addresses: range "${item}" ends before it starts`);
    if (out.length + (to - from + 1) > MAX_SOURCES) throw new ConfigError(`--source-addresses: at most ${MAX_SOURCES} addresses (got "${raw}")`);
    for (let n = from; n <= to; n++) out.push(intToIpv4(n));
  }
  if (out.length > MAX_SOURCES) throw new ConfigError(`--source-addresses: at most ${MAX_SOURCES} addresses (got "${raw}")`);
  return out;
}

/** Where one client connects from and to. */
export interface Placement {
  readonly target: Target;
  readonly source: string | undefined;
  /** Bound explicitly (--local-port-base); undefined = the kernel picks one. */
  readonly localPort: number | undefined;
}

/**
 * Client `index` (of its role; `serial` over every role) goes to targets[index % T] from
 * sources[(serial / T) % S], so every target x source pair gets an equal share even when T and S
 * have a common divisor. With a port base, its local port is the base plus its rank among the
 * clients of its source: each bind is then O(1), where bind(address, 0) searches the port range,
 * slower and slower as it fills (tens of thousands of connections per address).
 */
export function placeClient(index: number, serial: number, targets: readonly Target[], sources: readonly string[], portBase: number): Placement {
  const t = targets.length;
  const s = Math.max(1, sources.length);
  return {
    target: targets[index % t]!,
    source: sources.length === 0 ? undefined : sources[Math.floor(serial / t) % s],
    localPort: portBase === 0 ? undefined : portBase + Math.floor(serial / (t * s)) * t + (serial % t),
  };
}

/** Local ports --local-port-base needs per source address for `clients` clients. */
export function localPortsNeeded(clients: number, targets: number, sources: number): number {
  const s = Math.max(1, sources);
  return Math.ceil(clients / (targets * s)) * targets;
}
