// Shared helpers of the wasm package tests: where things are, loading pkg/
// as a page would, the native CLI with the same inputs, and the inputs
// themselves (../shared/corpus, ../shared/conformance).

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
export const shared = path.resolve(root, '..', 'shared');
export const corpusDir = path.join(shared, 'corpus');
export const conformanceDir = path.join(shared, 'conformance');
export const pkgDir = process.env.INVITELINK_PKG ?? path.join(root, 'pkg');

/** The fixed "now" of every comparison, so that DTSTAMPs agree. */
export const NOW = '2026-01-15T08:30:00Z';

/** The native CLI: $INVITELINK_BIN, else the newest of target/{debug,release}/invitelink. */
export function cliPath() {
  if (process.env.INVITELINK_BIN) return process.env.INVITELINK_BIN;
  const candidates = ['debug', 'release']
    .map((p) => path.join(root, 'target', p, 'invitelink'))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (candidates.length === 0) {
    throw new Error('no native invitelink binary: run `cargo build` or set INVITELINK_BIN');
  }
  return candidates[0];
}

/** Loads pkg/ as the page would: the ES module, with the module bytes passed to init. */
export async function loadPkg() {
  const module = await import(pathToFileURL(path.join(pkgDir, 'invitelink.js')).href);
  const bytes = readFileSync(path.join(pkgDir, 'invitelink_bg.wasm'));
  await module.default({ module_or_path: bytes });
  return module;
}

/** Every `.ics` file of the corpus (the expectations folder left out), sorted. */
export function corpusFiles() {
  const out = [];
  for (const repo of readdirSync(corpusDir).sort()) {
    const dir = path.join(corpusDir, repo);
    if (repo === 'expected' || !statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.ics')) out.push(path.join(dir, name));
    }
  }
  return out;
}

/** Every conformance case: `{name, dir, operation, inputs, expect}`, sorted by name. */
export function conformanceCases() {
  return readdirSync(conformanceDir)
    .filter((name) => existsSync(path.join(conformanceDir, name, 'case.json')))
    .sort()
    .map((name) => {
      const dir = path.join(conformanceDir, name);
      const spec = JSON.parse(readFileSync(path.join(dir, 'case.json'), 'utf8'));
      return { name, dir, operation: spec.operation, inputs: spec.inputs, expect: spec.expect };
    });
}

/** The text of a file of a case, or null. */
export function caseText(c, file) {
  return file == null ? null : readFileSync(path.join(c.dir, file), 'utf8');
}

/** The contexts `decide` is compared with over the corpus. */
export const CONTEXTS = {
  arrival: {
    mailbox: 'one@example.org',
    now: NOW,
    contacts: [
      { email: 'organizer@example.org', person_id: 17, name: 'Olga Organizer', company: 'Example Org' },
      { email: 'strunk@example.org', person_id: 'p-18', name: 'Strunk', company: 'White' },
    ],
    associates: [{ email: 'one@example.org', associate_id: 1, name: 'One' }],
  },
  acceptAll: {
    mailbox: 'one@example.org',
    now: NOW,
    preferences: { incoming: 'disable_tentative', request_reply: false },
    action: { type: 'accept_all', notify: true },
  },
  disabled: {
    mailbox: 'one@example.org',
    now: NOW,
    preferences: { incoming: 'disable_all' },
    user: { import_tentative: false, synchronizer: true },
  },
};

/** A scratch folder, removed at exit. */
export function scratchDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the native CLI. */
export function cli(args) {
  const r = spawnSync(cliPath(), args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The failure object the CLI wrote on stderr. */
function cliFailure(r, what) {
  const line = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find((o) => o.type === 'failure');
  if (!line) throw new Error(`${what}: exit ${r.status} without a failure object: ${r.stderr}`);
  return line;
}

/** The CLI's answer, in the shape of the wasm answer. `ics` text is compared without trailing blanks. */
function nativeAnswer(r, what, success) {
  if (r.status !== 0) return cliFailure(r, what);
  return { type: 'success', ...success(r.stdout) };
}

let contextFiles;
function contextFile(context) {
  contextFiles ??= { dir: scratchDir('invitelink-context-'), files: new Map() };
  const json = JSON.stringify(context);
  let file = contextFiles.files.get(json);
  if (!file) {
    file = path.join(contextFiles.dir, `context-${contextFiles.files.size}.json`);
    writeFileSync(file, json);
    contextFiles.files.set(json, file);
  }
  return file;
}

let textFiles;
/** A file holding `text`, for CLI flags that take files. */
function textFile(text, name) {
  textFiles ??= scratchDir('invitelink-input-');
  const file = path.join(textFiles, `${Math.random().toString(36).slice(2)}-${name}`);
  writeFileSync(file, text);
  return file;
}

/** What the CLI answers, per operation, with the wasm call's arguments. */
export const native = {
  decide(messageFile, context) {
    const r = cli(['decide', '--message', messageFile, '--context', contextFile(context)]);
    return nativeAnswer(r, `decide ${messageFile}`, (out) => ({ decision: JSON.parse(out) }));
  },
  expand(messageFile, request = {}) {
    const args = ['expand', '--message', messageFile];
    if (request.from != null) args.push('--from', request.from);
    if (request.until != null) args.push('--until', request.until);
    if (request.max_instances != null) args.push('--max-instances', String(request.max_instances));
    if (request.horizon_days != null) args.push('--horizon-days', String(request.horizon_days));
    const r = cli(args);
    return nativeAnswer(r, `expand ${messageFile}`, (out) => ({
      occurrences: JSON.parse(out),
      limited: r.stderr.includes('"recurrence_limit"'),
    }));
  },
  itipProcess(messageFile, request) {
    const args = ['itip', 'process', '--message', messageFile];
    if (request.existing != null) args.push('--existing', textFile(request.existing, 'existing.ics'));
    if (request.sender != null) args.push('--sender', request.sender);
    const r = cli(args);
    return nativeAnswer(r, `itip process ${messageFile}`, (out) =>
      out.trimStart().startsWith('{') ? JSON.parse(out) : { ics: out },
    );
  },
  itipSchedule(request) {
    const args = ['itip', 'schedule'];
    if (request.old != null) args.push('--old', textFile(request.old, 'old.ics'));
    if (request.new != null) args.push('--new', textFile(request.new, 'new.ics'));
    for (const u of request.user) args.push('--user', u);
    if (request.now != null) args.push('--now', request.now);
    if (request.rsvp != null) args.push('--rsvp', String(request.rsvp));
    const r = cli(args);
    return nativeAnswer(r, 'itip schedule', (out) => ({ messages: JSON.parse(out) }));
  },
  itipReply(invitationFile, request) {
    const args = ['itip', 'reply', '--invitation', invitationFile, '--attendee', request.attendee];
    args.push('--partstat', request.partstat);
    if (request.now != null) args.push('--now', request.now);
    const r = cli(args);
    return nativeAnswer(r, `itip reply ${invitationFile}`, (out) => ({ ics: out }));
  },
};

/** A value with the keys of every object sorted, so that JSON texts compare as data. */
function sorted(value) {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted(value[k])]));
  }
  return value;
}

/**
 * The JSON text an answer is compared by: keys sorted (the CLI writes its
 * failure objects with sorted keys), and the top-level `ics` without
 * trailing blanks (the CLI prints iCalendar with one final newline).
 */
export function canonical(answer) {
  if (answer && typeof answer.ics === 'string') answer = { ...answer, ics: answer.ics.trimEnd() };
  return JSON.stringify(sorted(answer), null, 1);
}

/** The conformance inputs of a `process` case, as the wasm call takes them. */
export function processInputs(c) {
  return {
    messageFile: path.join(c.dir, c.inputs.message),
    request: { existing: caseText(c, c.inputs.existing), sender: c.inputs.sender ?? null },
  };
}

/** The conformance inputs of a `schedule` case, as the wasm call takes them. */
export function scheduleRequest(c) {
  return { old: caseText(c, c.inputs.old), new: caseText(c, c.inputs.new), user: c.inputs.user, now: NOW };
}

/** The first `ATTENDEE` address of an iCalendar text (unfolded), or null. */
export function firstAttendee(ics) {
  const unfolded = ics.replace(/\r?\n[ \t]/g, '');
  const m = /^ATTENDEE[^:\n]*:([^\r\n]+)/im.exec(unfolded);
  return m ? m[1].trim() : null;
}

/**
 * The attacker's table (tests/fixtures/forged/table.json, also run natively
 * by tests/forged.rs): rows with the message text, the context (the table's
 * base, the row's fields over it, the stored copy) and what is expected.
 */
export function forgedTable() {
  const dir = path.join(root, 'tests', 'fixtures', 'forged');
  const table = JSON.parse(readFileSync(path.join(dir, 'table.json'), 'utf8'));
  const read = (name) => readFileSync(path.join(dir, 'messages', name), 'utf8');
  return table.cases.map((row) => {
    const context = { ...table.context, ...(row.context ?? {}) };
    if (row.existing) context.existing = read(row.existing);
    return { name: row.name, text: read(row.message), context, expect: row.expect };
  });
}

/** What is wrong with a wasm answer to one row of the attacker's table (empty: as expected). */
export function forgedProblems(row, answer) {
  const { expect } = row;
  if (expect.error) {
    return answer.type === 'failure' && answer.errors[0].code === expect.error
      ? []
      : [`expected error ${expect.error}, got ${JSON.stringify(answer)}`];
  }
  if (answer.type !== 'success') return [`unexpected failure ${JSON.stringify(answer)}`];
  const d = answer.decision;
  const problems = [];
  if (d.ignored !== expect.ignored) problems.push(`ignored: got ${d.ignored}, expected ${expect.ignored}`);
  const types = d.effects.map((e) => e.type);
  if (JSON.stringify(types) !== JSON.stringify(expect.effects)) {
    problems.push(`effects: got ${JSON.stringify(types)}, expected ${JSON.stringify(expect.effects)}`);
  }
  if (expect.contact != null) {
    const created = d.effects.find((e) => e.type === 'create_appointment');
    if (created?.contact?.person_id !== expect.contact) problems.push(`not linked to person ${expect.contact}`);
  }
  if (expect.warning && !d.warnings.some((w) => w.includes(expect.warning))) {
    problems.push(`no warning contains "${expect.warning}"`);
  }
  return problems;
}

/**
 * Invitations whose calendar part is in another encoding than UTF-8 (and
 * headers with encoded words): `{ name, bytes, summary }`, where `summary`
 * is the meeting's title as it must be read. Natively encoding_rs decodes
 * them, in wasm the host's `TextDecoder`; both follow the WHATWG standard.
 */
export function charsetMails() {
  const ascii = (text) => Buffer.from(text, 'latin1');
  const bytes = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? ascii(p) : Buffer.from(p))));
  const calendar = (summary) =>
    bytes(
      'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//charset test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n',
      'UID:charset-', Buffer.from(summary.name), '@example.org\r\nDTSTAMP:20260110T090000Z\r\nSEQUENCE:0\r\n',
      'DTSTART:20260120T090000Z\r\nDTEND:20260120T100000Z\r\nSUMMARY:', summary.bytes, '\r\n',
      'ORGANIZER;CN=Olga Organizer:mailto:organizer@example.org\r\n',
      'ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:one@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n',
    );
  const mail = ({ name, contentType, encoding, body, subject = 'Invitation', from = 'Olga Organizer <organizer@example.org>' }) => {
    let payload = body;
    if (encoding === 'base64') payload = ascii(body.toString('base64').replace(/.{1,76}/g, '$&\r\n'));
    if (encoding === 'quoted-printable') {
      payload = ascii([...body].map((b) => (b >= 33 && b <= 126 && b !== 61) || b === 10 || b === 13 || b === 32 ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
    }
    return bytes(
      `From: ${from}\r\nTo: one@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${name}@example.org>\r\nMIME-Version: 1.0\r\n`,
      'Content-Type: multipart/alternative; boundary="=_b"\r\n\r\n--=_b\r\nContent-Type: text/plain\r\n\r\nSee the invitation.\r\n--=_b\r\n',
      `Content-Type: ${contentType}\r\n`,
      encoding ? `Content-Transfer-Encoding: ${encoding}\r\n` : '',
      '\r\n', payload, '\r\n--=_b--\r\n',
    );
  };
  const cases = [
    // name, charset label, SUMMARY bytes, the text they are, transfer encoding
    ['windows-1252', 'windows-1252', [0x43, 0x61, 0x66, 0xe9, 0x20, 0x96, 0x20, 0x80, 0x31, 0x30, 0x30], 'Café – €100', 'quoted-printable'],
    ['latin2', 'ISO-8859-2', [0x50, 0x6c, 0x61, 0x6e, 0x20, 0xa3, 0xf3, 0x64, 0xbc], 'Plan Łódź', 'base64'],
    ['koi8-r', 'koi8-r', [0xf7, 0xd3, 0xd4, 0xd2, 0xc5, 0xde, 0xc1], 'Встреча', '8bit'],
    // Bytes on which Node's single-byte decoders differ from the standard.
    ['koi8-u', 'koi8-u', [0xae, 0xbe], 'ўЎ', 'base64'],
    ['windows-1255', 'windows-1255', [0xca, 0xf9], '\u05ba\u05e9', 'base64'],
    ['ibm866', 'cp866', [0x80, 0x7f], 'А\x7f', 'base64'],
    ['shift-jis', 'Shift_JIS', [0x82, 0xa0, 0xb1], 'あｱ', 'base64'],
    ['iso-2022-jp', 'iso-2022-jp', [0x1b, 0x24, 0x42, 0x24, 0x22, 0x1b, 0x28, 0x42, 0x21], 'あ!', '7bit'],
    ['gb18030', 'gb18030', [0xd6, 0xd0], '中', 'base64'],
    ['big5', 'big5', [0xa4, 0xa4], '中', 'base64'],
    ['euc-kr', 'euc-kr', [0xc7, 0xd1], '한', 'base64'],
    ['x-user-defined', 'x-user-defined', [0x41, 0x80, 0xff], 'A\uf780\uf7ff', 'base64'],
    ['us-ascii-utf8', 'us-ascii', [...Buffer.from('Möte')], 'Möte', '8bit'],
    ['no-charset-utf8', null, [...Buffer.from('Möte')], 'Möte', 'quoted-printable'],
    ['unknown-label', 'no-such-charset', [...Buffer.from('Möte')], 'Möte', '8bit'],
  ];
  const out = cases.map(([name, label, summaryBytes, summary, encoding]) => ({
    name,
    summary,
    bytes: mail({
      name,
      contentType: `text/calendar; method=REQUEST${label ? `; charset="${label}"` : ''}`,
      encoding,
      body: calendar({ name, bytes: summaryBytes }),
    }),
  }));
  // UTF-16 with its byte order mark and no label; headers in encoded words.
  const latin1Calendar = calendar({ name: 'utf-16', bytes: [...Buffer.from('Möte', 'latin1')] }).toString('latin1');
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(latin1Calendar, 'utf16le')]);
  out.push({ name: 'utf-16-bom', summary: 'Möte', bytes: mail({ name: 'utf-16-bom', contentType: 'application/ics; name="invite.ics"', encoding: 'base64', body: utf16 }) });
  out.push({
    name: 'encoded-words',
    summary: 'Möte',
    bytes: mail({
      name: 'encoded-words',
      contentType: 'text/calendar; method=REQUEST; charset=utf-8',
      encoding: '8bit',
      body: calendar({ name: 'encoded-words', bytes: [...Buffer.from('Möte')] }),
      subject: '=?iso-2022-jp?B?GyRCJCIbKEI=?= =?ISO-8859-1?Q?J=F6rg?=',
      from: '=?koi8-r?B?98PU0sXewQ==?= <Organizer@Example.org>',
    }),
  });
  return out;
}
