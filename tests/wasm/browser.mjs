// A tiny static server on loopback for the test page, and headless Chromium
// (Debian's, driven by playwright-core) to open it.

import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFile, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { here, pkgDir, shared } from './support.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
  '.ics': 'text/calendar; charset=utf-8',
  '.eml': 'message/rfc822',
};

/** URL prefixes and the folders they serve, read-only. */
const MOUNTS = [
  ['/pkg/', pkgDir],
  ['/page/', path.join(here, 'page')],
  ['/shared/', shared],
];

/** Starts the server on 127.0.0.1 with a free port; resolves to `{origin, close}`. */
export function serve() {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const mount = MOUNTS.find(([prefix]) => url.pathname.startsWith(prefix));
    const fail = (status) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(String(status));
    };
    if (req.method !== 'GET' || !mount) return fail(req.method === 'GET' ? 404 : 405);
    const [prefix, dir] = mount;
    const file = path.resolve(dir, decodeURIComponent(url.pathname.slice(prefix.length)));
    if (file !== dir && !file.startsWith(dir + path.sep)) return fail(403);
    readFile(file, (err, body) => {
      if (err) return fail(404);
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(body);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

/** Debian's Chromium, or $CHROMIUM. */
export function chromiumPath() {
  const exe = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(exe)) {
    throw new Error(`no Chromium at ${exe}: install Debian's package \`chromium\` or set CHROMIUM`);
  }
  return exe;
}

/** Headless Chromium with a fresh profile; resolves to `{context, close}`. */
export async function launchChromium() {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'invitelink-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the test page and waits until the engine is loaded. */
export async function openPage(browser, origin) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${origin}/page/index.html`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 30_000 }).catch((e) => {
    throw new Error(`the page did not load the engine: ${errors.join('; ') || e}`);
  });
  return { page, errors };
}
