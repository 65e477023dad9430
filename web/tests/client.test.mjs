// The CRM web client end to end: headless Chromium (Debian's, driven by
// playwright-core) against the real backend on a fresh SQLite file with the
// demo data. Each page's main flow is done as a person does it, what it did
// is checked through the API, every page passes axe-core without serious or
// critical violations, and screenshots of every page at 1280 and 390 px go
// to web/test-artifacts/ (git-ignored). A test fails when any of its pages
// reports a Content-Security-Policy violation, an uncaught error or a console
// error (only messages a test names in `expectConsole` are let through).

import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { USERS, startBackend } from '../../addin/tests/support/backend.mjs';
import { axe, closeContext, expectConsole, go, guardPages, launchBrowser, newContext as newWatchedContext, ready, shot, takeProblems } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

let backend;
let browser;

before(async () => {
  backend = await startBackend();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await backend?.stop();
});

guardPages();

/** A browser context of its own, watched for problems (support.mjs). */
function newContext(options) {
  return newWatchedContext(browser, options);
}

/** A signed-in page of its own context. */
async function open(user, { width = 1280, height = 900, hash = '#/diary', locale } = {}) {
  const context = await newContext({ width, height, locale });
  const page = await context.newPage();
  await page.goto(`${backend.origin}/${hash}`);
  await page.fill('#signin-email', user.email);
  await page.fill('#signin-password', user.password);
  await page.click('#signin-submit');
  await page.locator('#top').waitFor({ state: 'visible' });
  await ready(page);
  return { page, close: () => closeContext(context) };
}





/** The demo's "next Monday" at `hour` UTC plus `day` days (as server/src/store/demo.rs plans it). */
function nextWeek(day, hour, minute = 0) {
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const untilMonday = 7 - ((now.getUTCDay() + 6) % 7);
  return new Date(today + (untilMonday + day) * 86400_000 + hour * 3600_000 + minute * 60_000);
}

const local = (d) => d.toISOString().slice(0, 16);

/** Turns the diary to the week of `date` with its "Go to" field. */
async function goToDate(page, date) {
  await page.locator('#diary-date').fill(date.toISOString().slice(0, 10));
  await page.locator('#diary-date').dispatchEvent('change');
}

async function token(user) {
  const r = await fetch(`${backend.origin}/api/signin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: user.email, password: user.password }) });
  return (await r.json()).token;
}

async function deliver(user, raw) {
  const r = await fetch(`${backend.origin}/api/inbox`, { method: 'POST', headers: { authorization: `Bearer ${await token(user)}`, 'content-type': 'message/rfc822' }, body: raw });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text);
}

function invitation({ uid, summary, start, to = USERS.ben.email }) {
  const stamp = (d) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  return [
    'From: Bob Berg <bob@acme.example>', `To: ${to}`, `Subject: ${summary}`, `Message-ID: <${uid}>`, 'MIME-Version: 1.0',
    'Content-Type: text/calendar; method=REQUEST; charset=utf-8', '',
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'METHOD:REQUEST', 'BEGIN:VEVENT', `UID:${uid}`, 'SEQUENCE:0',
    `DTSTAMP:${stamp(new Date())}`, `DTSTART:${stamp(start)}`, `DTEND:${stamp(new Date(start.getTime() + 3600_000))}`,
    `SUMMARY:${summary}`, 'ORGANIZER;CN=Bob Berg:mailto:bob@acme.example', `ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${to}`,
    'END:VEVENT', 'END:VCALENDAR', '',
  ].join('\r\n');
}

/** The participant of follow-up `id` named `name`, through the API. */
async function participant(user, id, name) {
  const f = await (await backend.api(user)).get(`/api/followups/${id}`);
  return { followup: f, p: f.participants.find((p) => p.name === name) };
}

let followupId;

test('sign in, the diary with its legend, and signing out', async () => {
  const s = await open(USERS.ben);
  try {
    const { page } = s;
    assert.equal(await page.textContent('#who-name'), 'Ben Holm');
    assert.equal(await page.getAttribute('#nav a[data-page=diary]', 'aria-current'), 'page');
    await page.locator('.fc-timegrid').waitFor();
    await goToDate(page, nextWeek(0, 0));
    await page.locator('.fc-event[data-state]').first().waitFor();
    const states = await page.$$eval('.fc-event[data-state]', (els) => els.map((e) => e.dataset.state));
    // Ben's week: his own follow-ups, Cara's pricing workshop that moved, Dan's cancelled sync, Dan's planning he has not seen.
    for (const s of ['accepted', 'moved', 'cancelled', 'pending-new']) assert.ok(states.includes(s), `${s} in ${states}`);
    assert.equal(await page.locator('.legend li').count(), 8);
    const conflict = await page.locator('.fc-event.st-conflict').count();
    assert.ok(conflict >= 1, 'the double-booked room shows as a conflict');
    assert.deepEqual(await axe(page), []);
    await shot(page, 'diary-week-1280');
    await page.click('.fc-timeGridDay-button');
    await shot(page, 'diary-day-1280');
    await page.click('.fc-dayGridMonth-button');
    await page.locator('.fc-daygrid').waitFor();
    assert.deepEqual(await axe(page), []);
    await shot(page, 'diary-month-1280');
    await page.click('#signout');
    await page.locator('#signin-email').waitFor();
    assert.ok(await page.isHidden('#top'));
    assert.deepEqual(await axe(page), []);
    await shot(page, 'signin-1280');
  } finally {
    await s.close();
  }
});

test('dates follow the browser’s language: day before month in en-GB, month first in en-US', async () => {
  for (const [locale, week, item] of [
    // The week's title ("7 – 13 Dec 2026" / "Dec 7 – 13, 2026") and a date in the list.
    ['en-GB', /^\d+ .*\d{4}$/, /Mon \d+ [A-Z][a-z]+, 09:30–10:30/],
    ['en-US', /^[A-Z][a-z]+ \d+ .*\d{4}$/, /Mon, [A-Z][a-z]+ \d+, 09:30\s?AM\s?–\s?10:30\s?AM/],
  ]) {
    const s = await open(USERS.ben, { locale });
    try {
      const { page } = s;
      await goToDate(page, nextWeek(0, 0));
      await page.locator('.fc-event[data-state]').first().waitFor();
      assert.match(await page.textContent('.fc-toolbar-title'), week, locale);
      await go(page, '#/invitations');
      const planning = page.locator('li.item', { hasText: 'Internal planning' });
      assert.match(await planning.textContent(), item, locale);
      await shot(page, `invitations-${locale}-1280`);
    } finally {
      await s.close();
    }
  }
});

test('a wrong password is refused with a message', async () => {
  expectConsole(/status of 401/);
  const s = await open(USERS.ben);
  try {
    await s.page.click('#signout');
    await s.page.fill('#signin-email', USERS.ben.email);
    await s.page.fill('#signin-password', 'wrong');
    await s.page.click('#signin-submit');
    await s.page.locator('#signin-error:not([hidden])').waitFor();
    assert.match(await s.page.textContent('#signin-error'), /Wrong e-mail address or password/);
  } finally {
    await s.close();
  }
});

test('Ben invites Cara and a double-booked room; the conflict shows and First available moves it', async () => {
  const s = await open(USERS.ben);
  try {
    const { page } = s;
    // Keyboard: the dialog opens from the button, fields are reached with Tab.
    await page.focus('#new-followup');
    await page.keyboard.press('Enter');
    await page.locator('#followup-dialog').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'followup-name');
    await page.keyboard.type('Rollout review');
    await page.fill('#followup-start', local(nextWeek(0, 9)));
    await page.fill('#followup-end', local(nextWeek(0, 10)));
    await page.fill('#followup-location', 'Room Fjord');
    await page.fill('#followup-description', 'Agenda:\n1. What went live\n2. <b>Open points</b>');
    await page.fill('#participant-search', 'cara');
    await page.locator('#participant-results button', { hasText: 'Cara Dahl' }).click();
    await page.fill('#participant-search', 'fjord');
    await page.locator('#participant-results button', { hasText: 'Room Fjord' }).click();
    await page.fill('#participant-search', 'bob');
    await page.locator('#participant-results button', { hasText: 'Bob Berg' }).click();
    await page.fill('#participant-search', 'guest@elsewhere.example');
    await page.locator('#participant-results button', { hasText: 'guest@elsewhere.example' }).click();
    assert.equal(await page.locator('#followup-participants li').count(), 4);
    assert.deepEqual(await axe(page), []);
    await shot(page, 'followup-new-1280');
    await page.click('#followup-save');
    await page.locator('#first-available-button').waitFor();
    const row = page.locator('#followup-participants tr.conflict');
    assert.match(await row.textContent(), /Room Fjord.*Conflict/);
    assert.match(await page.textContent('#followup-participants'), /Cara Dahl.*Not seen/);
    await shot(page, 'followup-conflict-1280');
    const title = await page.textContent('#followup-title');
    assert.equal(title, 'Rollout review');
    const entries = await (await backend.api(USERS.ben)).get(`/api/calendar?from=${nextWeek(0, 0).toISOString()}&until=${nextWeek(1, 0).toISOString()}`);
    followupId = entries.find((e) => e.title === 'Rollout review').appointment_id;
    const before = (await participant(USERS.ben, followupId, 'Room Fjord')).followup;
    assert.ok(before.first_available);
    assert.equal(before.description, 'Agenda:\n1. What went live\n2. <b>Open points</b>');
    await page.click('#first-available-button');
    await page.waitForFunction(() => !document.getElementById('first-available'));
    const { followup, p } = await participant(USERS.ben, followupId, 'Room Fjord');
    assert.equal(followup.start, before.first_available);
    assert.equal(p.conflict, false);
    assert.equal(await page.locator('#followup-participants tr.conflict').count(), 0);
    // The outbox has the e-mail invitations of the contact and the bare address.
    const outbox = await (await backend.api(USERS.ben)).get('/api/outbox');
    assert.ok(outbox.some((m) => m.recipient === 'guest@elsewhere.example' && m.method === 'REQUEST'));
    await page.keyboard.press('Escape');
    await page.locator('#followup-dialog').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'new-followup', 'the focus goes back to the button that opened the dialog');
  } finally {
    await s.close();
  }
});

test('Ben edits a saved follow-up with the keyboard: description, a colleague invited and a contact taken off', async () => {
  const s = await open(USERS.ben);
  try {
    const { page } = s;
    await goToDate(page, nextWeek(0, 0));
    const event = page.locator(`.fc-event[data-appointment="${followupId}"]`);
    await event.focus();
    await page.keyboard.press('Enter');
    await page.locator('#followup-dialog #followup-start:not([disabled])').waitFor();
    // The description is text: the markup in it is shown as typed.
    assert.equal(await page.inputValue('#followup-description'), 'Agenda:\n1. What went live\n2. <b>Open points</b>');
    // Dan is found, chosen with the arrow key and Enter, and invited at once.
    await page.focus('#participant-search');
    await page.keyboard.type('dan');
    await page.locator('#participant-results button', { hasText: 'Dan Moe' }).waitFor();
    await page.keyboard.press('ArrowDown');
    assert.match(await page.evaluate(() => document.activeElement.textContent), /Dan Moe/);
    await page.keyboard.press('Enter');
    await page.locator('#followup-participants tr', { hasText: 'Dan Moe' }).waitFor();
    assert.match(await page.textContent('#followup-dialog [role=status]'), /Dan Moe is invited/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'participant-search', 'the keyboard stays in the search');
    assert.equal((await participant(USERS.ben, followupId, 'Dan Moe')).p.status, 'not_seen');
    // Bob Berg is taken off: his row goes, and he gets a CANCEL.
    const takeOff = page.getByRole('button', { name: 'Take Bob Berg off' });
    await takeOff.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /Bob Berg is taken off/.test(document.querySelector('#followup-dialog [role=status]')?.textContent ?? ''));
    assert.equal(await page.locator('#followup-participants tr', { hasText: 'Bob Berg' }).count(), 0);
    const outbox = await (await backend.api(USERS.ben)).get('/api/outbox');
    assert.ok(outbox.some((m) => m.recipient === 'bob@acme.example' && m.method === 'CANCEL'));
    // A new description alone: saved, nobody's answer starts over.
    await page.fill('#followup-description', 'Agenda: what went live');
    await page.focus('#followup-location');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /new description is sent/.test(document.querySelector('#followup-dialog [role=status]')?.textContent ?? ''));
    const { followup, p } = await participant(USERS.ben, followupId, 'Cara Dahl');
    assert.equal(followup.description, 'Agenda: what went live');
    assert.equal(p.status, 'not_seen');
    assert.deepEqual(await axe(page), []);
    await shot(page, 'followup-edit-1280');
    await page.keyboard.press('Escape');
    await page.locator('#followup-dialog').waitFor({ state: 'detached' });
  } finally {
    await s.close();
  }
});

test('a follow-up opens by its own address, after signing in too; closed, the address is the diary’s', async () => {
  const { title } = await (await backend.api(USERS.ben)).get(`/api/followups/${followupId}`);
  const s = await open(USERS.ben, { hash: `#/followup/${followupId}` });
  try {
    const { page } = s;
    await page.waitForFunction((t) => document.getElementById('followup-title')?.textContent === t, title);
    assert.equal(await page.getAttribute('#nav a[data-page=diary]', 'aria-current'), 'page');
    await page.keyboard.press('Escape');
    await page.locator('#followup-dialog').waitFor({ state: 'detached' });
    assert.equal(new URL(page.url()).hash, '#/diary');
    await page.locator('.fc-timegrid, .fc-daygrid').first().waitFor();
    // Another address, followed while signed in; one that names no follow-up says so.
    expectConsole(/status of 404/);
    await go(page, `#/followup/${'0'.repeat(32)}`);
    await page.locator('#followup-dialog [role=alert]').waitFor();
    assert.match(await page.textContent('#followup-dialog'), /not found|no follow-up/i);
    await page.keyboard.press('Escape');
    await page.locator('#followup-dialog').waitFor({ state: 'detached' });
  } finally {
    await s.close();
  }
});

test('Ben drags his follow-up to another hour and stretches it; asked first, Cara answers again; not his own stays put', async () => {
  const ben = await backend.api(USERS.ben);
  const cara = (await ben.get('/api/associates?q=cara')).find((a) => a.name === USERS.cara.name);
  const created = await ben.post('/api/followups', {
    title: 'Quarter planning',
    start: nextWeek(2, 9).toISOString(),
    end: nextWeek(2, 10).toISOString(),
    associates: [cara.id],
    resources: [],
    persons: [],
    emails: [],
  });
  const id = created.id;
  const caraApi = await backend.api(USERS.cara);
  const invitation = (await caraApi.get('/api/invitations')).find((i) => i.direction === 'incoming' && i.appointment.id === id);
  await caraApi.post(`/api/invitations/${invitation.id}/accept`, {});
  assert.equal((await ben.get(`/api/followups/${id}`)).participants.find((p) => p.name === USERS.cara.name).status, 'accepted');
  const s = await open(USERS.ben);
  try {
    const { page } = s;
    await goToDate(page, nextWeek(2, 0));
    const event = page.locator(`.fc-event[data-appointment="${id}"]`);
    await event.waitFor();
    assert.match(await event.getAttribute('class'), /fc-event-draggable/);
    /** Drags from 4 px below the event's top (its first slot) to 4 px below the top of the slot at `time`. */
    async function drag(from, time) {
      const box = await from.boundingBox();
      const target = await page.locator(`td.fc-timegrid-slot-lane[data-time="${time}"]`).boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + 4);
      await page.mouse.down();
      for (let i = 1; i <= 8; i++) await page.mouse.move(box.x + box.width / 2, box.y + 4 + ((target.y - box.y) * i) / 8);
      await page.mouse.up();
    }
    // Asked, and told no: the follow-up stays where it was.
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      d.dismiss();
    });
    await drag(event, '11:00:00');
    await page.waitForFunction(() => document.querySelector('.fc-event-dragging, .fc-event-mirror') === null);
    assert.match(asked, /Move “Quarter planning” to .*Everyone invited gets the new time/);
    assert.equal((await ben.get(`/api/followups/${id}`)).start, nextWeek(2, 9).toISOString().replace('.000', ''));
    // Asked, and told yes: it moves two hours, keeps its length, and Cara is asked again.
    page.once('dialog', (d) => d.accept());
    await drag(event, '11:00:00');
    await page.locator('#diary-status', { hasText: 'Moved' }).waitFor();
    let f = await ben.get(`/api/followups/${id}`);
    assert.equal(f.start, nextWeek(2, 11).toISOString().replace('.000', ''));
    assert.equal(f.end, nextWeek(2, 12).toISOString().replace('.000', ''));
    assert.notEqual(f.participants.find((p) => p.name === USERS.cara.name).status, 'accepted');
    // Its end dragged half an hour down: 90 minutes long. (The grip lies in
    // the last half hour's slot; dropped in the next one, the end moves one
    // slot.)
    await event.waitFor();
    const handle = event.locator('.fc-event-resizer-end');
    await event.hover();
    const grip = await handle.boundingBox();
    const half = await page.locator('td.fc-timegrid-slot-lane[data-time="12:00:00"]').boundingBox();
    page.once('dialog', (d) => d.accept());
    await page.mouse.move(grip.x + grip.width / 2, grip.y + grip.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 8; i++) await page.mouse.move(grip.x + grip.width / 2, grip.y + grip.height / 2 + ((half.y + half.height / 2 - grip.y - grip.height / 2) * i) / 8);
    await page.mouse.up();
    await page.waitForFunction(() => /–(12:30|0?12:30\s?PM)/.test(document.getElementById('diary-status')?.textContent ?? ''));
    f = await ben.get(`/api/followups/${id}`);
    assert.equal(f.start, nextWeek(2, 11).toISOString().replace('.000', ''));
    assert.equal(f.end, nextWeek(2, 12, 30).toISOString().replace('.000', ''));
    await shot(page, 'diary-moved-1280');
  } finally {
    await s.close();
  }
  // Cara sees the follow-up in her diary as an invitation: she cannot drag it.
  const c = await open(USERS.cara);
  try {
    const { page } = c;
    await goToDate(page, nextWeek(2, 0));
    const event = page.locator(`.fc-event[data-appointment="${id}"]`);
    await event.waitFor();
    assert.doesNotMatch(await event.getAttribute('class'), /fc-event-draggable/);
  } finally {
    await c.close();
  }
});

test('Cara declines; Ben gets the notification, Got it, Reschedule; Cara accepts', async () => {
  const cara = await open(USERS.cara, { hash: '#/invitations' });
  try {
    await go(cara.page, '#/invitations');
    const item = cara.page.locator('li.item[data-direction=incoming]', { hasText: 'Rollout review' });
    await item.waitFor();
    assert.deepEqual(await axe(cara.page), []);
    await shot(cara.page, 'invitations-cara-1280');
    await item.getByRole('button', { name: 'Decline' }).click();
    await cara.page.locator('#invitations-status:not([hidden])').waitFor();
    assert.equal((await participant(USERS.ben, followupId, 'Cara Dahl')).p.status, 'declined');
  } finally {
    await cara.close();
  }
  const ben = await open(USERS.ben);
  try {
    await ben.page.locator('#badge:not([hidden])').waitFor();
    const badge = await ben.page.locator('#badge').textContent();
    assert.ok(Number(badge) >= 1, `badge ${badge}`);
    await go(ben.page, '#/invitations');
    const note = ben.page.locator('li[data-what=invitation_declined]', { hasText: 'Rollout review' });
    await note.waitFor();
    await shot(ben.page, 'invitations-ben-declined-1280');
    await note.getByRole('button', { name: 'Got it' }).click();
    const reschedule = ben.page.locator('li[data-what=invitation_declined]', { hasText: 'Rollout review' }).getByRole('button', { name: 'Reschedule' });
    await reschedule.click();
    await ben.page.locator('#followup-dialog #followup-start:not([disabled])').waitFor();
    await ben.page.fill('#followup-start', local(nextWeek(1, 13)));
    await ben.page.fill('#followup-end', local(nextWeek(1, 14)));
    await ben.page.click('#followup-save');
    await ben.page.waitForFunction(() => /Saved/.test(document.querySelector('#followup-dialog [role=status]')?.textContent ?? ''));
    const { followup, p } = await participant(USERS.ben, followupId, 'Cara Dahl');
    assert.equal(followup.start, nextWeek(1, 13).toISOString().replace('.000', ''));
    // Her answer starts over: she had answered, so the invitation is pending
    // again as `moved` (docs/api.md), back in her list.
    assert.equal(p.status, 'moved', 'a reschedule starts the answers over');
    const notes = await (await backend.api(USERS.ben)).get('/api/notifications');
    assert.ok(!notes.some((n) => n.appointment_id === followupId), 'Got it acknowledged the notification');
    // Closing the dialog reloads the whole list; the answer is held back so
    // that it arrives after "Show responses" is ticked, as on a slow line: a
    // late answer must not overwrite the newer, filtered one.
    await ben.page.route('**/api/invitations', async (route) => {
      await new Promise((r) => setTimeout(r, 800));
      await route.continue().catch(() => {});
    });
    const late = ben.page.waitForResponse((r) => new URL(r.url()).pathname === '/api/invitations' && !new URL(r.url()).search);
    await ben.page.keyboard.press('Escape');
    // Show responses keeps the responses alone.
    await ben.page.check('#show-responses');
    await ben.page.waitForFunction(() => /Responses/.test(document.getElementById('list-title')?.textContent ?? ''));
    await late;
    await ben.page.waitForTimeout(200);
    await ben.page.unroute('**/api/invitations');
    assert.equal(await ben.page.locator('#invitation-list li.item[data-direction=incoming]').count(), 0, 'no invitation waiting for me under Show responses');
    assert.equal(await ben.page.getAttribute('#invitation-list', 'data-filter'), 'responses');
    // Cara's decline was answered by the new time: it is no longer a response waiting.
    assert.equal(await ben.page.locator('#invitation-list li.item', { hasText: 'Rollout review' }).count(), 0);
  } finally {
    await ben.close();
  }
  const again = await open(USERS.cara);
  try {
    await go(again.page, '#/invitations');
    const item = again.page.locator('li.item[data-direction=incoming]', { hasText: 'Rollout review' });
    // She opens it first: the owner's description, as text, and her answer buttons.
    await item.getByRole('button', { name: 'Rollout review' }).click();
    await again.page.locator('#followup-dialog #invitation-answers').waitFor();
    assert.equal(await again.page.textContent('#followup-description-text'), 'Agenda: what went live');
    assert.ok(await again.page.isDisabled('#followup-start'), 'an invitee does not move it');
    assert.deepEqual(await axe(again.page), []);
    await shot(again.page, 'followup-invitee-1280');
    await again.page.keyboard.press('Escape');
    await again.page.locator('#followup-dialog').waitFor({ state: 'detached' });
    // The list is drawn again (opened: "Moved, seen"), and the keyboard is
    // back on the title she opened it from.
    await item.filter({ hasText: 'Moved, seen' }).waitFor();
    await again.page.waitForFunction(() => document.activeElement?.textContent === 'Rollout review');
    // Keyboard: Tab reaches the Accept button of the list; Enter presses it.
    const accept = item.getByRole('button', { name: 'Accept' });
    await accept.focus();
    await again.page.keyboard.press('Enter');
    await again.page.locator('#invitations-status:not([hidden])').waitFor();
    assert.equal((await participant(USERS.ben, followupId, 'Cara Dahl')).p.status, 'accepted');
    await go(again.page, '#/diary');
    await goToDate(again.page, nextWeek(1, 0));
    const event = again.page.locator(`.fc-event[data-appointment="${followupId}"]`);
    await event.waitFor();
    assert.equal(await event.getAttribute('data-state'), 'accepted');
  } finally {
    await again.close();
  }
});

test('Ben assigns a follow-up to Dan, Dan declines, Ben reassigns it to Cara, Cara accepts and owns it', async () => {
  const ids = {};
  for (const u of ['ben', 'cara', 'dan']) ids[u] = (await (await backend.api(USERS[u])).get('/api/me')).id;
  const ben = await open(USERS.ben);
  let id;
  try {
    const { page } = ben;
    await page.click('#new-followup');
    await page.locator('#followup-dialog #followup-owner').waitFor();
    await page.fill('#followup-name', 'Service contract renewal');
    await page.fill('#followup-start', local(nextWeek(2, 10)));
    await page.fill('#followup-end', local(nextWeek(2, 11)));
    await page.selectOption('#followup-owner', { label: 'Dan Moe' });
    await page.click('#followup-save');
    await page.locator('#followup-participants tr', { hasText: 'Dan Moe' }).waitFor();
    assert.match(await page.textContent('#followup-participants'), /Dan Moe.*\(assigned\).*Assigned/);
    const entries = await (await backend.api(USERS.ben)).get(`/api/calendar?from=${nextWeek(2, 0).toISOString()}&until=${nextWeek(3, 0).toISOString()}`);
    id = entries.find((e) => e.title === 'Service contract renewal').appointment_id;
    await page.keyboard.press('Escape');
  } finally {
    await ben.close();
  }
  const dan = await open(USERS.dan, { hash: '#/invitations' });
  try {
    await go(dan.page, '#/invitations');
    const item = dan.page.locator('li.item[data-direction=incoming]', { hasText: 'Service contract renewal' });
    assert.match(await item.textContent(), /Assignment/);
    assert.equal(await item.getByRole('button', { name: 'Tentative' }).count(), 0, 'an assignment is accepted or declined');
    await item.getByRole('button', { name: 'Decline' }).click();
    await dan.page.locator('#invitations-status:not([hidden])').waitFor();
  } finally {
    await dan.close();
  }
  const again = await open(USERS.ben, { hash: '#/invitations' });
  try {
    const { page } = again;
    await go(page, '#/invitations');
    const note = () => page.locator('li[data-what=assignment_declined]', { hasText: 'Service contract renewal' });
    await note().getByRole('button', { name: 'Got it' }).click();
    await page.waitForFunction(() => {
      const note = [...document.querySelectorAll('li[data-what=assignment_declined]')].find((li) => li.textContent.includes('Service contract renewal'));
      const options = [...(note?.querySelectorAll('select option') ?? [])].map((o) => o.textContent);
      return options.includes('Cara Dahl') && !options.includes('Dan Moe');
    });
    await note().getByLabel('Reassign to').selectOption({ label: 'Cara Dahl' });
    assert.deepEqual(await axe(page), []);
    await shot(page, 'invitations-reassign-1280');
    await note().getByRole('button', { name: 'Reassign' }).click();
    await page.waitForFunction(() => /Reassigned to Cara Dahl/.test(document.getElementById('invitations-status')?.textContent ?? ''));
  } finally {
    await again.close();
  }
  const cara = await open(USERS.cara, { hash: '#/invitations' });
  try {
    await go(cara.page, '#/invitations');
    const item = cara.page.locator('li.item[data-direction=incoming]', { hasText: 'Service contract renewal' });
    await item.getByRole('button', { name: 'Accept' }).click();
    await cara.page.locator('#invitations-status:not([hidden])').waitFor();
    const f = await (await backend.api(USERS.cara)).get(`/api/followups/${id}`);
    assert.equal(f.owner_id, ids.cara, 'Cara owns it now');
  } finally {
    await cara.close();
  }
});

test('the inbox loop: an invitation from a contact arrives, shows tentative, Accept and notify puts a REPLY in the outbox', async () => {
  const start = nextWeek(3, 8);
  await deliver(USERS.ben, invitation({ uid: 'web-inbox-1@acme.example', summary: 'Contract <b>renewal</b>', start }));
  const s = await open(USERS.ben);
  try {
    const { page } = s;
    await goToDate(page, start);
    const event = page.locator('.fc-event', { hasText: 'Contract <b>renewal</b>' });
    await event.waitFor();
    assert.equal(await event.getAttribute('data-state'), 'tentative');
    await go(page, '#/inbox');
    await page.locator('#inbox-decision[aria-busy=false]').waitFor({ timeout: 30_000 });
    assert.equal(await page.textContent('#mail-title'), 'Contract <b>renewal</b>', 'shown as text');
    assert.equal(await page.locator('#mail-detail b').count(), 0, 'never as markup');
    assert.match(await page.textContent('#inbox-decision'), /Bob Berg/);
    assert.ok(await page.isEnabled('#inbox-accept-notify'));
    assert.ok(await page.isEnabled('#inbox-accept-quiet'));
    assert.deepEqual(await axe(page), []);
    await shot(page, 'inbox-1280');
    await page.click('#inbox-accept-notify');
    await page.waitForFunction(() => /done/.test(document.getElementById('inbox-status')?.textContent ?? ''));
    assert.match(await page.textContent('#inbox-status'), /bob@acme\.example/);
    const outbox = await (await backend.api(USERS.ben)).get('/api/outbox');
    assert.ok(outbox.some((m) => m.method === 'REPLY' && m.recipient === 'bob@acme.example' && /PARTSTAT=ACCEPTED/.test(m.ics)));
    const entries = await (await backend.api(USERS.ben)).get(`/api/calendar?from=${nextWeek(3, 0).toISOString()}&until=${nextWeek(4, 0).toISOString()}`);
    assert.equal(entries.find((e) => e.title === 'Contract <b>renewal</b>').status, 'accepted');
  } finally {
    await s.close();
  }
});

test('under disable_all an invitation is a plain e-mail with the buttons disabled', async () => {
  const ada = await backend.api(USERS.ada);
  await ada.put('/api/preferences', { incoming: 'disable_all' });
  try {
    await deliver(USERS.dan, invitation({ uid: 'web-plain@acme.example', summary: 'Plain lunch', start: nextWeek(2, 11), to: USERS.dan.email }));
    const s = await open(USERS.dan, { hash: '#/inbox' });
    try {
      await go(s.page, '#/inbox');
      await s.page.locator('#inbox-decision[aria-busy=false]').waitFor({ timeout: 30_000 });
      assert.equal(await s.page.getAttribute('#inbox-decision-card', 'data-display'), 'plain_email');
      for (const id of ['inbox-accept-notify', 'inbox-accept-quiet', 'inbox-tentative', 'inbox-decline']) assert.ok(await s.page.isDisabled(`#${id}`), id);
      await shot(s.page, 'inbox-plain-1280');
    } finally {
      await s.close();
    }
  } finally {
    await ada.put('/api/preferences', { incoming: 'enable_all' });
  }
});

test('settings: the tentative import toggle saves, and is disabled with the reason under a synchronizer', async () => {
  const s = await open(USERS.dan, { hash: '#/settings' });
  try {
    await go(s.page, '#/settings');
    assert.ok(await s.page.isChecked('#import-tentative'));
    await s.page.uncheck('#import-tentative');
    await s.page.locator('#settings-status.success').waitFor();
    assert.equal((await (await backend.api(USERS.dan)).get('/api/settings')).import_tentative, false);
    assert.deepEqual(await axe(s.page), []);
    await shot(s.page, 'settings-1280');
    await (await backend.api(USERS.dan)).put('/api/settings', { synchronizer: true });
    await s.page.reload();
    await ready(s.page);
    assert.ok(await s.page.isDisabled('#import-tentative'));
    assert.match(await s.page.textContent('#import-tentative-help'), /Not available: .*synchroni/i);
    await shot(s.page, 'settings-synchronizer-1280');
  } finally {
    await (await backend.api(USERS.dan)).put('/api/settings', { synchronizer: false, import_tentative: true });
    await s.close();
  }
});

test('group view, contacts and Try it', async () => {
  const s = await open(USERS.ben, { hash: '#/group' });
  try {
    const { page } = s;
    await go(page, '#/group');
    await page.fill('#group-date', nextWeek(0, 0).toISOString().slice(0, 10));
    await page.locator('#group-date').dispatchEvent('change');
    await page.waitForFunction(() => document.querySelectorAll('#group-grid .g-busy').length > 0);
    assert.ok(await page.locator('#group-grid .g-row[data-id]').count() >= 4);
    assert.deepEqual(await page.$$eval('#group-legend li strong', (els) => els.map((e) => e.textContent)), ['Busy', 'Tentative', 'Free']);
    assert.equal(await page.locator('#group-grid').evaluate((g) => /kick-off|planning/i.test(g.textContent)), false, 'no titles');
    assert.deepEqual(await axe(page), []);
    await shot(page, 'group-1280');
    await page.click('#group-first');
    await page.locator('#followup-dialog #followup-name').waitFor();
    assert.ok((await page.locator('#followup-participants li').count()) >= 3, 'the people and rooms shown come along');
    await page.keyboard.press('Escape');

    await go(page, '#/contacts');
    await page.fill('#contact-search', 'bob');
    await page.locator('#person-list button', { hasText: 'Bob Berg' }).click();
    await page.locator('#contact-name').waitFor();
    assert.match(await page.textContent('#contact-card'), /bob@acme\.example/);
    assert.match(await page.textContent('#activities'), /Acme rollout kick-off/);
    assert.deepEqual(await axe(page), []);
    await shot(page, 'contacts-1280');

    await go(page, '#/try');
    await page.getByRole('button', { name: 'Weekly series' }).click();
    await page.locator('#try-decision').waitFor({ timeout: 30_000 });
    assert.match(await page.textContent('#try-decision'), /recurring/);
    assert.match(await page.textContent('#try-decision'), /Accept all/i);
    await page.getByRole('button', { name: 'Unknown sender' }).click();
    await page.waitForFunction(() => /not a registered contact/.test(document.getElementById('try-decision')?.textContent ?? ''));
    assert.deepEqual(await axe(page), []);
    await shot(page, 'try-1280');
  } finally {
    await s.close();
  }
});

test('every page at 390 px: nothing wider than the screen, no serious accessibility violation', async () => {
  const s = await open(USERS.ben, { width: 390, height: 844 });
  try {
    for (const page of ['diary', 'invitations', 'inbox', 'group', 'contacts', 'try', 'settings']) {
      await go(s.page, `#/${page}`);
      if (page === 'diary') await s.page.locator('.fc-view').waitFor();
      const overflow = await s.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${page} is ${overflow}px wider than the screen`);
      assert.deepEqual(await axe(s.page), [], page);
      await shot(s.page, `${page}-390`);
    }
    await go(s.page, '#/diary');
    await s.page.click('#new-followup');
    await s.page.locator('#followup-dialog #followup-owner').waitFor();
    assert.deepEqual(await axe(s.page), [], 'the dialog at 390 px');
    await shot(s.page, 'followup-new-390');
  } finally {
    await s.close();
  }
});

test('the web client is served at / and its private folders are not', async () => {
  const index = await fetch(`${backend.origin}/`);
  assert.equal(index.status, 200);
  assert.match(await index.text(), /invitelink CRM/);
  for (const p of ['/web/tests/client.test.mjs', '/web/test-artifacts/signin-1280.png', '/web/node_modules/@fullcalendar/core/package.json', '/web/package.json']) {
    assert.equal((await fetch(`${backend.origin}${p}`)).status, 404, p);
  }
  assert.equal((await fetch(`${backend.origin}/web/src/main.js`)).status, 200);
  assert.ok(here);
});

test('the guard against policy violations and errors reports them', async () => {
  const context = await newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${backend.origin}/`);
    await page.locator('#signin-email').waitFor();
    // What WEB_POLICY forbids: an inline script, and a style sheet from elsewhere.
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true;';
      document.head.append(script);
    });
    assert.equal(await page.evaluate(() => window.inlineRan ?? false), false, 'the inline script was blocked');
    await page.evaluate(() => {
      setTimeout(() => {
        throw new Error('thrown on purpose');
      });
      setTimeout(() => Promise.reject(new Error('rejected on purpose')));
      setTimeout(() => console.error('logged on purpose'));
    });
    await page.waitForTimeout(50);
  } finally {
    await closeContext(context);
  }
  const seen = takeProblems();
  assert.ok(seen.some((p) => /^CSP violation: script-src(-elem)? blocked inline/.test(p)), seen.join('\n'));
  assert.ok(seen.some((p) => /^uncaught: thrown on purpose/.test(p)), seen.join('\n'));
  assert.ok(seen.some((p) => /^uncaught: rejected on purpose/.test(p)), seen.join('\n'));
  assert.ok(seen.includes('console error: logged on purpose'), seen.join('\n'));
});

test('Try it without Outlook opens from the sign-in page, without an account, and asks the server nothing', async () => {
  for (const width of [1280, 390]) {
    const context = await newContext({ width, height: width === 390 ? 844 : 900 });
    try {
      const page = await context.newPage();
      const asked = [];
      page.on('request', (r) => new URL(r.url()).pathname.startsWith('/api/') && asked.push(r.url()));
      await page.goto(`${backend.origin}/`);
      await page.click('#try-public');
      await page.locator('h1', { hasText: 'Try it without Outlook' }).waitFor();
      assert.ok(await page.isHidden('#top'), 'no navigation of a signed-in user');
      await page.getByRole('button', { name: 'Invitation from a contact' }).click();
      await page.locator('#try-decision').waitFor({ timeout: 30_000 });
      assert.match(await page.textContent('#try-decision'), /Bob Berg/);
      await page.getByRole('button', { name: 'Unknown sender' }).click();
      await page.waitForFunction(() => /not a registered contact/.test(document.getElementById('try-decision')?.textContent ?? ''));
      assert.deepEqual(await axe(page), []);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${overflow}px wider than the screen`);
      await shot(page, `try-public-${width}`);
      assert.deepEqual(asked, []);
      await page.click('#try-signin');
      await page.locator('#signin-email').waitFor();
    } finally {
      await closeContext(context);
    }
  }
});

// The two tests below end Dan's sessions (the helper's API client for Dan
// with them): they come last.
const NEW_PASSWORD = 'Quiet harbour at dawn 7';

test('settings: changing the password (wrong current one refused, too short caught, then changed)', async () => {
  expectConsole(/status of 403/);
  const other = await token(USERS.dan);
  const s = await open(USERS.dan, { hash: '#/settings' });
  try {
    const { page } = s;
    await go(page, '#/settings');
    await page.fill('#password-current', 'not my password');
    await page.fill('#password-new', NEW_PASSWORD);
    await page.fill('#password-again', NEW_PASSWORD);
    await page.click('#password-submit');
    await page.locator('#password-status.error').waitFor();
    assert.match(await page.textContent('#password-status'), /current password is wrong/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'password-current');
    await page.fill('#password-current', USERS.dan.password);
    await page.fill('#password-new', 'short');
    await page.fill('#password-again', 'short');
    await page.click('#password-submit');
    assert.match(await page.textContent('#password-status'), /at least 10 characters/);
    await page.fill('#password-new', NEW_PASSWORD);
    await page.fill('#password-again', `${NEW_PASSWORD}x`);
    await page.click('#password-submit');
    assert.match(await page.textContent('#password-status'), /differ/);
    await page.fill('#password-again', NEW_PASSWORD);
    assert.deepEqual(await axe(page), []);
    await page.click('#password-submit');
    await page.locator('#password-status.success').waitFor();
    assert.equal(await page.inputValue('#password-current'), '', 'the form is emptied');
    await shot(page, 'settings-password-1280');
    const signin = (password) => fetch(`${backend.origin}/api/signin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: USERS.dan.email, password }) });
    assert.equal((await signin(USERS.dan.password)).status, 401, 'the old password no longer works');
    assert.equal((await signin(NEW_PASSWORD)).status, 200, 'the new one does');
    const me = await fetch(`${backend.origin}/api/me`, { headers: { authorization: `Bearer ${other}` } });
    assert.equal(me.status, 401, 'the other session ended');
    await go(page, '#/diary');
    assert.equal(await page.textContent('#who-name'), 'Dan Moe', 'this session stays');
  } finally {
    await s.close();
  }
});

test('settings: Sign out everywhere ends this session and the others', async () => {
  const dan = { ...USERS.dan, password: NEW_PASSWORD };
  const other = await token(dan);
  const s = await open(dan, { hash: '#/settings', width: 390, height: 844 });
  try {
    const { page } = s;
    await go(page, '#/settings');
    await shot(page, 'settings-sessions-390');
    page.once('dialog', (d) => d.accept());
    await page.click('#signout-all');
    await page.locator('#signin-notice').waitFor();
    assert.match(await page.textContent('#signin-notice'), /signed out everywhere/);
    assert.ok(await page.isHidden('#top'));
    assert.equal(await page.evaluate(() => window.sessionStorage.length), 0, 'the token is forgotten');
    const me = await fetch(`${backend.origin}/api/me`, { headers: { authorization: `Bearer ${other}` } });
    assert.equal(me.status, 401, 'the other session ended');
    assert.deepEqual(await axe(page), []);
    await shot(page, 'signin-notice-390');
  } finally {
    await s.close();
  }
});
