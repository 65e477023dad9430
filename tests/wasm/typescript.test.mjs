// The package's .d.ts: it type-checks against a usage file with `tsc
// --noEmit`, its exports name our own types (no `any`), and real answers of
// the engine are values of those types (excess fields are errors too).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  CONTEXTS,
  NOW,
  caseText,
  conformanceCases,
  corpusFiles,
  firstAttendee,
  here,
  loadPkg,
  pkgDir,
  processInputs,
  root,
  scheduleRequest,
} from './support.mjs';

const tsc = path.join(here, 'node_modules', 'typescript', 'bin', 'tsc');

function typeCheck(project) {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', project], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

test('the .d.ts declares every export with our own types, never `any`', () => {
  const dts = readFileSync(path.join(pkgDir, 'invitelink.d.ts'), 'utf8');
  const expected = {
    decide: 'export function decide(message: MessageInput, context: Context): DecideAnswer;',
    itipProcess: 'export function itipProcess(message: MessageInput, request: ProcessRequest): ProcessAnswer;',
    itipSchedule: 'export function itipSchedule(request: ScheduleRequest): ScheduleAnswer;',
    itipReply: 'export function itipReply(invitation: MessageInput, request: ReplyRequest): ReplyAnswer;',
    expand: 'export function expand(message: MessageInput, request: ExpandRequest): ExpandAnswer;',
    version: 'export function version(): string;',
  };
  for (const [name, signature] of Object.entries(expected)) {
    assert.ok(dts.includes(signature), `${name}: ${signature}`);
  }
  const ours = dts.slice(0, dts.indexOf('export type InitInput'));
  assert.doesNotMatch(ours, /\bany\b/, 'no `any` in the declarations of the package');
});

test('the closed vocabularies of the .d.ts list every code of the engine', () => {
  const dts = readFileSync(path.join(pkgDir, 'invitelink.d.ts'), 'utf8');
  const union = (name) => {
    const m = new RegExp(`export type ${name} =([^;]*);`).exec(dts);
    assert.ok(m, `${name} is declared`);
    return new Set([...m[1].matchAll(/"([a-z_]+)"/g)].map((x) => x[1]));
  };
  const codes = (file) => {
    const rust = readFileSync(path.join(root, 'src', file), 'utf8');
    return [...rust.matchAll(/=> "([a-z_]+)",/g)].map((x) => x[1]);
  };
  for (const [type, file] of [
    ['ErrorCode', 'error.rs'],
    ['Ignored', 'outcome.rs'],
  ]) {
    const declared = union(type);
    const engine = codes(file);
    assert.ok(engine.length >= 10, `codes of ${file}`);
    assert.deepEqual([...declared].sort(), [...new Set(engine)].sort(), `${type} lists the codes of src/${file}`);
  }
});

test('the usage file type-checks against the .d.ts', () => {
  const { ok, output } = typeCheck(path.join(here, 'tsconfig.json'));
  assert.ok(ok, output);
});

/** Long texts cut short and long lists sampled: the values keep their types. */
function trim(value) {
  if (typeof value === 'string') return value.length > 120 ? value.slice(0, 120) : value;
  if (Array.isArray(value)) return value.slice(0, 4).map(trim);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, trim(v)]));
  return value;
}

test('real answers of the engine are values of the declared types', async () => {
  const il = await loadPkg();
  const files = corpusFiles();
  const cases = conformanceCases();
  const samples = { DecideAnswer: [], ExpandAnswer: [], ProcessAnswer: [], ScheduleAnswer: [], ReplyAnswer: [] };
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const context of Object.values(CONTEXTS)) samples.DecideAnswer.push(il.decide(bytes, context));
    samples.ExpandAnswer.push(il.expand(bytes, {}));
  }
  for (const c of cases) {
    if (c.operation === 'process') {
      const { messageFile, request } = processInputs(c);
      samples.ProcessAnswer.push(il.itipProcess(readFileSync(messageFile), request));
    } else if (c.operation === 'schedule') {
      samples.ScheduleAnswer.push(il.itipSchedule(scheduleRequest(c)));
      const attendee = c.inputs.new && firstAttendee(caseText(c, c.inputs.new));
      if (attendee) {
        samples.ReplyAnswer.push(il.itipReply(caseText(c, c.inputs.new), { attendee, partstat: 'TENTATIVE', now: NOW }));
      }
    }
  }
  samples.DecideAnswer.push(il.decide(42, CONTEXTS.arrival), il.decide('', CONTEXTS.arrival));
  const dir = path.join(root, 'tests', 'artifacts', 'wasm-types');
  mkdirSync(dir, { recursive: true });
  const lines = [
    `import type { ${Object.keys(samples).join(', ')} } from ${JSON.stringify(path.relative(dir, path.join(pkgDir, 'invitelink.js')))};`,
  ];
  for (const [type, values] of Object.entries(samples)) {
    lines.push(`export const ${type}Samples: ${type}[] = ${JSON.stringify(values.map(trim), null, 1)};`);
  }
  writeFileSync(path.join(dir, 'samples.ts'), lines.join('\n\n') + '\n');
  const config = JSON.parse(readFileSync(path.join(here, 'tsconfig.json'), 'utf8'));
  config.files = ['samples.ts'];
  config.compilerOptions.noUnusedLocals = false;
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config, null, 2));
  const { ok, output } = typeCheck(path.join(dir, 'tsconfig.json'));
  assert.ok(ok, output.slice(0, 4000));
});
