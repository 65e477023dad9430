// Figures of the wasm package (printed, never asserted):
//   size of the .wasm (raw, gzip), cold instantiate in Node and Chromium,
//   `decide` throughput over ../shared/corpus next to ical.js merely parsing
//   the same files, `expand` next to ical.js expanding them, and the native
//   CLI's `invitelink check` on the same files with the same context.
//
// Usage: node bench.mjs [--rounds N] [--no-browser]
// The native figure uses $INVITELINK_BIN, else target/release/invitelink
// (build it with `cargo build --release`), else the debug build (slow).
//
// Throughput is given twice: wall-clock (best pass of N), and, where `perf`
// works, as CPU cycles per pass counted by `perf stat -e cycles:u` as the
// difference between a run with few passes and one with more (so start-up,
// compilation and warm-up cancel out). Cycles do not count the time other
// programs take from the machine, so the ratios hold on a busy machine.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import ICAL from 'ical.js';
import { CONTEXTS, corpusDir, corpusFiles, here, loadPkg, pkgDir, root, scratchDir } from './support.mjs';

const argv = process.argv.slice(2);
const ROUNDS = Number(argv[argv.indexOf('--rounds') + 1]) || 9;
const BROWSER = !argv.includes('--no-browser');
const INNER = argv.indexOf('--inner');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const ms = (x) => `${x.toFixed(2)} ms`;
const mbps = (bytes, millis) => (bytes / 1e6 / (millis / 1000)).toFixed(1);

/**
 * Runs `fn` over every input `rounds` times; the best time of one full
 * pass, in ms (the least disturbed by other work on the machine). Passes for at least half a second first, so that both
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
  return Math.min(...times);
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

/** How many times one `check` run decides the corpus: one pass takes a few milliseconds, too short to time alone. */
const NATIVE_PASSES = 20;

/**
 * `invitelink check` over the corpus with the same context, the corpus named
 * NATIVE_PASSES times in one run (warm, as the wasm passes are); its own MB/s
 * (decide time only), best of the rounds.
 */
function nativeCheck(context) {
  const { bin, build } = nativeBinary();
  const file = path.join(scratchDir('invitelink-bench-'), 'context.json');
  writeFileSync(file, JSON.stringify(context));
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    const args = ['check', '--context', file, ...Array(NATIVE_PASSES).fill(corpusDir)];
    const out = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
    const last = out.stdout.trim().split('\n').pop();
    rates.push(JSON.parse(last).summary.mb_per_s);
  }
  return { build, mbps: Math.max(...rates) };
}

// --- work that `perf` counts, run in a child process ------------------------

/** The inputs: all corpus files, those ical.js reads, and those it also expands (computed once, when asked). */
const sets = {
  get all() {
    return (this._all ??= corpusFiles().map((f) => {
      const bytes = readFileSync(f);
      return { file: f, bytes: new Uint8Array(bytes), text: bytes.toString('utf8') };
    }));
  },
  get parseable() {
    return (this._parseable ??= usable(this.all, (i) => icaljsParse(i.text)));
  },
  get expandable() {
    return (this._expandable ??= usable(this.parseable, (i) => icaljsExpand(i.text)));
  },
};

/** Named workloads: the input set and the work for one input. */
function workload(il, name) {
  const context = CONTEXTS.arrival;
  switch (name) {
    case 'wasm-decide':
      return [sets.all, (i) => il.decide(i.bytes, context)];
    case 'wasm-decide-parseable':
      return [sets.parseable, (i) => il.decide(i.bytes, context)];
    case 'icaljs-parse':
      return [sets.parseable, (i) => icaljsParse(i.text)];
    case 'wasm-expand':
      return [sets.expandable, (i) => il.expand(i.bytes, {})];
    case 'icaljs-expand':
      return [sets.expandable, (i) => icaljsExpand(i.text)];
    default:
      throw new Error(`unknown workload ${name}`);
  }
}

if (INNER >= 0) {
  const [name, passes] = [argv[INNER + 1], Number(argv[INNER + 2])];
  const [inputs, fn] = workload(await loadPkg(), name);
  for (let r = 0; r < 10 + passes; r++) for (const input of inputs) fn(input);
  process.exit(0);
}

/** User-mode cycles of a command, by `perf stat`; null when perf cannot count. */
function cycles(command, args) {
  const r = spawnSync('perf', ['stat', '-x', ',', '-e', 'cycles:u', command, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const line = (r.stderr ?? '').split('\n').find((l) => l.includes('cycles:u'));
  const n = Number(line?.split(',')[0]);
  return r.status === 0 && Number.isFinite(n) && n > 0 ? n : null;
}

/** Cycles of one pass of a command that does `k` passes: the median of 3 differences of `many` and `few` passes. */
function cyclesPerPass(command, argsFor, few, many) {
  const diffs = [];
  for (let i = 0; i < 3; i++) {
    const a = cycles(command, argsFor(few));
    const b = cycles(command, argsFor(many));
    if (a === null || b === null) return null;
    diffs.push((b - a) / (many - few));
  }
  return median(diffs);
}

// --- the report ------------------------------------------------------------

const il = await loadPkg();
const bytesOf = (inputs) => inputs.reduce((n, i) => n + i.bytes.length, 0);
const context = CONTEXTS.arrival;

const s = sizes();
console.log(`invitelink ${il.version()} wasm package`);
console.log(
  `size: invitelink_bg.wasm ${kib(s.wasmRaw)} raw, ${kib(s.wasmGzip)} gzip -9 (target <= 200 KiB); invitelink.js ${kib(s.jsRaw)}`,
);

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

// Wall clock, best pass.
const wall = {};
for (const name of ['wasm-decide', 'wasm-decide-parseable', 'icaljs-parse', 'wasm-expand', 'icaljs-expand']) {
  const [inputs, fn] = workload(il, name);
  wall[name] = timePasses(inputs, fn);
}
const all = bytesOf(sets.all);
const parseBytes = bytesOf(sets.parseable);
const count = (inputs, f) => inputs.reduce((n, i) => n + f(i), 0);
const wasmOccurrences = count(sets.expandable, (i) => il.expand(i.bytes, {}).occurrences?.length ?? 0);
const icalOccurrences = count(sets.expandable, (i) => icaljsExpand(i.text));
console.log(`wall clock (best of ${ROUNDS} passes):`);
console.log(`  decide (wasm), all ${sets.all.length} files, ${(all / 1e6).toFixed(2)} MB: ${ms(wall['wasm-decide'])}, ${mbps(all, wall['wasm-decide'])} MB/s`);
console.log(
  `  the ${sets.parseable.length} files ical.js reads: decide ${mbps(parseBytes, wall['wasm-decide-parseable'])} MB/s, ` +
    `ical.js parse only ${mbps(parseBytes, wall['icaljs-parse'])} MB/s: ` +
    `${(wall['icaljs-parse'] / wall['wasm-decide-parseable']).toFixed(2)}x (target >= 3x)`,
);
console.log(
  `  expand, the ${sets.expandable.length} files ical.js expands: wasm ${ms(wall['wasm-expand'])} (${wasmOccurrences} occurrences), ` +
    `ical.js ${ms(wall['icaljs-expand'])} (${icalOccurrences}): ${(wall['icaljs-expand'] / wall['wasm-expand']).toFixed(1)}x (target >= 30x)`,
);
const native = nativeCheck(context);
console.log(
  `  native \`invitelink check\` (${native.build}), same files and context, decide only: ${native.mbps.toFixed(1)} MB/s; ` +
    `wasm decide and its JS answer ${mbps(all, wall['wasm-decide'])} MB/s: ` +
    `${(native.mbps / Number(mbps(all, wall['wasm-decide']))).toFixed(2)}x (target <= 1.5x)`,
);

// CPU cycles, where perf counts them.
// Node runs single-threaded here, so that V8's background compilation and
// garbage collection are counted with the work that causes them.
const self = path.join(here, 'bench.mjs');
const PASSES = { 'wasm-decide': 100, 'wasm-decide-parseable': 100, 'icaljs-parse': 40, 'wasm-expand': 40, 'icaljs-expand': 8 };
const perPass = {};
for (const [name, many] of Object.entries(PASSES)) {
  const args = (k) => ['--single-threaded', self, '--inner', name, String(k)];
  perPass[name] = cyclesPerPass(process.execPath, args, 2, 2 + many);
  if (perPass[name] === null) break;
}
if (Object.values(perPass).some((v) => v === null)) {
  console.log('cycles: not measured (`perf stat -e cycles:u` does not count here)');
} else {
  const { bin, build } = nativeBinary();
  const file = path.join(scratchDir('invitelink-bench-'), 'context.json');
  writeFileSync(file, JSON.stringify(context));
  // `check` over the corpus named k times: k passes of reading, deciding and printing a line per file.
  const nativePass = cyclesPerPass(bin, (k) => ['check', '--context', file, ...Array(k).fill(corpusDir)], 2, 202);
  const mc = (n) => `${(n / 1e6).toFixed(1)} M`;
  console.log('CPU cycles per pass (perf stat, median of 3 differences between few and many passes):');
  console.log(
    `  decide: ${mc(perPass['wasm-decide-parseable'])} vs ical.js parse ${mc(perPass['icaljs-parse'])}: ` +
      `${(perPass['icaljs-parse'] / perPass['wasm-decide-parseable']).toFixed(2)}x (target >= 3x)`,
  );
  console.log(
    `  expand: ${mc(perPass['wasm-expand'])} vs ical.js ${mc(perPass['icaljs-expand'])}: ` +
      `${(perPass['icaljs-expand'] / perPass['wasm-expand']).toFixed(1)}x (target >= 30x)`,
  );
  if (nativePass !== null) {
    console.log(
      `  all files: wasm decide ${mc(perPass['wasm-decide'])}, native check (${build}, reading, deciding, printing) ` +
        `${mc(nativePass)}: wasm/native ${(perPass['wasm-decide'] / nativePass).toFixed(2)}x (target <= 1.5x)`,
    );
  }
}
