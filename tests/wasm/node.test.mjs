// The wasm package in Node: every corpus file and every conformance case
// gives the same JSON as the native CLI, and bad input is a failure object,
// never an exception.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  CONTEXTS,
  NOW,
  canonical,
  caseText,
  charsetMails,
  conformanceCases,
  corpusFiles,
  firstAttendee,
  forgedProblems,
  forgedTable,
  loadPkg,
  native,
  pkgDir,
  processInputs,
  scheduleRequest,
  scratchDir,
} from './support.mjs';

const il = await loadPkg();
const files = corpusFiles();
const cases = conformanceCases();

function same(wasmAnswer, nativeAnswer, what) {
  assert.equal(canonical(wasmAnswer), canonical(nativeAnswer), what);
}

test('the package has the files and the manifest npm needs', () => {
  const manifest = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  assert.equal(manifest.name, 'invitelink');
  assert.equal(manifest.version, il.version());
  assert.equal(manifest.type, 'module');
  for (const f of manifest.files) assert.ok(readdirSync(pkgDir).includes(f), `${f} is in pkg/`);
  for (const key of ['main', 'module', 'types']) {
    assert.ok(readdirSync(pkgDir).includes(manifest[key].replace('./', '')), `${key} exists`);
  }
});

test('npm accepts the package and packs exactly its files', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkgDir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [packed] = JSON.parse(r.stdout);
  assert.equal(packed.name, 'invitelink');
  assert.deepEqual(packed.files.map((f) => f.path).sort(), [
    'README.md',
    'invitelink.d.ts',
    'invitelink.js',
    'invitelink_bg.wasm',
    'invitelink_bg.wasm.d.ts',
    'package.json',
  ]);
});

test('version is the crate version', () => {
  assert.match(il.version(), /^\d+\.\d+\.\d+/);
});

test('the corpus and the conformance suite are there', () => {
  assert.ok(files.length >= 70, `${files.length} corpus files`);
  assert.ok(cases.length >= 80, `${cases.length} conformance cases`);
});

test('the attacker\'s table: forged messages change nothing, the controls apply', () => {
  const rows = forgedTable();
  assert.ok(rows.length >= 40, `${rows.length} rows`);
  const failures = [];
  for (const row of rows) {
    const problems = forgedProblems(row, il.decide(new TextEncoder().encode(row.text), row.context));
    if (problems.length) failures.push(`${row.name}: ${problems.join('; ')}`);
  }
  assert.deepEqual(failures, []);
});

test('decide over the corpus equals the CLI, for each context', () => {
  let successes = 0;
  for (const [name, context] of Object.entries(CONTEXTS)) {
    for (const file of files) {
      const bytes = readFileSync(file);
      const answer = il.decide(bytes, context);
      same(answer, native.decide(file, context), `decide ${file} (${name})`);
      if (answer.type === 'success') successes++;
    }
  }
  assert.ok(successes > files.length, `${successes} decisions`);
});

test('e-mails in other encodings decide as the CLI does, with the title as written', () => {
  const dir = scratchDir('invitelink-charsets-');
  for (const mail of charsetMails()) {
    const file = path.join(dir, `${mail.name}.eml`);
    writeFileSync(file, mail.bytes);
    const answer = il.decide(new Uint8Array(mail.bytes), CONTEXTS.arrival);
    same(answer, native.decide(file, CONTEXTS.arrival), `decide ${mail.name}`);
    assert.equal(answer.type, 'success', mail.name);
    const created = answer.decision.effects.find((e) => e.type === 'create_appointment');
    assert.equal(created?.summary, mail.summary, mail.name);
  }
});

test('a message given as text decides as the same bytes do', () => {
  for (const file of files.slice(0, 20)) {
    const bytes = readFileSync(file);
    const text = bytes.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(bytes)) {
      same(il.decide(text, CONTEXTS.arrival), il.decide(new Uint8Array(bytes), CONTEXTS.arrival), file);
    }
  }
});

test('expand over the corpus equals the CLI', () => {
  let occurrences = 0;
  for (const file of files) {
    const answer = il.expand(readFileSync(file), {});
    same(answer, native.expand(file), `expand ${file}`);
    if (answer.type === 'success') occurrences += answer.occurrences.length;
  }
  assert.ok(occurrences > 1000, `${occurrences} occurrences`);
});

test('expand with a window and limits equals the CLI', () => {
  const request = { from: '2007-01-01', until: '2008-01-01T00:00:00Z', max_instances: 50, horizon_days: 400 };
  for (const file of files) {
    same(il.expand(readFileSync(file), request), native.expand(file, request), `expand ${file} in a window`);
  }
});

test('itipProcess over the conformance cases equals the CLI', () => {
  const processCases = cases.filter((c) => c.operation === 'process');
  assert.ok(processCases.length >= 20);
  for (const c of processCases) {
    const { messageFile, request } = processInputs(c);
    same(il.itipProcess(readFileSync(messageFile), request), native.itipProcess(messageFile, request), c.name);
    // Without a sender, the default applies on both sides.
    const anonymous = { existing: request.existing };
    same(il.itipProcess(readFileSync(messageFile), anonymous), native.itipProcess(messageFile, anonymous), c.name);
  }
});

test('itipSchedule over the conformance cases equals the CLI', () => {
  const scheduleCases = cases.filter((c) => c.operation === 'schedule');
  assert.ok(scheduleCases.length >= 40);
  let messages = 0;
  for (const c of scheduleCases) {
    const request = scheduleRequest(c);
    const answer = il.itipSchedule(request);
    same(answer, native.itipSchedule(request), c.name);
    if (answer.type === 'success') messages += answer.messages.length;
    for (const rsvp of [true, false]) {
      same(il.itipSchedule({ ...request, rsvp }), native.itipSchedule({ ...request, rsvp }), `${c.name} rsvp=${rsvp}`);
    }
  }
  assert.ok(messages > 20, `${messages} messages`);
});

test('itipReply to the conformance invitations equals the CLI', () => {
  let replies = 0;
  for (const c of cases.filter((c) => c.operation === 'schedule' && c.inputs.new)) {
    const file = path.join(c.dir, c.inputs.new);
    const attendee = firstAttendee(caseText(c, c.inputs.new));
    if (!attendee) continue;
    for (const partstat of ['ACCEPTED', 'TENTATIVE', 'DECLINED']) {
      const request = { attendee, partstat, now: NOW };
      const answer = il.itipReply(readFileSync(file), request);
      same(answer, native.itipReply(file, request), `${c.name} ${partstat}`);
      if (answer.type === 'success') replies++;
    }
  }
  assert.ok(replies > 20, `${replies} replies`);
});

// Bad input: each failure code reachable from JS, the same as the CLI's where a file can say it.

const EVENT = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//invitelink tests//EN',
  'METHOD:REQUEST',
  'BEGIN:VEVENT',
  'UID:wasm-failure-1',
  'DTSTAMP:20260101T000000Z',
  'DTSTART:20260201T090000Z',
  'DTEND:20260201T100000Z',
  'ORGANIZER:mailto:organizer@example.org',
  'ATTENDEE:mailto:one@example.org',
  'SUMMARY:Failures',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

const BAD_MESSAGES = {
  parse_error: 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nthis line has no colon\r\n',
  no_calendar_part:
    'From: Olga <organizer@example.org>\r\nTo: one@example.org\r\nSubject: lunch\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n\r\nNo calendar in here.\r\n',
  no_event: 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n',
  missing_uid: EVENT.replace('UID:wasm-failure-1\r\n', ''),
  too_large: EVENT.replace('SUMMARY:Failures', `DESCRIPTION:${'x'.repeat(1024 * 1024)}`),
};

test('each bad message is the failure code the CLI gives', () => {
  const dir = scratchDir('invitelink-bad-');
  for (const [code, text] of Object.entries(BAD_MESSAGES)) {
    const file = path.join(dir, `${code}.${code === 'no_calendar_part' ? 'eml' : 'ics'}`);
    writeFileSync(file, text);
    for (const message of [text, new TextEncoder().encode(text)]) {
      const answers = {
        decide: [il.decide(message, CONTEXTS.arrival), native.decide(file, CONTEXTS.arrival)],
        expand: [il.expand(message, {}), native.expand(file)],
        itipProcess: [il.itipProcess(message, {}), native.itipProcess(file, {})],
        itipReply: [
          il.itipReply(message, { attendee: 'mailto:one@example.org', partstat: 'ACCEPTED', now: NOW }),
          native.itipReply(file, { attendee: 'mailto:one@example.org', partstat: 'ACCEPTED', now: NOW }),
        ],
      };
      for (const [op, [wasmAnswer, nativeAnswer]] of Object.entries(answers)) {
        same(wasmAnswer, nativeAnswer, `${op} ${code}`);
        // Expansion lists what there is (an event without UID too), and iTIP
        // ignores a calendar without events as unsupported.
        if ((code === 'no_event' || code === 'missing_uid') && op === 'expand') continue;
        if (code === 'no_event' && op === 'itipProcess') continue;
        assert.equal(wasmAnswer.type, 'failure', `${op} ${code}`);
        assert.equal(wasmAnswer.errors[0].code, code, `${op} ${code}: ${JSON.stringify(wasmAnswer)}`);
      }
    }
  }
});

test('bad values, refused actions and broken scheduling objects are failures as in the CLI', () => {
  const dir = scratchDir('invitelink-codes-');
  const file = path.join(dir, 'event.ics');
  writeFileSync(file, EVENT);
  const organizer = ['mailto:organizer@example.org'];
  const refused = { mailbox: 'one@example.org', now: NOW, preferences: { incoming: 'disable_all' }, action: { type: 'accept' } };
  const checks = [
    ['invalid_value', il.expand(EVENT, { from: 'yesterday' }), native.expand(file, { from: 'yesterday' })],
    ['invalid_value', il.itipSchedule({ new: EVENT, user: organizer, now: 'soon' }), native.itipSchedule({ new: EVENT, user: organizer, now: 'soon' })],
    [
      'invalid_value',
      il.itipReply(EVENT, { attendee: 'mailto:one@example.org', partstat: 'ACCEPTED', now: 'later' }),
      native.itipReply(file, { attendee: 'mailto:one@example.org', partstat: 'ACCEPTED', now: 'later' }),
    ],
    ['action_disabled', il.decide(EVENT, refused), native.decide(file, refused)],
  ];
  const broken = cases.filter((c) => c.operation === 'schedule' && c.expect?.error);
  assert.ok(broken.length >= 2);
  for (const c of broken) {
    const request = scheduleRequest(c);
    checks.push(['invalid_scheduling_object', il.itipSchedule(request), native.itipSchedule(request)]);
  }
  for (const [code, wasmAnswer, nativeAnswer] of checks) {
    assert.equal(wasmAnswer.errors?.[0].code, code, JSON.stringify(wasmAnswer));
    same(wasmAnswer, nativeAnswer, code);
  }
});

test('a message over the e-mail limit is too_large before it is copied', () => {
  const huge = new Uint8Array(10 * 1024 * 1024 + 1);
  for (const message of [huge, 'x'.repeat(huge.length)]) {
    for (const answer of [il.decide(message, CONTEXTS.arrival), il.expand(message, {}), il.itipProcess(message, {})]) {
      assert.equal(answer.type, 'failure');
      assert.equal(answer.errors[0].code, 'too_large', JSON.stringify(answer));
    }
  }
});

test('a malformed context is invalid_context', () => {
  const contexts = [
    {},
    { mailbox: '' },
    { mailbox: 42 },
    { mailbox: 'one@example.org', now: 'tomorrow' },
    { mailbox: 'one@example.org', preferences: { incoming: 'sometimes' } },
    { mailbox: 'one@example.org', user: { import_tentative: 'yes' } },
    { mailbox: 'one@example.org', contacts: [{ person_id: 3 }] },
    { mailbox: 'one@example.org', action: { type: 'maybe' } },
  ];
  const dir = scratchDir('invitelink-ctx-');
  const file = path.join(dir, 'event.ics');
  writeFileSync(file, EVENT);
  for (const context of contexts) {
    const answer = il.decide(EVENT, context);
    assert.equal(answer.type, 'failure', JSON.stringify(context));
    assert.equal(answer.errors[0].code, 'invalid_context', JSON.stringify(answer));
    assert.equal(native.decide(file, context).errors[0].code, 'invalid_context', JSON.stringify(context));
  }
  const bad = il.itipSchedule({ user: 'one@example.org' });
  assert.equal(bad.errors?.[0].code, 'invalid_context', JSON.stringify(bad));
  const window = il.expand(EVENT, { max_instances: -1 });
  assert.equal(window.errors?.[0].code, 'invalid_context', JSON.stringify(window));
});

test('a wrong JS type for any argument is a failure object, never an exception', () => {
  const wrongAnywhere = [undefined, null, 42, true, [], () => EVENT, Symbol('x'), 10n];
  const wrongMessages = [...wrongAnywhere, ['BEGIN:VCALENDAR'], { text: EVENT }, new ArrayBuffer(8)];
  const wrongRequests = [...wrongAnywhere, 'one@example.org', [{ mailbox: 'one@example.org' }]];
  const show = (v) => (typeof v === 'symbol' ? 'a symbol' : typeof v === 'bigint' ? `${v}n` : JSON.stringify(v));
  const reply = { attendee: 'mailto:one@example.org', partstat: 'ACCEPTED' };
  const calls = [
    ...wrongMessages.flatMap((v) => [
      [`decide(${show(v)}, context)`, () => il.decide(v, CONTEXTS.arrival)],
      [`expand(${show(v)}, {})`, () => il.expand(v, {})],
      [`itipProcess(${show(v)}, {})`, () => il.itipProcess(v, {})],
      [`itipReply(${show(v)}, request)`, () => il.itipReply(v, reply)],
    ]),
    ...wrongRequests.flatMap((v) => [
      [`decide(event, ${show(v)})`, () => il.decide(EVENT, v)],
      [`expand(event, ${show(v)})`, () => il.expand(EVENT, v)],
      [`itipProcess(event, ${show(v)})`, () => il.itipProcess(EVENT, v)],
      [`itipSchedule(${show(v)})`, () => il.itipSchedule(v)],
      [`itipReply(event, ${show(v)})`, () => il.itipReply(EVENT, v)],
    ]),
  ];
  for (const [what, call] of calls) {
    const answer = call();
    assert.equal(answer.type, 'failure', what);
    assert.equal(answer.errors.length, 1, what);
    assert.equal(answer.errors[0].code, 'invalid_context', `${what}: ${JSON.stringify(answer)}`);
    assert.equal(typeof answer.errors[0].message, 'string', what);
    assert.equal(answer.errors[0].line, null, what);
  }
  // Fields of the wrong type inside a request, too.
  for (const request of [{ existing: 7 }, { sender: ['a'] }]) {
    assert.equal(il.itipProcess(EVENT, request).errors?.[0].code, 'invalid_context', JSON.stringify(request));
  }
  assert.equal(il.itipSchedule({ user: [1] }).errors?.[0].code, 'invalid_context');
  assert.equal(il.expand(EVENT, { from: 20260101 }).errors?.[0].code, 'invalid_context');
  // Objects JSON cannot write: a cycle, a BigInt field.
  const cyclic = { ...CONTEXTS.arrival };
  cyclic.self = cyclic;
  for (const context of [cyclic, { ...CONTEXTS.arrival, now: 10n }]) {
    const answer = il.decide(EVENT, context);
    assert.equal(answer.errors?.[0].code, 'invalid_context', JSON.stringify(answer));
    assert.match(answer.errors[0].message, /cannot be written as JSON/);
  }
});

test('the module keeps working after many failures and large inputs', () => {
  for (let i = 0; i < 200; i++) {
    il.decide(BAD_MESSAGES.too_large, CONTEXTS.arrival);
    il.decide(i, null);
  }
  const answer = il.decide(EVENT, CONTEXTS.arrival);
  assert.equal(answer.type, 'success', JSON.stringify(answer));
});

test('the module memory stays bounded over many decisions of every size', async () => {
  // Initializing again gives the running instance's exports (its memory).
  const exports = await il.default({ module_or_path: readFileSync(path.join(pkgDir, 'invitelink_bg.wasm')) });
  const mib = () => exports.memory.buffer.byteLength / 1024 / 1024;
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 300; i++) {
    // An invitation with a description of up to 900 KB, the stored copy and
    // the answer of about twice that: a leak of a tenth of them would pass 64 MiB.
    const description = `DESCRIPTION:${'x'.repeat(Math.floor(next() * 900_000))}`;
    const answer = il.decide(EVENT.replace('SUMMARY:', `${description}\r\nSUMMARY:`), CONTEXTS.arrival);
    assert.equal(answer.type, 'success', JSON.stringify(answer).slice(0, 300));
  }
  assert.ok(mib() < 64, `the module holds ${mib().toFixed(1)} MiB after 300 decisions`);
});

test('rebuildCalendar builds the meeting Outlook shows, and decide takes it as an invitation', () => {
  const item = {
    kind: 'request',
    subject: 'Updated: Site visit',
    location: 'Plant',
    start: '2026-12-08T12:00:00.000Z',
    end: '2026-12-08T13:30:00.000Z',
    created: '2026-12-01T08:00:00.000Z',
    organizer: { email: 'Organizer@Example.org', name: 'Olga Organizer' },
    from: { email: 'organizer@example.org', name: 'Olga Organizer' },
    to: [{ email: 'one@example.org', name: 'One' }],
    cc: [],
    required: [],
    optional: [],
    itemClass: 'IPM.Schedule.Meeting.Request',
  };
  const built = il.rebuildCalendar({ item, user: { email: 'one@example.org', name: 'One' }, now: NOW });
  assert.equal(built.type, 'success', JSON.stringify(built));
  // The UID rule of src/rebuild.rs: SHA-256 of the organizer's address and the base subject.
  assert.match(built.text, /\r\nUID:outlook-[0-9a-f]{32}@invitelink\r\n/);
  assert.match(built.text, /\r\nSUMMARY:Site visit\r\n/);
  const decided = il.decide(built.text, CONTEXTS.arrival);
  assert.equal(decided.type, 'success', JSON.stringify(decided));
  assert.equal(decided.decision.kind, 'invitation', JSON.stringify(decided.decision));
  const cancelled = il.rebuildCalendar({ item: { ...item, kind: 'cancel', subject: 'Canceled: SITE VISIT' }, user: {}, now: NOW });
  assert.equal(cancelled.text.match(/UID:.*/)[0], built.text.match(/UID:.*/)[0], 'the cancellation finds the request');
  const email = il.rebuildEmail({ item: { ...item, kind: null, messageId: '<m-1@example.org>' }, now: NOW, body: 'Hello\nthere' });
  assert.equal(email.type, 'success');
  assert.match(email.text, /^From: "Olga Organizer" <organizer@example.org>\r\n/);
  assert.match(email.text, /\r\n\r\nHello\r\nthere\r\n$/);
  for (const bad of [{ item: { ...item, start: null }, now: NOW }, { item: { ...item, created: null }, now: 'soon' }, { item }, 'x', null]) {
    const answer = il.rebuildCalendar(bad);
    assert.equal(answer.type, 'failure', JSON.stringify(bad));
    assert.equal(answer.errors[0].code, 'invalid_context', JSON.stringify(answer));
  }
});
