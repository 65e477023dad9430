// The wasm package in headless Chromium: the page imports pkg/invitelink.js
// (which fetches its .wasm as application/wasm from a loopback server) and
// answers a sample of the corpus and of the conformance cases exactly as
// the native CLI does.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { launchChromium, openPage, serve } from './browser.mjs';
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
  native,
  processInputs,
  scheduleRequest,
  scratchDir,
  shared,
} from './support.mjs';

/** Every `step`-th item. */
const every = (items, step) => items.filter((_, i) => i % step === 0);

/** The URL under which the test server serves a file of ../shared. */
const sharedUrl = (file) => `/shared/${path.relative(shared, file).split(path.sep).map(encodeURIComponent).join('/')}`;

/** The sample: jobs for the page with the native answers computed beforehand. */
function sample() {
  const jobs = [];
  for (const file of every(corpusFiles(), 6)) {
    const message = { url: sharedUrl(file) };
    jobs.push({ what: `decide ${file}`, op: 'decide', message, request: CONTEXTS.arrival, expected: native.decide(file, CONTEXTS.arrival) });
    jobs.push({ what: `expand ${file}`, op: 'expand', message, request: {}, expected: native.expand(file) });
  }
  const charsets = scratchDir('invitelink-charsets-');
  for (const mail of charsetMails()) {
    const file = path.join(charsets, `${mail.name}.eml`);
    writeFileSync(file, mail.bytes);
    const message = { bytes: [...mail.bytes] };
    jobs.push({ what: `decide ${mail.name}`, op: 'decide', message, request: CONTEXTS.arrival, expected: native.decide(file, CONTEXTS.arrival) });
  }
  const cases = conformanceCases();
  for (const c of every(cases.filter((c) => c.operation === 'process'), 3)) {
    const { messageFile, request } = processInputs(c);
    const message = { url: sharedUrl(messageFile) };
    jobs.push({ what: c.name, op: 'itipProcess', message, request, expected: native.itipProcess(messageFile, request) });
  }
  for (const c of every(cases.filter((c) => c.operation === 'schedule'), 4)) {
    const request = scheduleRequest(c);
    jobs.push({ what: c.name, op: 'itipSchedule', request, expected: native.itipSchedule(request) });
    const attendee = c.inputs.new && firstAttendee(caseText(c, c.inputs.new));
    if (attendee) {
      const file = path.join(c.dir, c.inputs.new);
      const reply = { attendee, partstat: 'DECLINED', now: NOW };
      jobs.push({
        what: `reply ${c.name}`,
        op: 'itipReply',
        message: { text: caseText(c, c.inputs.new) },
        request: reply,
        expected: native.itipReply(file, reply),
      });
    }
  }
  return jobs;
}

let server;
let browser;
let page;
let pageErrors;

before(async () => {
  server = await serve();
  browser = await launchChromium();
  ({ page, errors: pageErrors } = await openPage(browser, server.origin));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('the page loads the package and reports its version', async (t) => {
  const version = await page.evaluate(() => window.runJob({ op: 'version' }));
  assert.match(version, /^\d+\.\d+\.\d+/);
  const ms = await page.evaluate(() => window.instantiateMs);
  t.diagnostic(`Chromium: fetch + compile + instantiate ${ms.toFixed(1)} ms`);
});

test('a sample of the corpus and the conformance cases equals the CLI in Chromium', async () => {
  const jobs = sample();
  assert.ok(jobs.length >= 40, `${jobs.length} jobs`);
  for (const { what, expected, ...job } of jobs) {
    const answer = await page.evaluate((j) => window.runJob(j), job);
    assert.equal(canonical(answer), canonical(expected), what);
  }
  assert.deepEqual(pageErrors, []);
});

test('the attacker\'s table in Chromium: forged messages change nothing, the controls apply', async () => {
  const rows = forgedTable();
  const failures = [];
  for (const row of rows) {
    const answer = await page.evaluate((j) => window.runJob(j), { op: 'decide', message: { text: row.text }, request: row.context });
    const problems = forgedProblems(row, answer);
    if (problems.length) failures.push(`${row.name}: ${problems.join('; ')}`);
  }
  assert.deepEqual(failures, []);
});

test('bad input in Chromium is a failure object, never an exception', async () => {
  const answers = await page.evaluate(() =>
    Promise.all([
      window.runJob({ op: 'decide', message: { value: 42 }, request: { mailbox: 'one@example.org' } }),
      window.runJob({ op: 'decide', message: { text: 'BEGIN:VCALENDAR' }, request: null }),
      window.runJob({ op: 'expand', message: { value: new Uint8Array(10 * 1024 * 1024 + 1) }, request: {} }),
      window.runJob({ op: 'itipSchedule', request: { user: 'one@example.org' } }),
    ]),
  );
  assert.deepEqual(
    answers.map((a) => [a.type, a.errors[0].code]),
    [
      ['failure', 'invalid_context'],
      ['failure', 'invalid_context'],
      ['failure', 'too_large'],
      ['failure', 'invalid_context'],
    ],
  );
});
