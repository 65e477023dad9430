// Figures of the wasm package (printed, never asserted):
//   size of the .wasm (raw, gzip), cold instantiate in Node and Chromium,
//   `decide` throughput over ../shared/corpus next to ical.js merely parsing
//   the same files, `expand` next to ical.js expanding them, and the native
//   CLI's `invitelink check` on the same files with the same context.
//
// Usage: node bench.mjs [--rounds N] [--no-browser]
// The native figure uses $INVITELINK_BIN, else target/release/invitelink
// (build it with `cargo build --release`), else the debug build (slow).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import ICAL from 'ical.js';
import { CONTEXTS, corpusDir, corpusFiles, loadPkg, pkgDir, root, scratchDir } from './support.mjs';

const argv = process.argv.slice(2);
const ROUNDS = Number(argv[argv.indexOf('--rounds') + 1]) || 5;
const BROWSER = !argv.includes('--no-browser');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const ms = (x) => `${x.toFixed(2)} ms`;
const mbps = (bytes, millis) => (bytes / 1e6 / (millis / 1000)).toFixed(1);

/**
 * Runs `fn` over every input `rounds` times; the median time of one full
 * pass, in ms. Passes for at least half a second first, so that both
 * engines' optimizing compilers have tiered up (V8 starts wasm in its
 * baseline compiler, as it starts JS in its interpreter).
 */
function timePasses(inputs, fn, rounds = ROUNDS) {
  const warm = performance.now();
  do {
    for (const input of inputs) fn(input);
  } while (performance.now() - warm < 500);
  const times = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (const input of inputs) fn(input);
    times.push(performance.now() - t0);
  }
  return median(times);
}

// --- ical.js, used the way the corpus expectations were produced ---------

function icaljsParse(text) {
  return ICAL.parse(text);
}

/** Occurrences of every VEVENT in [earliest DTSTART, +730 days), at most 1000 per series. */
function icaljsExpand(text) {
  const parsed = ICAL.parse(text);
  const roots = Array.isArray(parsed[0]) ? parsed : [parsed];
  let count = 0;
  for (const jcal of roots) {
    const calendar = new ICAL.Component(jcal);
    ICAL.TimezoneService.reset();
    for (const vtz of calendar.getAllSubcomponents('vtimezone')) {
      ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
    }
    const vevents = calendar.getAllSubcomponents('vevent');
    const starts = vevents.map((e) => e.getFirstPropertyValue('dtstart')).filter(Boolean);
    if (starts.length === 0) continue;
    const from = Math.min(...starts.map((s) => s.toUnixTime()));
    const until = from + 730 * 86400;
    const byUid = new Map();
    for (const e of vevents) {
      const uid = e.getFirstPropertyValue('uid') ?? '';
      if (!byUid.has(uid)) byUid.set(uid, { master: null, exceptions: [] });
      if (e.hasProperty('recurrence-id')) byUid.get(uid).exceptions.push(e);
      else byUid.get(uid).master ??= e;
    }
    for (const { master, exceptions } of byUid.values()) {
      if (!master) {
        count += exceptions.length;
        continue;
      }
      const event = new ICAL.Event(master, { strictExceptions: true, exceptions });
      if (!event.isRecurring()) {
        count++;
        continue;
      }
      const it = event.iterator();
      for (let n = 0, next; n < 1000 && (next = it.next()); n++) {
        if (next.toUnixTime() >= until) break;
        const details = event.getOccurrenceDetails(next);
        if (details.endDate.toUnixTime() > from) count++;
      }
    }
  }
  return count;
}

/** `fn` over the inputs it can handle; the others are reported and left out. */
function usable(inputs, fn) {
  const ok = [];
  for (const input of inputs) {
    try {
      fn(input);
      ok.push(input);
    } catch {
      // ical.js refuses some of the deliberately broken files.
    }
  }
  return ok;
}

// --- measurements ----------------------------------------------------------

function sizes() {
  const wasm = readFileSync(path.join(pkgDir, 'invitelink_bg.wasm'));
  const js = readFileSync(path.join(pkgDir, 'invitelink.js'));
  return { wasmRaw: wasm.length, wasmGzip: gzipSync(wasm, { level: 9 }).length, jsRaw: js.length };
}

/**
 * Cold start in fresh Node processes, as a page would (import, then init with
 * the bytes), and with `initSync`. The async `init` checks `typeof Request`,
 * which makes Node 20 load its fetch implementation first.
 */
function nodeInstantiate(runs = 7) {
  const jsUrl = new URL(`file://${path.join(pkgDir, 'invitelink.js')}`).href;
  const wasmPath = JSON.stringify(path.join(pkgDir, 'invitelink_bg.wasm'));
  const script = (how) => `
    const { readFileSync } = await import('node:fs');
    const m = await import(${JSON.stringify(jsUrl)});
    const bytes = readFileSync(${wasmPath});
    const t0 = performance.now();
    ${how === 'async' ? 'await m.default({ module_or_path: bytes });' : 'm.initSync({ module: bytes });'}
    const t1 = performance.now();
    m.version();
    const t2 = performance.now();
    typeof Request;
    console.log(JSON.stringify({ init: t1 - t0, fetchGlobals: performance.now() - t2 }));`;
  const measure = (how) => {
    const results = [];
    for (let i = 0; i < runs; i++) {
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script(how)], { encoding: 'utf8' });
      results.push(JSON.parse(out));
    }
    return median(results.map((r) => r.init));
  };
  const fetchGlobals = (() => {
    const out = execFileSync(process.execPath, ['-e', 'const t=performance.now(); typeof Request; console.log(performance.now()-t)'], {
      encoding: 'utf8',
    });
    return Number(out);
  })();
  return { async: measure('async'), sync: measure('sync'), fetchGlobals };
}

/** Chromium: the page's own `init()` (streaming from loopback), then fetch, compile and instantiate apart. */
async function chromiumInstantiate(runs = 5) {
  const { launchChromium, openPage, serve } = await import('./browser.mjs');
  const server = await serve();
  const browser = await launchChromium();
  try {
    const rows = [];
    for (let i = 0; i < runs; i++) {
      const { page } = await openPage(browser, server.origin);
      const streaming = await page.evaluate(() => window.instantiateMs);
      const parts = await page.evaluate(async (n) => {
        const t0 = performance.now();
        const bytes = await (await fetch('/pkg/invitelink_bg.wasm')).arrayBuffer();
        const t1 = performance.now();
        const module = await WebAssembly.compile(bytes);
        const t2 = performance.now();
        const glue = await import(`/pkg/invitelink.js?fresh=${n}`);
        const t3 = performance.now();
        await glue.default({ module_or_path: module });
        const t4 = performance.now();
        return { fetch: t1 - t0, compile: t2 - t1, instantiate: t4 - t3 };
      }, i);
      rows.push({ streaming, ...parts });
      await page.close();
    }
    const pick = (k) => median(rows.map((r) => r[k]));
    return { streaming: pick('streaming'), fetch: pick('fetch'), compile: pick('compile'), instantiate: pick('instantiate') };
  } finally {
    await browser.close();
    await server.close();
  }
}

function nativeBinary() {
  if (process.env.INVITELINK_BIN) return { bin: process.env.INVITELINK_BIN, build: 'given' };
  const release = path.join(root, 'target', 'release', 'invitelink');
  if (existsSync(release)) return { bin: release, build: 'release' };
  return { bin: path.join(root, 'target', 'debug', 'invitelink'), build: 'debug (slow: build --release)' };
}

/** `invitelink check` over the corpus with the same context; its own MB/s (decide time only). */
function nativeCheck(context) {
  const { bin, build } = nativeBinary();
  const file = path.join(scratchDir('invitelink-bench-'), 'context.json');
  writeFileSync(file, JSON.stringify(context));
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    const out = spawnSync(bin, ['check', '--context', file, corpusDir], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const last = out.stdout.trim().split('\n').pop();
    rates.push(JSON.parse(last).summary.mb_per_s);
  }
  return { build, mbps: median(rates) };
}

// --- the report ------------------------------------------------------------

const il = await loadPkg();
const files = corpusFiles();
const inputs = files.map((f) => {
  const bytes = readFileSync(f);
  return { file: f, bytes: new Uint8Array(bytes), text: bytes.toString('utf8') };
});
const totalBytes = inputs.reduce((n, i) => n + i.bytes.length, 0);
const context = CONTEXTS.arrival;

const s = sizes();
console.log(`invitelink ${il.version()} wasm package`);
console.log(`size: invitelink_bg.wasm ${kib(s.wasmRaw)} raw, ${kib(s.wasmGzip)} gzip -9 (target <= 200 KiB); invitelink.js ${kib(s.jsRaw)}`);

const cold = nodeInstantiate();
console.log(
  `cold instantiate, Node ${process.versions.node}: initSync ${ms(cold.sync)}; async init ${ms(cold.async)}, ` +
    `of which Node's first \`typeof Request\` (loading its fetch) ~${ms(cold.fetchGlobals)} (target < 10 ms)`,
);
if (BROWSER) {
  try {
    const c = await chromiumInstantiate();
    console.log(
      `cold instantiate, Chromium: init() streaming from loopback ${ms(c.streaming)}; apart: fetch ${ms(c.fetch)}, ` +
        `compile ${ms(c.compile)}, instantiate ${ms(c.instantiate)} (target < 10 ms)`,
    );
  } catch (e) {
    console.log(`cold instantiate, Chromium: not measured (${e.message})`);
  }
}

const decideMs = timePasses(inputs, (i) => il.decide(i.bytes, context));
const parseable = usable(inputs, (i) => icaljsParse(i.text));
const parseBytes = parseable.reduce((n, i) => n + i.bytes.length, 0);
const parseMs = timePasses(parseable, (i) => icaljsParse(i.text));
const decideOnParseable = timePasses(parseable, (i) => il.decide(i.bytes, context));
console.log(
  `decide (wasm), ${files.length} files, ${(totalBytes / 1e6).toFixed(2)} MB: ${ms(decideMs)} per pass, ${mbps(totalBytes, decideMs)} MB/s`,
);
console.log(
  `ical.js parse only, the ${parseable.length} files it reads: ${mbps(parseBytes, parseMs)} MB/s; ` +
    `decide on the same files ${mbps(parseBytes, decideOnParseable)} MB/s: ` +
    `${(parseMs / decideOnParseable).toFixed(2)}x ical.js (target >= 3x)`,
);

const expandable = usable(parseable, (i) => icaljsExpand(i.text));
const wasmOccurrences = expandable.reduce((n, i) => n + (il.expand(i.bytes, {}).occurrences?.length ?? 0), 0);
const icalOccurrences = expandable.reduce((n, i) => n + icaljsExpand(i.text), 0);
const expandMs = timePasses(expandable, (i) => il.expand(i.bytes, {}));
const icalExpandMs = timePasses(expandable, (i) => icaljsExpand(i.text));
console.log(
  `expand, the ${expandable.length} files ical.js expands: wasm ${ms(expandMs)} (${wasmOccurrences} occurrences), ` +
    `ical.js ${ms(icalExpandMs)} (${icalOccurrences}): ${(icalExpandMs / expandMs).toFixed(1)}x (target >= 30x)`,
);

const native = nativeCheck(context);
const wasmMbps = Number(mbps(totalBytes, decideMs));
console.log(
  `native \`invitelink check\` (${native.build}), same files and context: ${native.mbps.toFixed(1)} MB/s; ` +
    `wasm ${wasmMbps} MB/s: native/wasm ${(native.mbps / wasmMbps).toFixed(2)}x (target <= 1.5x)`,
);
