/**
 * The dashboard's files (plain HTML, CSS and JavaScript in src/admin/dashboard/, no build step),
 * read once at start and served from memory. The page holds no data: it asks the API with the
 * token the operator types in, kept in the tab's sessionStorage.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { notFound, type ApiReply } from './http.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The folder of the dashboard's files: src/admin/dashboard/ of this installation. */
export function dashboardFolder(): string {
  // dist/src/admin/dashboard.js (and build/src/admin/...): the package root is three folders up.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'src', 'admin', 'dashboard');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'admin', 'dashboard');
}

export class DashboardAssets {
  private readonly files = new Map<string, { body: Buffer; type: string }>();

  /** Reads every file of `folder` with a known type; a missing folder serves a page saying so. */
  constructor(folder = dashboardFolder()) {
    let names: string[] = [];
    try {
      names = readdirSync(folder);
    } catch {
      const page = '<!doctype html><title>Junction</title><p>The dashboard files are missing from this installation (src/admin/dashboard/). The API under /api/v1 works.</p>';
      this.files.set('index.html', { body: Buffer.from(page), type: TYPES['.html']! });
      return;
    }
    for (const name of names) {
      const dot = name.lastIndexOf('.');
      const type = dot === -1 ? undefined : TYPES[name.slice(dot)];
      if (type !== undefined) this.files.set(name, { body: readFileSync(join(folder, name)), type });
    }
  }

  /** The reply for one file name; 404 for anything else. */
  reply(name: string): ApiReply {
    const file = this.files.get(name);
    if (file === undefined) throw notFound(`no such file: /${name}`);
    return { status: 200, text: file.body, contentType: file.type };
  }
}
