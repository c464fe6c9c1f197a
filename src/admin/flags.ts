/** Flags of the admin listener (JSON API, metrics, dashboard) and of presence: the AdminOptions part of StartOptions. */
import { PORT_OFF, type FlagDef } from '../config/flags.js';

export interface AdminOptions {
  /** PORT_OFF = no admin listener */
  adminPort: number;
  adminHost: string;
  /** File holding the bearer token; undefined = a token generated into <data-dir>/admin-token (loopback only). */
  adminTokenFile: string | undefined;
  /** Largest request body the API reads, in bytes. */
  adminMaxBody: number;
  /** Retain an online/offline status per client under $SYS/brokers/{node}/presence/{clientid}. */
  presence: boolean;
}

/** Rows for --help, parsing and the config file. */
export const ADMIN_FLAGS: readonly FlagDef<keyof AdminOptions>[] = [
  {
    name: 'admin-port',
    key: 'adminPort',
    kind: 'port',
    group: 'Administration',
    default: PORT_OFF,
    help: 'HTTP admin listener: JSON API under /api/v1, Prometheus /metrics, the dashboard at /, /healthz and /readyz (EMQX uses 18083)',
  },
  {
    name: 'admin-host',
    key: 'adminHost',
    kind: 'string',
    group: 'Administration',
    default: '127.0.0.1',
    valueName: 'ADDRESS',
    help: 'address of the admin listener; anything but loopback needs --admin-token-file',
  },
  {
    name: 'admin-token-file',
    key: 'adminTokenFile',
    kind: 'path',
    group: 'Administration',
    default: undefined,
    defaultText: '<data-dir>/admin-token, generated (loopback only)',
    valueName: 'FILE',
    help: 'file whose first line is the bearer token every admin request must carry (Authorization: Bearer TOKEN); re-read on reload',
  },
  {
    name: 'admin-max-body',
    key: 'adminMaxBody',
    kind: 'size',
    group: 'Administration',
    default: 1024 * 1024,
    min: 1024,
    max: 256 * 1024 * 1024,
    help: 'largest admin request body (a POST /api/v1/publish payload); larger ones get 413',
  },
  {
    name: 'presence',
    key: 'presence',
    kind: 'bool',
    group: 'Administration',
    default: false,
    help: 'retain {"online":true|false} per client at $SYS/brokers/{node}/presence/{clientid}, so a late subscriber knows who is online',
  },
];
