// Parses every `.ics` file of a directory with ical.js (the version
// pinned for bench.mjs, in package.json), as `invitelink
// check` reads the same files: each read as UTF-8 text and parsed whole.
// `cargo xtask bench` times this whole process beside `invitelink check`.
//
//   node tests/wasm/icaljs-parse.mjs <dir>
//
// Prints one JSON line: files, bytes, how many ical.js refused, and the
// seconds spent parsing (reading excluded).

import ICAL from 'ical.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node icaljs-parse.mjs <dir>');
  process.exit(2);
}
const names = readdirSync(dir).filter((n) => n.endsWith('.ics')).sort();
let bytes = 0;
let refused = 0;
let events = 0;
let parsing = 0n;
for (const name of names) {
  const text = readFileSync(join(dir, name), 'utf8');
  bytes += Buffer.byteLength(text);
  const start = process.hrtime.bigint();
  try {
    const calendar = new ICAL.Component(ICAL.parse(text));
    events += calendar.getAllSubcomponents('vevent').length;
  } catch {
    refused += 1;
  }
  parsing += process.hrtime.bigint() - start;
}
console.log(JSON.stringify({ files: names.length, bytes, refused, events, seconds_parse: Number(parsing) / 1e9 }));
