/**
 * Static files on 127.0.0.1 for browser tests: URL path prefix (ending in '/') -> folder, or exact path -> file;
 * `headers` go with every response (e.g. COOP/COEP, which make a page cross-origin isolated).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.map': 'application/json',
  '.wasm': 'application/wasm', '.bin': 'application/octet-stream', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.bmp': 'image/bmp',
};

export interface Site { server: Server; url: string; close(): Promise<void> }

export function serve(routes: Record<string, string>, headers: Record<string, string> = {}): Promise<Site> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const prefix = Object.keys(routes).filter((p) => path === p || (p.endsWith('/') && path.startsWith(p))).sort((a, b) => b.length - a.length)[0];
    const base = prefix === undefined ? '' : routes[prefix]!;
    const file = prefix === undefined ? '' : normalize(prefix.endsWith('/') ? join(base, path.slice(prefix.length)) : base);
    if (!file || (prefix!.endsWith('/') && !file.startsWith(normalize(base))) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'text/html' });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({
    server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  })));
}
