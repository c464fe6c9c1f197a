/**
 * CPU time and memory of the broker process, read from /proc (Linux), and finding that process
 * from the port it listens on when --broker-pid is not given.
 */

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times: 100 on every Linux build Node supports. */
const CLOCK_TICKS = 100;

/** One reading of a process. */
export interface ProcSample {
  /** User + system CPU time in microseconds. */
  cpuMicros: number;
  rssBytes: number;
  /** Highest RSS so far (VmHWM). */
  peakRssBytes: number;
}

/** Reads CPU and memory of `pid`; undefined when the process is gone or /proc is absent. */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { cpuMicros: (ticks * 1e6) / CLOCK_TICKS, rssBytes: statusKiB(status, 'VmRSS') * 1024, peakRssBytes: statusKiB(status, 'VmHWM') * 1024 };
  } catch {
    return undefined;
  }
}

/**
 * Milliseconds the hypervisor has kept CPU `cpu` from running this machine's work (the steal
 * column of /proc/stat) since boot; NaN when not told (no /proc, no such CPU). On a shared virtual
 * machine a busy core loses time this way that no code of ours can win back.
 */
export function stealMs(cpu: number): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`cpu${cpu} `));
    if (line === undefined) return NaN;
    // cpuN user nice system idle iowait irq softirq steal ...
    const steal = Number(line.trim().split(/\s+/)[8]);
    return (steal * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** Resident set size of `pid` in bytes (VmRSS); throws when the process is gone. */
export function rssOf(pid: number): number {
  const kib = statusKiB(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
  if (kib === 0) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return kib * 1024;
}

function statusKiB(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match === null ? 0 : Number(match[1]);
}

/** The command line of `pid` as one string, or '' when unreadable. */
export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** The process listening on TCP `port` (any address), or 0 when it cannot be found (not ours, not local). */
export function findListeningPid(port: number): number {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex, st 0A = LISTEN, inode is column 9.
      if (cols.length < 10 || cols[3] !== '0A') continue;
      const localPort = parseInt(cols[1]!.split(':')[1] ?? '', 16);
      if (localPort === port) inodes.add(cols[9]!);
    }
  }
  if (inodes.size === 0) return 0;
  const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return 0;
}
