/**
 * The operator's ban list: client ids, usernames or addresses refused at login (MQTT 5 CONNACK
 * 0x8A Banned; each protocol says it its way), each until an expiry or for good. Kept in
 * <data-dir>/bans.json, written whole (temporary file, then rename) on every change, so bans
 * survive a restart. Asked by the gateway kit at every login, for every protocol.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AdmissionBans } from '../gateway/context.js';
import type { Logger } from '../log/logger.js';

/** What a ban names. */
export const BAN_KINDS = ['clientid', 'username', 'address'] as const;
export type BanKind = (typeof BAN_KINDS)[number];

export interface Ban {
  readonly as: BanKind;
  readonly who: string;
  /** Why, for the operators (shown by GET /bans, logged at refusals). */
  readonly reason: string;
  /** ms since the epoch */
  readonly at: number;
  /** ms since the epoch; 0 = never expires */
  readonly until: number;
}

const BANS_FILE = 'bans.json';

/** IPv4 clients of a dual-stack listener show as ::ffff:a.b.c.d; a ban on a.b.c.d covers them. */
export function normalAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export class BanList implements AdmissionBans {
  private readonly byKind: Record<BanKind, Map<string, Ban>> = { clientid: new Map(), username: new Map(), address: new Map() };
  private size = 0;

  constructor(
    /** Where bans.json lives; null keeps them in memory only. */
    private readonly dir: string | null,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads bans.json when there is one (expired bans are dropped); a broken file is logged and set aside. */
  load(): void {
    if (this.dir === null) return;
    const path = join(this.dir, BANS_FILE);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn('cannot read the ban list; starting without bans', { file: path, flag: '--data-dir', error: err });
      return;
    }
    try {
      const entries = JSON.parse(text) as unknown;
      if (!Array.isArray(entries)) throw new Error('not a JSON array');
      const now = this.now();
      for (const e of entries as Ban[]) {
        if (!BAN_KINDS.includes(e.as) || typeof e.who !== 'string' || typeof e.until !== 'number') continue;
        if (e.until !== 0 && e.until <= now) continue;
        this.set({ as: e.as, who: e.who, reason: String(e.reason ?? ''), at: Number(e.at) || now, until: e.until });
      }
    } catch (err) {
      this.log.warn('the ban list is not valid JSON; starting without bans (fix or delete the file)', { file: path, error: err });
    }
  }

  banned(clientId: string, username: string | null, from: { readonly remoteAddress: string }): string | null {
    if (this.size === 0) return null;
    const hit =
      this.live('clientid', clientId) ??
      (username === null ? undefined : this.live('username', username)) ??
      (this.byKind.address.size === 0 ? undefined : this.live('address', normalAddress(from.remoteAddress)));
    if (hit === undefined) return null;
    return `${hit.as} ${hit.who} is banned${hit.until === 0 ? '' : ` until ${new Date(hit.until).toISOString()}`}${hit.reason === '' ? '' : ` (${hit.reason})`}`;
  }

  /** Adds or replaces a ban and saves the list. */
  add(ban: Ban): void {
    this.set(ban.as === 'address' ? { ...ban, who: normalAddress(ban.who) } : ban);
    this.save();
  }

  /** Lifts a ban; false when there was none. */
  remove(as: BanKind, who: string): boolean {
    const map = this.byKind[as];
    const key = as === 'address' ? normalAddress(who) : who;
    if (!map.delete(key)) return false;
    this.size--;
    this.save();
    return true;
  }

  /** Every ban in force, oldest first. */
  list(): Ban[] {
    const out: Ban[] = [];
    for (const kind of BAN_KINDS) for (const ban of this.byKind[kind].values()) if (this.isLive(ban)) out.push(ban);
    return out.sort((a, b) => a.at - b.at);
  }

  private set(ban: Ban): void {
    const map = this.byKind[ban.as];
    if (!map.has(ban.who)) this.size++;
    map.set(ban.who, ban);
  }

  private live(kind: BanKind, who: string): Ban | undefined {
    const ban = this.byKind[kind].get(who);
    if (ban === undefined) return undefined;
    if (this.isLive(ban)) return ban;
    this.byKind[kind].delete(who);
    this.size--;
    return undefined;
  }

  private isLive(ban: Ban): boolean {
    return ban.until === 0 || ban.until > this.now();
  }

  private save(): void {
    if (this.dir === null) return;
    const path = join(this.dir, BANS_FILE);
    try {
      mkdirSync(this.dir, { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(this.list(), null, 1));
      renameSync(temporary, path);
    } catch (err) {
      this.log.warn('cannot save the ban list; it holds until the broker stops', { file: path, flag: '--data-dir', error: err });
    }
  }
}
