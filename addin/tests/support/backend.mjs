// The real backend for the tests: `invitelink serve` on a free loopback port
// with a fresh database (a SQLite file; a new database on the PostgreSQL
// server that $INVITELINK_WEB_POSTGRES names, when set) and the demo data,
// and a small JSON client for it.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The demo sign-ins (docs/api.md). */
export const USERS = {
  ada: { email: 'ada@ourcompany.example', password: 'demo-ada', name: 'Ada Larsen' },
  ben: { email: 'ben@ourcompany.example', password: 'demo-ben', name: 'Ben Holm' },
  cara: { email: 'cara@ourcompany.example', password: 'demo-cara', name: 'Cara Dahl' },
  dan: { email: 'dan@ourcompany.example', password: 'demo-dan', name: 'Dan Moe' },
};

/** The backend program: $INVITELINK_BIN, else target/debug/invitelink (built by `cargo build --bin invitelink`). */
export function backendProgram() {
  return process.env.INVITELINK_BIN ?? path.join(root, 'target', 'debug', 'invitelink');
}

/**
 * Starts the backend; resolves to `{origin, output(), api(user), stop()}`.
 * It serves addin/ and pkg/ from the repository root (or
 * $INVITELINK_STATIC_ROOT). With `demo: false`, a fresh database without
 * demo data: `output()` holds the first administrator's printed password.
 */
let databasesMade = 0;

/**
 * A database of its own for one backend: a SQLite file in `dir`, or, with
 * $INVITELINK_WEB_POSTGRES (a server-level URL such as
 * `postgres://postgres@127.0.0.1:55432/postgres`), a new database made there
 * with `psql`.
 */
function freshDatabase(dir) {
  const server = process.env.INVITELINK_WEB_POSTGRES;
  if (!server) return `sqlite:${path.join(dir, 'crm.sqlite')}`;
  const name = `web_${process.pid}_${++databasesMade}`;
  execFileSync('psql', [server, '-v', 'ON_ERROR_STOP=1', '-q', '-c', `CREATE DATABASE ${name}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function startBackend({ demo = true } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'invitelink-addin-'));
  const database = freshDatabase(dir);
  const program = backendProgram();
  const args = ['serve', '--listen', '127.0.0.1:0', '--database', database];
  if (demo) args.push('--demo');
  const child = spawn(program, args, {
    cwd: process.env.INVITELINK_STATIC_ROOT ?? root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  let output = '';
  const origin = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the backend did not start in 60 s:\n${output}`)), 60_000);
    const read = (chunk) => {
      output += chunk.toString();
      const found = output.match(/listening on (https?:\/\/[0-9.]+:\d+)/);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${program}: ${e.message} (build it with \`cargo build --bin invitelink\`)`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the backend exited (${code}) before listening:\n${output}`));
    });
  });
  // Keep draining its output so it never blocks on a full pipe.
  child.stdout.on('data', () => {});
  child.stderr.on('data', () => {});
  await waitForHealth(origin);
  const tokens = new Map();
  return {
    origin,
    /** What the backend printed so far. */
    output: () => output,
    /** A JSON client signed in as one of USERS. */
    async api(user) {
      if (!tokens.has(user.email)) {
        const answer = await request(origin, 'POST', '/api/signin', null, { email: user.email, password: user.password });
        tokens.set(user.email, answer.token);
      }
      const token = tokens.get(user.email);
      return {
        get: (p) => request(origin, 'GET', p, token),
        put: (p, body) => request(origin, 'PUT', p, token, body),
        post: (p, body) => request(origin, 'POST', p, token, body),
      };
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForHealth(origin) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${origin}/health`);
      if (res.ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${origin}/health did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function request(origin, method, p, token, body) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined && body !== null) headers['content-type'] = 'application/json';
  const res = await fetch(`${origin}${p}`, { method, headers, body: body == null ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
