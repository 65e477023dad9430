// The task pane end to end: headless Chromium opens it from the real backend
// (demo data, fresh SQLite file), Office.js is the real one from npm with a
// stand-in for the Outlook host, seeded with real meeting e-mails from
// tests/fixtures/, and what the pane did is checked
// through the CRM's own API. Screenshots of every tab go to
// tests/artifacts/addin/.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { USERS, startBackend } from './support/backend.mjs';
import { decision, launch, meetingRequest, openPane, screenshot, signIn } from './support/browser.mjs';
import { base64, fixture } from './support/fixtures.mjs';

let backend;
let browser;

before(async () => {
  backend = await startBackend();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await backend?.stop();
});

const BOB = { name: 'Bob Berg', email: 'bob@acme.example' };
const BEN = { name: 'Ben Holm', email: 'ben@ourcompany.example' };
const CARA = { name: 'Cara Dahl', email: 'cara@ourcompany.example' };
const DAN = { name: 'Dan Moe', email: 'dan@ourcompany.example' };

/** What Outlook shows of the fixture "Contract renewal" (outlook-request.eml). */
function contractRenewal(eml, { to = BEN, ...rest } = {}) {
  return meetingRequest({
    eml,
    subject: 'Contract renewal',
    from: BOB,
    to: [to],
    start: '2026-12-03T09:00:00Z',
    end: '2026-12-03T10:00:00Z',
    location: 'Customer AS, Storgata 1, Oslo',
    ...rest,
  });
}

/** The user's diary over the fixtures' weeks, through the API. */
async function diary(user) {
  const api = await backend.api(user);
  return api.get('/api/diary?from=2026-11-01T00:00:00Z&until=2027-03-01T00:00:00Z');
}

/** Console errors that are not expected (the backend may lack the optional context endpoint). */
function unexpected(errors) {
  return errors.filter((e) => !/Failed to load resource: the server responded with a status of 404/.test(e));
}

async function waitForStatus(page, pattern) {
  await page.waitForFunction(
    (p) => {
      const el = document.getElementById('crm-status');
      return !el.hidden && new RegExp(p).test(el.textContent);
    },
    pattern.source,
    { timeout: 30_000 },
  );
  return page.textContent('#crm-status');
}

test('a new invitation from a known contact becomes a tentative appointment; Accept and notify answers it', async () => {
  const eml = fixture('outlook-request.eml', { uidSuffix: 'known' });
  const pane = await openPane(browser, backend, { user: USERS.ben, seed: { item: contractRenewal(eml) } });
  try {
    const d = await decision(pane.page, /Applied by the CRM/);
    assert.equal(d.kind, 'Meeting invitation');
    assert.match(d.effects.join('\n'), /“Contract renewal” is added to your CRM diary as tentative, linked to Bob Berg at Acme Ltd/);
    assert.match(d.reasons.join('\n'), /Bob Berg at Acme Ltd is a registered contact/);
    assert.deepEqual(d.buttons, { accept: true, tentative: true, decline: true, accept_all: false });
    assert.equal(d.note, '', 'the whole message came from getAsFileAsync');
    assert.equal(await pane.page.textContent('#meeting-subject'), 'Contract renewal');
    assert.ok((await pane.page.evaluate(() => window.__officeLog)).includes('getAsFileAsync'));

    const entry = (await diary(USERS.ben)).find((e) => e.title === 'Contract renewal');
    assert.ok(entry, 'the tentative appointment is in the diary');
    assert.equal(entry.status, 'tentative');
    assert.equal(entry.start, '2026-12-03T09:00:00Z');
    await screenshot(pane.page, 'meeting');

    assert.ok(await pane.page.isChecked('#notify'));
    await pane.page.click('#answer-accept');
    const status = await waitForStatus(pane.page, /Accepted in your CRM diary/);
    assert.match(status, /A reply to bob@acme\.example is waiting in the CRM outbox/);
    const after = await decision(pane.page, /Your answer, applied by the CRM/);
    assert.match(after.effects.join('\n'), /is sent to the organizer \(bob@acme\.example\)/);
    const accepted = (await diary(USERS.ben)).find((e) => e.title === 'Contract renewal');
    assert.equal(accepted.status, 'accepted');
    const outbox = await (await backend.api(USERS.ben)).get('/api/outbox');
    assert.ok(outbox.some((m) => m.method === 'REPLY' && m.recipient === 'bob@acme.example' && /PARTSTAT=ACCEPTED/.test(m.ics)));
    await screenshot(pane.page, 'meeting-accepted');
    assert.deepEqual(unexpected(pane.errors), []);
  } finally {
    await pane.close();
  }
});

test('an invitation from an unknown sender adds nothing, suggests the contact, and Accept without notifying still works', async () => {
  const eml = fixture('outlook-request.eml', {
    uidSuffix: 'unknown',
    extra: { 'bob.berg@customer.no': 'pat@stranger.example', 'Bob Berg': 'Pat Stranger', 'anna.dahl@nordlys.no': CARA.email, 'Anna Dahl': CARA.name },
  });
  const item = contractRenewal(eml, { to: CARA, from: { name: 'Pat Stranger', email: 'pat@stranger.example' }, subject: 'Contract renewal' });
  const pane = await openPane(browser, backend, { user: USERS.cara, seed: { item } });
  try {
    const d = await decision(pane.page, /Applied by the CRM/);
    assert.equal(d.kind, 'Meeting invitation');
    assert.match(d.reasons.join('\n'), /not a registered contact|not registered|unknown/i);
    assert.match(d.effects.join('\n'), /pat@stranger\.example\) is not a registered contact/);
    assert.deepEqual(d.buttons, { accept: true, tentative: true, decline: true, accept_all: false });
    assert.equal((await diary(USERS.cara)).filter((e) => e.title === 'Contract renewal').length, 0, 'nothing on arrival');

    await pane.page.click('text=Register Pat Stranger as a contact');
    await pane.page.locator('#decision-actions .message.success').waitFor();
    assert.match(await pane.page.textContent('#decision-actions'), /Pat Stranger is now a registered contact/);
    const [pat] = await (await backend.api(USERS.cara)).get('/api/persons?q=pat%40stranger.example');
    assert.deepEqual([pat?.name, pat?.emails], ['Pat Stranger', ['pat@stranger.example']]);
    await screenshot(pane.page, 'meeting-unknown-sender');

    await pane.page.click('#notify'); // off: "Accept, but do not notify sender"
    assert.equal(await pane.page.isChecked('#notify'), false);
    await pane.page.click('#answer-accept');
    const status = await waitForStatus(pane.page, /Accepted in your CRM diary/);
    assert.match(status, /The organizer is not notified/);
    const entry = (await diary(USERS.cara)).find((e) => e.title === 'Contract renewal');
    assert.equal(entry?.status, 'accepted');
    const outbox = await (await backend.api(USERS.cara)).get('/api/outbox');
    assert.equal(outbox.filter((m) => m.recipient === 'pat@stranger.example').length, 0, 'no reply without notify');
  } finally {
    await pane.close();
  }
});

test('a recurring invitation waits for Accept all, which adds the whole series', async () => {
  const eml = fixture('outlook-recurring-request.eml', { uidSuffix: 'series' });
  const item = meetingRequest({
    eml,
    subject: 'Weekly delivery status',
    from: BOB,
    to: [BEN],
    start: '2026-12-07T08:00:00Z',
    end: '2026-12-07T08:30:00Z',
    location: 'Teams',
  });
  const pane = await openPane(browser, backend, { user: USERS.ben, seed: { item } });
  try {
    const d = await decision(pane.page, /Applied by the CRM/);
    assert.equal(d.kind, 'Meeting invitation');
    assert.ok(d.recurring, 'the Series chip shows');
    assert.deepEqual(d.buttons, { accept: false, tentative: true, decline: true, accept_all: true });
    assert.match(d.reasons.join('\n'), /Accept all/i);
    assert.match(await pane.page.textContent('#answers-hint'), /Accept all adds every occurrence/);
    assert.equal((await diary(USERS.ben)).filter((e) => e.title === 'Weekly delivery status').length, 0);
    await screenshot(pane.page, 'meeting-series');

    await pane.page.click('#answer-accept-all');
    await waitForStatus(pane.page, /Accepted every occurrence in your CRM diary/);
    const after = await decision(pane.page, /Your answer/);
    assert.match(after.effects.join('\n'), /a series of \d+ occurrences/);
    const occurrences = (await diary(USERS.ben)).filter((e) => e.title === 'Weekly delivery status');
    assert.ok(occurrences.length >= 8, `the series is in the diary (${occurrences.length} occurrences)`);
    assert.ok(!occurrences.some((o) => o.start.startsWith('2026-12-28')), 'the EXDATE is left out');
  } finally {
    await pane.close();
  }
});

test('a cancellation removes the appointment its invitation created', async () => {
  const request = fixture('outlook-request.eml', { uidSuffix: 'cancel', extra: { 'anna.dahl@nordlys.no': DAN.email, 'Anna Dahl': DAN.name, 'per.olsen@nordlys.no': 'cara@ourcompany.example', 'Per Olsen': CARA.name } });
  const first = await openPane(browser, backend, { user: USERS.dan, seed: { item: contractRenewal(request, { to: DAN }) } });
  try {
    await decision(first.page, /Applied by the CRM/);
  } finally {
    await first.close();
  }
  assert.equal((await diary(USERS.dan)).find((e) => e.title === 'Contract renewal')?.status, 'tentative');

  const cancel = fixture('outlook-cancel.eml', { uidSuffix: 'cancel', extra: { 'anna.dahl@nordlys.no': DAN.email, 'Anna Dahl': DAN.name, 'per.olsen@nordlys.no': 'cara@ourcompany.example', 'Per Olsen': CARA.name } });
  const item = contractRenewal(cancel, { to: DAN, subject: 'Canceled: Contract renewal', itemClass: 'IPM.Schedule.Meeting.Canceled', created: '2026-12-01T07:30:00Z' });
  const pane = await openPane(browser, backend, { user: USERS.dan, seed: { item } });
  try {
    const d = await decision(pane.page, /Applied by the CRM/);
    assert.equal(d.kind, 'Meeting cancelled');
    assert.match(d.effects.join('\n'), /The appointment is cancelled in your CRM diary/);
    assert.deepEqual(d.buttons, { accept: false, tentative: false, decline: false, accept_all: false });
    assert.match(await pane.page.textContent('#answers-hint'), /Nothing to answer/);
    assert.equal((await diary(USERS.dan)).filter((e) => e.title === 'Contract renewal').length, 0, 'gone from the diary');
    await screenshot(pane.page, 'meeting-cancelled');
  } finally {
    await pane.close();
  }
});

test('with the toggle off, a following invitation is not imported; the setting is mirrored in roaming settings', async () => {
  const settingsPane = await openPane(browser, backend, { user: USERS.cara, seed: { item: null } });
  try {
    await settingsPane.page.click('#tab-invitations');
    const toggle = settingsPane.page.locator('#import-tentative');
    assert.equal(await toggle.isChecked(), true);
    assert.equal(await toggle.isEnabled(), true);
    await settingsPane.page.click('label:has(#import-tentative)');
    await settingsPane.page.waitForFunction(() => /Saved: new invitations are no longer added/.test(document.getElementById('import-tentative-saved').textContent));
    assert.equal(await toggle.isChecked(), false);
    assert.deepEqual(await settingsPane.page.evaluate(() => window.__roamingSaved), { importTentative: false });
    assert.equal((await (await backend.api(USERS.cara)).get('/api/settings')).import_tentative, false);
  } finally {
    await settingsPane.close();
  }

  const eml = fixture('sample/invitation.eml', { uidSuffix: 'toggle', extra: { 'anna@ourcrm.example': CARA.email, 'Anna Ask': CARA.name } });
  const item = meetingRequest({ eml, subject: 'Quarterly review', from: BOB, to: [CARA], start: '2026-12-03T09:00:00Z', end: '2026-12-03T10:00:00Z' });
  const pane = await openPane(browser, backend, { user: USERS.cara, seed: { item, roaming: { importTentative: false } } });
  try {
    const d = await decision(pane.page, /Applied by the CRM/);
    assert.match(d.reasons.join('\n'), /import/i);
    assert.match(d.effects.join('\n'), /Nothing changes in your CRM diary/);
    assert.deepEqual(d.buttons, { accept: true, tentative: true, decline: true, accept_all: false }, 'answering still works');
    assert.equal((await diary(USERS.cara)).filter((e) => e.title === 'Quarterly review').length, 0, 'not imported');
  } finally {
    await pane.close();
  }
});

test('with a calendar synchronizer the toggle is disabled with the reason, and answers are left to the calendar', async () => {
  await (await backend.api(USERS.dan)).put('/api/settings', { synchronizer: true });
  const eml = fixture('sample/invitation.eml', { uidSuffix: 'sync', extra: { 'anna@ourcrm.example': DAN.email, 'Anna Ask': DAN.name } });
  const item = meetingRequest({ eml, subject: 'Quarterly review', from: BOB, to: [DAN], start: '2026-12-03T09:00:00Z', end: '2026-12-03T10:00:00Z' });
  const pane = await openPane(browser, backend, { user: USERS.dan, seed: { item } });
  try {
    const d = await decision(pane.page, /Applied by the CRM/);
    assert.match(d.reasons.join('\n'), /synchronizer/i);
    assert.deepEqual(d.buttons, { accept: false, tentative: false, decline: false, accept_all: false });
    assert.match(await pane.page.textContent('#answers-hint'), /Answers are off for this message: see why below/);
    assert.equal((await diary(USERS.dan)).filter((e) => e.title === 'Quarterly review').length, 0);

    await pane.page.click('#tab-invitations');
    const toggle = pane.page.locator('#import-tentative');
    assert.equal(await toggle.isDisabled(), true);
    const reason = pane.page.locator('#import-tentative-reason');
    assert.equal(await reason.isVisible(), true);
    assert.match(await reason.textContent(), /Not available: a calendar synchronizer is active for you/);
    assert.match(await pane.page.textContent('#preferences'), /Calendar synchronizer\s*Active for you/);
    await pane.page.waitForFunction(() => document.getElementById('invitations-state').textContent !== 'Loading…');
    await screenshot(pane.page, 'invitations-synchronizer');
  } finally {
    await pane.close();
    await (await backend.api(USERS.dan)).put('/api/settings', { synchronizer: false });
  }
});

/** The pane's Invitations tab for `user`, with the responses alone when `responses`. */
async function invitationsTab(user, { responses = false, seed = { item: null } } = {}) {
  const pane = await openPane(browser, backend, { user, seed });
  await pane.page.click('#tab-invitations');
  await pane.page.waitForFunction(() => document.getElementById('invitations-state').textContent !== 'Loading…');
  if (responses) {
    await pane.page.click('label:has(#show-responses)');
    await pane.page.waitForFunction(() => /responses?\b/.test(document.getElementById('invitations-state').textContent));
  }
  return pane;
}

/** A datetime-local value moved by `days` (wall-clock arithmetic). */
function laterBy(value, days) {
  return new Date(Date.parse(`${value}:00Z`) + days * 86_400_000).toISOString().slice(0, 16);
}

test('a declined invitation offers Reschedule: a small form moves the follow-up, the invitees are told, the decline leaves the list', async () => {
  // A follow-up of its own (the demo's responses stay for the other tests): Ben invites Dan, Dan declines.
  const ben = await backend.api(USERS.ben);
  const dan = await backend.api(USERS.dan);
  const danId = (await ben.get('/api/associates')).find((a) => a.email === USERS.dan.email).id;
  const created = await ben.post('/api/followups', {
    title: 'Budget review',
    start: '2026-12-14T09:00:00Z',
    end: '2026-12-14T10:00:00Z',
    location: 'Room Fjord',
    associates: [danId],
  });
  const invitation = (await dan.get('/api/invitations')).find((i) => i.appointment.id === created.id);
  await dan.post(`/api/invitations/${invitation.id}/decline`);
  const declined = (await ben.get('/api/invitations?responses=true')).find((i) => i.appointment.id === created.id);
  assert.equal(declined?.status, 'declined');
  const pane = await invitationsTab(USERS.ben, { responses: true });
  try {
    const page = pane.page;
    const item = page.locator(`#invitations li[data-invitation="${declined.id}"]`);
    assert.match(await item.textContent(), /Dan Moe declined your invitation/);
    assert.deepEqual(await item.locator('.invitation-actions > button').allTextContents(), ['Reschedule', 'Got it']);
    // An accepted response (the demo's) has Got it alone.
    const accepted = page.locator('#invitations li', { hasText: 'accepted your invitation' }).first();
    assert.deepEqual(await accepted.locator('.invitation-actions > button').allTextContents(), ['Got it']);

    await page.click('button[aria-label="Reschedule: Budget review"]');
    const form = item.locator('form[aria-label="Reschedule: Budget review"]');
    await form.waitFor();
    const start = form.getByLabel('New start');
    const end = form.getByLabel('New end');
    const was = { start: await start.inputValue(), end: await end.inputValue() };
    assert.match(was.start, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, 'the form starts at the follow-up\'s time');
    assert.equal(await form.getByLabel('Location').inputValue(), declined.appointment.location);
    await screenshot(page, 'invitations-reschedule');

    // Unchanged, or ending before it starts: said in the form, nothing sent.
    await form.getByRole('button', { name: 'Move the meeting' }).click();
    await form.getByRole('alert').getByText('Choose another time or place.').waitFor();
    await end.fill(laterBy(was.start, -1));
    await form.getByRole('button', { name: 'Move the meeting' }).click();
    await form.getByRole('alert').getByText('The end must come after the start.').waitFor();
    assert.equal((await ben.get(`/api/followups/${declined.appointment.id}`)).start, declined.appointment.start);

    await start.fill(laterBy(was.start, 1));
    await end.fill(laterBy(was.end, 1));
    await form.getByLabel('Location').fill('Video call');
    await form.getByRole('button', { name: 'Move the meeting' }).click();
    await page.waitForFunction(() => /^Moved “Budget review” to .+; the invitees are told\./.test(document.getElementById('invitations-state').textContent));
    await item.waitFor({ state: 'detached' });

    const moved = await ben.get(`/api/followups/${declined.appointment.id}`);
    assert.equal(Date.parse(moved.start), Date.parse(declined.appointment.start) + 86_400_000);
    assert.equal(Date.parse(moved.end), Date.parse(declined.appointment.end) + 86_400_000);
    assert.equal(moved.location, 'Video call');
    assert.equal(moved.participants.find((p) => p.id === declined.id)?.status, 'moved', 'Dan is asked again');
    assert.deepEqual(unexpected(pane.errors), []);
  } finally {
    await pane.close();
  }
});

test('a declined assignment offers Reassign: a search finds another associate, who gets the assignment', async () => {
  const cara = await backend.api(USERS.cara);
  const declined = (await cara.get('/api/invitations?responses=true')).find(
    (i) => i.appointment.title === 'Support handover Globex' && i.status === 'declined' && i.type === 'assignment',
  );
  assert.ok(declined, 'the demo has Ben declining the assignment of Cara\'s "Support handover Globex"');
  const pane = await invitationsTab(USERS.cara, { responses: true });
  try {
    const page = pane.page;
    const item = page.locator(`#invitations li[data-invitation="${declined.id}"]`);
    assert.match(await item.textContent(), /Ben Holm declined your assignment/);
    assert.deepEqual(await item.locator('.invitation-actions > button').allTextContents(), ['Reassign', 'Got it']);

    await page.click('button[aria-label="Reassign: Support handover Globex"]');
    const form = item.locator('form[aria-label="Reassign: Support handover Globex"]');
    const names = () => form.locator('.results li .choice-text').evaluateAll((els) => els.map((e) => e.firstChild.textContent));
    await form.locator('.results li').first().waitFor();
    // Neither Cara herself nor Ben, who declined, is offered.
    assert.deepEqual((await names()).sort(), ['Ada Larsen', 'Dan Moe']);
    await screenshot(page, 'invitations-reassign');

    await form.getByLabel('Find another associate').fill('dan');
    await form.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => document.querySelectorAll('form[aria-label^="Reassign"] .results li').length === 1);
    assert.deepEqual(await names(), ['Dan Moe']);
    await form.getByRole('button', { name: 'Reassign to Dan Moe' }).click();
    await page.waitForFunction(() => document.getElementById('invitations-state').textContent === 'Reassigned “Support handover Globex” to Dan Moe.');
    await item.waitFor({ state: 'detached' });

    const dan = await backend.api(USERS.dan);
    const waiting = (await dan.get('/api/invitations')).find((i) => i.appointment.id === declined.appointment.id);
    assert.equal(waiting?.type, 'assignment');
    assert.equal(waiting?.direction, 'incoming');
    assert.ok(!(await cara.get('/api/invitations?responses=true')).some((i) => i.id === declined.id), 'the declined answer is off Cara\'s list');
    assert.deepEqual(unexpected(pane.errors), []);
  } finally {
    await pane.close();
  }
});

test('every item links to the web client: through Outlook (openBrowserWindow) where it can, else a new window', async () => {
  const pane = await invitationsTab(USERS.ben);
  try {
    const page = pane.page;
    const items = await page.locator('#invitations li').count();
    assert.ok(items > 0);
    const links = page.locator('#invitations li a.invitation-link');
    assert.equal(await links.count(), items, 'one link per item');
    // Each item opens its own follow-up in the web client.
    const web = await links.first().getAttribute('href');
    const hrefs = [];
    for (const a of await links.all()) {
      const href = await a.getAttribute('href');
      assert.match(href, new RegExp(`^${backend.origin.replace(/\./g, '\\.')}/#/followup/[0-9a-f]{32}$`));
      hrefs.push(href);
      assert.equal(await a.getAttribute('target'), '_blank');
      assert.match(await a.getAttribute('rel'), /noopener/);
      assert.match(await a.getAttribute('aria-label'), /^Open in the CRM: ./);
    }
    assert.ok(new Set(hrefs).size > 1, `different items, different follow-ups: ${hrefs.join(' ')}`);
    let opened = false;
    pane.context.on('page', () => {
      opened = true;
    });
    await links.first().click();
    assert.deepEqual(await page.evaluate(() => window.__browserWindows), [web]);
    assert.ok((await page.evaluate(() => window.__officeLog)).includes('isSetSupported:OpenBrowserWindowApi:1.1'));
    await page.waitForTimeout(300);
    assert.equal(opened, false, 'Outlook opened it; the pane opened no window of its own');
  } finally {
    await pane.close();
  }

  const older = await invitationsTab(USERS.ben, { seed: { item: null, openBrowserWindow: false } });
  try {
    const first = older.page.locator('#invitations li a.invitation-link').first();
    const href = await first.getAttribute('href');
    const [tab] = await Promise.all([older.context.waitForEvent('page'), first.click()]);
    await tab.waitForLoadState('domcontentloaded');
    assert.equal(tab.url(), href);
    assert.match(await tab.title(), /invitelink/);
    assert.deepEqual(await older.page.evaluate(() => window.__browserWindows), []);
  } finally {
    await older.close();
  }
});

test('the Invitations list: accept an invitation, Got it on a response, Show responses only', async () => {
  const pane = await openPane(browser, backend, { user: USERS.ben, seed: { item: null } });
  try {
    const page = pane.page;
    await page.click('#tab-invitations');
    await page.locator('#invitations li').first().waitFor();
    const titles = () => page.$$eval('#invitations .invitation-title', (els) => els.map((e) => e.textContent));
    assert.ok((await titles()).includes('Internal planning'));
    await page.click('button[aria-label="Accept: Internal planning"]');
    await page.waitForFunction(() => document.getElementById('invitations-state').textContent === 'Accepted: it is in your diary.');
    assert.ok(!(await titles()).includes('Internal planning'), 'an accepted invitation leaves the list');
    assert.ok((await diary(USERS.ben)).some((e) => e.title === 'Internal planning' && e.kind === 'appointment'));

    await page.click('label:has(#show-responses)');
    await page.waitForFunction(() => /responses?\b/.test(document.getElementById('invitations-state').textContent));
    const responses = await page.$$eval('#invitations .invitation-meta', (els) => els.map((e) => e.textContent).join('\n'));
    assert.match(responses, /(accepted|declined) your invitation/);
    const before = (await titles()).length;
    await page.locator('#invitations button', { hasText: 'Got it' }).first().click();
    await page.waitForFunction((n) => document.querySelectorAll('#invitations li').length === n - 1, before);
  } finally {
    await pane.close();
  }
});

test('archive: the sender is suggested first and the e-mail goes to the CRM linked to them', async () => {
  const eml = fixture('sample/invitation.eml', { uidSuffix: 'archive' });
  const item = meetingRequest({ eml, subject: 'Quarterly review', from: BOB, to: [BEN], start: '2026-12-03T09:00:00Z', end: '2026-12-03T10:00:00Z' });
  const pane = await openPane(browser, backend, { user: USERS.ben, seed: { item } });
  try {
    await decision(pane.page, /Applied by the CRM/);
    await pane.page.click('#tab-archive');
    await pane.page.locator('#archive-links li').first().waitFor();
    const offered = await pane.page.$$eval('#archive-links li', (lis) =>
      lis.map((li) => ({ name: li.querySelector('.choice-name').textContent, checked: li.querySelector('input').checked, meta: li.querySelector('.choice-meta').textContent })),
    );
    assert.deepEqual(offered[0], { name: 'Bob Berg', checked: true, meta: 'Contact · registered with bob@acme.example' });
    assert.equal(offered[1].name, 'Acme Ltd');
    assert.equal(offered[1].checked, true);
    assert.ok(offered.some((o) => /^Project/.test(o.meta)) && offered.some((o) => /^Sale/.test(o.meta)), 'projects and sales follow');

    await pane.page.fill('#archive-search', 'Globex');
    await pane.page.press('#archive-search', 'Enter');
    await pane.page.locator('#archive-results li button').first().waitFor();
    assert.match(await pane.page.textContent('#archive-results'), /Globex Corporation/);
    await screenshot(pane.page, 'archive');

    await pane.page.click('#archive-submit');
    await pane.page.waitForFunction(() => document.getElementById('archive-result').classList.contains('success'));
    const result = await pane.page.textContent('#archive-result');
    assert.match(result, /Archived to the CRM as a meeting/);
    assert.match(result, /Linked to contact Bob Berg/);
    assert.match(result, /Linked to company Acme Ltd/);
    await screenshot(pane.page, 'archive-done');

    const api = await backend.api(USERS.ben);
    const [bob] = await api.get('/api/persons?q=bob%40acme.example');
    const archived = (await api.get('/api/archive')).find((a) => a.subject === 'Quarterly review');
    assert.ok(archived, 'the item is in the archive');
    assert.equal(archived.kind, 'meeting');
    assert.ok(archived.links.some((l) => l.kind === 'person' && l.id === bob.id));
  } finally {
    await pane.close();
  }
});

test('a SUMMARY and DESCRIPTION full of <script> and HTML are shown as text and never run', async () => {
  const summary = '<script>window.__pwned="summary"</script><b>Bold</b> <img src=x onerror="window.__pwned=\'img\'">';
  const description = '<iframe src="javascript:window.__pwned=1"></iframe><a href="javascript:alert(1)">click</a>\\n<script>window.__pwned="description"</script>';
  const ics = [
    'BEGIN:VCALENDAR', 'PRODID:-//Test//Hostile//EN', 'VERSION:2.0', 'METHOD:REQUEST', 'BEGIN:VEVENT',
    'UID:hostile-1@stranger.example', 'DTSTAMP:20261120T081500Z', 'SEQUENCE:0',
    'DTSTART:20261204T090000Z', 'DTEND:20261204T100000Z',
    `SUMMARY:${summary.replace(/,/g, '\\,').replace(/;/g, '\\;')}`,
    `DESCRIPTION:${description.replace(/;/g, '\\;')}`,
    'LOCATION:<style>body{display:none}</style>Room <u>1</u>',
    'ORGANIZER;CN="<b>Bob</b>":mailto:bob@acme.example',
    'ATTENDEE;CN=Ben Holm;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:ben@ourcompany.example',
    'END:VEVENT', 'END:VCALENDAR', '',
  ].join('\r\n');
  const eml = [
    'From: "<b>Bob</b>" <bob@acme.example>', 'To: Ben Holm <ben@ourcompany.example>', `Subject: ${summary}`,
    'Message-ID: <hostile-1@stranger.example>', 'Date: Fri, 20 Nov 2026 09:15:00 +0100', 'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="b"', '', '--b', 'Content-Type: text/html; charset=utf-8', '',
    `<html><body>${summary}</body></html>`, '--b', 'Content-Type: text/calendar; charset=utf-8; method=REQUEST',
    'Content-Transfer-Encoding: base64', '', base64(ics), '--b--', '',
  ].join('\r\n');
  const item = meetingRequest({
    eml,
    subject: summary,
    from: { name: '<b>Bob</b>', email: 'bob@acme.example' },
    to: [BEN],
    start: '2026-12-04T09:00:00Z',
    end: '2026-12-04T10:00:00Z',
    location: '<style>body{display:none}</style>Room <u>1</u>',
  });
  const pane = await openPane(browser, backend, { user: USERS.ben, seed: { item } });
  try {
    const d = await decision(pane.page, /Applied by the CRM/);
    assert.equal(await pane.page.textContent('#meeting-subject'), summary, 'the subject shows as typed, as text');
    assert.ok(d.effects.join('\n').includes('<script>window.__pwned="summary"</script>'), 'the summary shows as text in the effects');
    assert.match(await pane.page.textContent('#meeting-facts'), /<style>body\{display:none\}<\/style>Room <u>1<\/u>/);
    await pane.page.click('#tab-archive');
    assert.equal(await pane.page.textContent('#archive-subject'), summary);
    await pane.page.click('#tab-meeting');
    const found = await pane.page.evaluate(() => ({
      pwned: window.__pwned,
      markup: Array.from(document.querySelectorAll('#main script, #main img, #main b, #main u, #main iframe, #main style, #main a:not(.invitation-link)')).length,
      // The pane's module and Office.js (which loads its own start-up files from its CDN folder): nothing else, nothing inline.
      scripts: Array.from(document.scripts, (el) => (el.src.startsWith('https://appsforoffice.microsoft.com/lib/1/hosted/') ? 'office' : el.src || 'inline'))
        .filter((src) => src !== 'office')
        .map((src) => src.replace(window.location.origin, '')),
      bodyVisible: getComputedStyle(document.body).display !== 'none',
    }));
    assert.deepEqual(found, { pwned: undefined, markup: 0, scripts: ['/addin/src/main.js'], bodyVisible: true });
    await screenshot(pane.page, 'meeting-hostile');
    assert.deepEqual(unexpected(pane.errors), []);
  } finally {
    await pane.close();
  }
});

test('without getAsFileAsync (Mailbox 1.5) the pane builds the meeting from the item and says so', async () => {
  const item = meetingRequest({ eml: null, subject: 'Site visit', from: BOB, to: [BEN], start: '2026-12-08T12:00:00Z', end: '2026-12-08T13:30:00Z', location: 'Acme plant' });
  const pane = await openPane(browser, backend, { user: USERS.ben, seed: { mailboxVersion: '1.5', item } });
  try {
    const d = await decision(pane.page, /Applied by the CRM/);
    assert.match(d.note, /This version of Outlook does not give add-ins the whole message/);
    assert.match(d.note, /built the meeting from what Outlook shows/);
    assert.equal(d.kind, 'Meeting invitation');
    assert.match(d.effects.join('\n'), /“Site visit” is added to your CRM diary as tentative, linked to Bob Berg at Acme Ltd/);
    const log = await pane.page.evaluate(() => window.__officeLog);
    assert.ok(log.includes('isSetSupported:Mailbox:1.14'));
    assert.ok(!log.includes('getAsFileAsync'));
    const entry = (await diary(USERS.ben)).find((e) => e.title === 'Site visit');
    assert.equal(entry?.status, 'tentative');
    assert.equal(entry.start, '2026-12-08T12:00:00Z');
    assert.equal(entry.location, 'Acme plant');
    await screenshot(pane.page, 'meeting-from-properties');
  } finally {
    await pane.close();
  }
});

test('without getAsFileAsync and without the engine, the pane says the item cannot be read, and why', async () => {
  const item = meetingRequest({ eml: null, subject: 'Plant tour', from: BOB, to: [BEN], start: '2026-12-10T12:00:00Z', end: '2026-12-10T13:00:00Z' });
  const pane = await openPane(browser, backend, {
    user: USERS.ben,
    seed: { mailboxVersion: '1.5', item },
    beforeLoad: (page) => page.route('**/pkg/invitelink_bg.wasm', (route) => route.fulfill({ status: 404, body: 'gone' })),
  });
  try {
    await pane.page.waitForFunction(() => /cannot be read/.test(document.getElementById('decision')?.textContent ?? ''));
    assert.match(await pane.page.textContent('#decision'), /rules engine could not start/);
    // Nothing reached the CRM.
    assert.equal((await diary(USERS.ben)).filter((e) => e.title === 'Plant tour').length, 0);
  } finally {
    await pane.close();
  }
});

test('a meeting request without a calendar part is rebuilt from the item, and the pane says so', async () => {
  const eml = [
    'From: Bob Berg <bob@acme.example>', 'To: Ben Holm <ben@ourcompany.example>', 'Subject: Budget talk',
    'Message-ID: <no-calendar-1@acme.example>', 'Date: Fri, 20 Nov 2026 10:00:00 +0100', 'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="b"', '', '--b', 'Content-Type: text/plain; charset=utf-8', '',
    'When: Wednesday 9 December 2026 14:00-15:00 (UTC+01:00) Amsterdam, Berlin, Oslo', '', '--b',
    'Content-Type: text/html; charset=utf-8', '', '<html><body><p>Budget talk</p></body></html>', '--b--', '',
  ].join('\r\n');
  const item = meetingRequest({ eml, subject: 'Budget talk', from: BOB, to: [BEN], start: '2026-12-09T13:00:00Z', end: '2026-12-09T14:00:00Z', location: 'Room Fjord' });
  const pane = await openPane(browser, backend, { user: USERS.ben, seed: { item } });
  try {
    const d = await decision(pane.page, /Applied by the CRM/);
    assert.match(d.note, /carries no calendar data/);
    assert.match(d.effects.join('\n'), /“Budget talk” is added to your CRM diary as tentative/);
    assert.ok((await pane.page.evaluate(() => window.__officeLog)).includes('getAsFileAsync'), 'the whole message was asked for first');
    const entry = (await diary(USERS.ben)).find((e) => e.title === 'Budget talk');
    assert.equal(entry?.status, 'tentative');
  } finally {
    await pane.close();
  }
});

test('an ordinary e-mail is not a meeting: answers are off, archiving works', async () => {
  const item = {
    itemType: 'message',
    itemClass: 'IPM.Note',
    subject: 'Price list',
    from: BOB,
    to: [BEN],
    dateTimeCreated: '2026-11-20T08:00:00Z',
    internetMessageId: '<price-list-1@acme.example>',
    file: base64('From: Bob Berg <bob@acme.example>\r\nTo: ben@ourcompany.example\r\nSubject: Price list\r\nMessage-ID: <price-list-1@acme.example>\r\n\r\nHere it is.\r\n'),
  };
  const pane = await openPane(browser, backend, { user: USERS.ben, seed: { item } });
  try {
    await pane.page.waitForFunction(() => document.getElementById('decision-kind').textContent === 'Not a meeting message');
    assert.deepEqual(
      await pane.page.$$eval('.answer-buttons button', (bs) => bs.map((b) => b.disabled)),
      [true, true, true, true],
    );
    await pane.page.click('#tab-archive');
    await pane.page.locator('#archive-links li').first().waitFor();
    await pane.page.click('#archive-submit');
    await pane.page.waitForFunction(() => document.getElementById('archive-result').classList.contains('success'));
    assert.match(await pane.page.textContent('#archive-result'), /Archived to the CRM as an e-mail/);
  } finally {
    await pane.close();
  }
});

test('a pinned pane follows the item selected in Outlook', async () => {
  const first = fixture('outlook-request.eml', { uidSuffix: 'pinned' });
  const pane = await openPane(browser, backend, { user: USERS.ben, seed: { item: contractRenewal(first) } });
  try {
    await decision(pane.page, /Applied by the CRM/);
    assert.ok((await pane.page.evaluate(() => window.__officeLog)).includes('addHandlerAsync:olkItemSelectedChanged'));
    const second = fixture('sample/invitation.eml', { uidSuffix: 'pinned' });
    const next = meetingRequest({ eml: second, subject: 'Quarterly review', from: BOB, to: [BEN], start: '2026-12-03T09:00:00Z', end: '2026-12-03T10:00:00Z' });
    await pane.page.evaluate((item) => window.__selectItem(item), next);
    await pane.page.waitForFunction(() => document.getElementById('meeting-subject').textContent === 'Quarterly review');
    const d = await decision(pane.page, /Applied by the CRM/);
    assert.equal(d.kind, 'Meeting invitation');
    assert.equal(await pane.page.textContent('#archive-subject'), 'Quarterly review');
    await pane.page.evaluate(() => window.__selectItem(null));
    await pane.page.waitForFunction(() => document.getElementById('meeting-subject').textContent === 'Nothing selected');
    assert.deepEqual(await pane.page.$$eval('.answer-buttons button', (bs) => bs.map((b) => b.disabled)), [true, true, true, true]);
  } finally {
    await pane.close();
  }
});

test('error states: an expired token asks to sign in again; the CRM down shows a retry; a missing engine still lets the CRM decide', async () => {
  // 401: a token the CRM does not know.
  const expired = await openPane(browser, backend, {
    seed: { item: null },
    beforeLoad: (page) =>
      page.addInitScript(() => {
        if (window.sessionStorage.getItem('test.seeded')) return;
        window.sessionStorage.setItem('test.seeded', '1');
        window.sessionStorage.setItem('invitelink.token', 'expired-token');
      }),
  });
  try {
    await expired.page.locator('#signin').waitFor({ state: 'visible' });
    assert.match(await expired.page.textContent('#signin-error'), /Your CRM session has ended: sign in again/);
    await signIn(expired.page, USERS.ben);
    assert.equal(await expired.page.evaluate(() => window.Office.context.roamingSettings.get('token')), undefined);
    const stored = await expired.page.evaluate(() => JSON.stringify(window.__roamingSaved));
    assert.ok(!/[0-9a-f]{64}/.test(stored), 'no token in roaming settings');
    await screenshot(expired.page, 'signin-expired');

    // The CRM goes away: reload, the pane says so and offers to try again.
    await expired.page.route('**/api/**', (route) => route.abort('connectionrefused'));
    await expired.page.reload();
    await expired.page.locator('#banner').waitFor({ state: 'visible' });
    assert.match(await expired.page.textContent('#banner-text'), /The CRM cannot be reached/);
    await screenshot(expired.page, 'backend-down');
    await expired.page.unroute('**/api/**');
    await expired.page.click('#banner-retry');
    await expired.page.locator('#app').waitFor({ state: 'visible' });
    assert.equal(await expired.page.isHidden('#banner'), true);
  } finally {
    await expired.close();
  }

  // The engine cannot load: the CRM's decision shows, with the reason there is no preview.
  const eml = fixture('outlook-request.eml', { uidSuffix: 'noengine' });
  const pane = await openPane(browser, backend, {
    user: USERS.ben,
    seed: { item: contractRenewal(eml) },
    beforeLoad: (page) => page.route('**/pkg/invitelink_bg.wasm', (route) => route.fulfill({ status: 404, body: 'gone' })),
  });
  try {
    const d = await decision(pane.page, /Applied by the CRM/);
    assert.equal(d.kind, 'Meeting invitation');
    await pane.page.waitForFunction(() => /No preview in the pane: the rules engine could not start/.test(document.getElementById('decision-source').textContent));
  } finally {
    await pane.close();
  }
});

test("the engine in the pane previews the same decision the CRM then applies", async () => {
  let release;
  const gate = new Promise((r) => {
    release = r;
  });
  const eml = fixture('outlook-request.eml', { uidSuffix: 'preview' });
  const pane = await openPane(browser, backend, {
    user: USERS.ben,
    seed: { item: contractRenewal(eml) },
    beforeLoad: (page) =>
      page.route('**/api/inbox', async (route) => {
        await gate;
        await route.continue();
      }),
  });
  try {
    const preview = await decision(pane.page, /Preview by the rules engine in this pane/);
    release();
    const applied = await decision(pane.page, /Applied by the CRM/);
    for (const field of ['kind', 'effects', 'reasons', 'warnings', 'recurring', 'buttons']) {
      assert.deepEqual(preview[field], applied[field], field);
    }
    assert.match(preview.effects.join('\n'), /added to your CRM diary as tentative, linked to Bob Berg at Acme Ltd/);
  } finally {
    await pane.close();
  }
});

test('no layout jump: the answer buttons stay where they are while the engine and the CRM answer', async () => {
  let release;
  const gate = new Promise((r) => {
    release = r;
  });
  const eml = fixture('outlook-request.eml', { uidSuffix: 'layout' });
  const pane = await openPane(browser, backend, {
    user: USERS.ben,
    seed: { item: contractRenewal(eml) },
    beforeLoad: async (page) => {
      await page.route('**/pkg/invitelink_bg.wasm', async (route) => {
        await gate;
        await route.continue();
      });
      await page.route('**/api/inbox', async (route) => {
        await gate;
        await route.continue();
      });
    },
  });
  try {
    await pane.page.waitForFunction(() => document.getElementById('meeting-subject').textContent === 'Contract renewal');
    assert.equal(await pane.page.getAttribute('#decision', 'aria-busy'), 'true');
    assert.equal(await pane.page.isVisible('#decision-skeleton'), true, 'a placeholder while loading');
    const box = () => pane.page.evaluate(() => {
      const r = (id) => {
        const b = document.getElementById(id).getBoundingClientRect();
        return [b.x, b.y, b.width, b.height];
      };
      return { answers: r('answers'), decisionTop: r('decision')[1], accept: r('answer-accept') };
    });
    const before = await box();
    release();
    await decision(pane.page, /Applied by the CRM/);
    assert.deepEqual(await box(), before);
  } finally {
    await pane.close();
  }
});

test('keyboard and widths: tabs move with the arrow keys, focus is visible, every control has a name, nothing overflows at 320 or 450 px', async () => {
  const eml = fixture('outlook-request.eml', { uidSuffix: 'keys' });
  for (const width of [320, 450]) {
    const pane = await openPane(browser, backend, { user: USERS.ben, seed: { item: contractRenewal(eml) }, width });
    try {
      await decision(pane.page, /Applied by the CRM/);
      const page = pane.page;
      await page.focus('#tab-meeting');
      await page.keyboard.press('ArrowRight');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-archive');
      assert.equal(await page.getAttribute('#tab-archive', 'aria-selected'), 'true');
      assert.equal(await page.isVisible('#panel-archive'), true);
      await page.keyboard.press('End');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-invitations');
      assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'solid', 'focus ring');
      await page.keyboard.press('Home');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-meeting');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'panel-meeting');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'notify', 'the first control after the tabs');

      for (const tab of ['tab-meeting', 'tab-archive', 'tab-invitations']) {
        await page.click(`#${tab}`);
        if (tab === 'tab-archive') await page.locator('#archive-links li').first().waitFor();
        if (tab === 'tab-invitations') {
          await page.waitForFunction(() => document.getElementById('invitations-state').textContent !== 'Loading…');
        }
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `${tab} at ${width} px overflows by ${overflow} px`);
        const unnamed = await page.evaluate(() =>
          Array.from(document.querySelectorAll('button, input, select, textarea, [role="tab"]'))
            .filter((el) => el.offsetParent !== null)
            .filter((el) => {
              const labelled = el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
              return !labelled && !el.textContent.trim();
            })
            .map((el) => el.outerHTML.slice(0, 80)),
        );
        assert.deepEqual(unnamed, [], `controls without a name on ${tab}`);
        if (width === 320 && tab !== 'tab-meeting') await screenshot(page, `${tab.slice(4)}-320`);
      }
      if (width === 450) {
        await page.click('#tab-invitations');
        await page.waitForFunction(() => document.getElementById('invitations-state').textContent !== 'Loading…');
        await screenshot(page, 'invitations');
        await page.click('#tab-meeting');
        await screenshot(page, 'meeting-450');
      }
    } finally {
      await pane.close();
    }
  }
});

test('the sign-in form: labelled fields, a clear error for a wrong password', async () => {
  const pane = await openPane(browser, backend, { seed: { item: null } });
  try {
    await pane.page.locator('#signin').waitFor({ state: 'visible' });
    await pane.page.fill('#signin-email', USERS.ben.email);
    await pane.page.fill('#signin-password', 'wrong');
    await pane.page.click('#signin-submit');
    await pane.page.locator('#signin-error').waitFor({ state: 'visible' });
    assert.match(await pane.page.textContent('#signin-error'), /do not match a CRM user/);
    await screenshot(pane.page, 'signin');
    assert.equal(await pane.page.evaluate(() => window.sessionStorage.getItem('invitelink.token')), null);
  } finally {
    await pane.close();
  }
});
