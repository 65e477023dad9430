// Setting a company up from nothing in the web client: headless Chromium
// against the real backend on a fresh SQLite file started WITHOUT demo data.
// The first administrator signs in with the printed password and changes
// it in My settings, adds two associates (one with a password, one with a
// one-time link) and a room, sets the preferences, imports contacts from
// Outlook's CSV and Google's vCard (a bad row of each reported); the new
// associates sign in to an empty diary; a follow-up with the room and an
// imported contact works; the calendar feed serves it and a revoked feed
// answers 404; a disabled associate is signed out on their next call.
// axe-core on every new page; screenshots at 1280 and 390 px go to
// web/test-artifacts/.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startBackend } from '../../addin/tests/support/backend.mjs';
import { axe, closeContext, expectConsole, go, GOOGLE_VCF, guardPages, importSample, launchBrowser, newContext, ready, shot } from './support.mjs';

const ADMIN = 'admin@invitelink.example';
const ADMIN_PASSWORD = 'the harbour lights at dusk';
const BEN = { email: 'ben@ourcompany.example', password: 'ben walks to work', name: 'Ben Holm' };
const CARA = { email: 'cara@ourcompany.example', password: 'cara reads late', name: 'Cara Dahl' };

let backend;
let browser;
let printed;

before(async () => {
  backend = await startBackend({ demo: false });
  printed = backend.output().match(/first start: administrator (\S+) with password (\S+)/);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await backend?.stop();
});

async function call(method, p, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const r = await fetch(`${backend.origin}${p}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: r.status, text, json, headers: r.headers };
}

async function tokenOf(email, password) {
  const r = await call('POST', '/api/signin', { body: { email, password } });
  assert.equal(r.status, 200, r.text);
  return r.json.token;
}

async function context({ width = 1280, height = 900 } = {}) {
  // The flows provoke refusals on purpose (a weak password, a disabled
  // account): the browser logs those answers' 4xx statuses as errors.
  expectConsole(/status of 4\d\d/);
  const ctx = await newContext(browser, { width, height });
  const page = await ctx.newPage();
  return { page, close: () => closeContext(ctx) };
}

async function signIn(page, email, password, hash = '#/diary') {
  await page.goto(`${backend.origin}/${hash}`);
  await page.fill('#signin-email', email);
  await page.fill('#signin-password', password);
  await page.click('#signin-submit');
  await page.locator('#top').waitFor({ state: 'visible' });
  await ready(page);
}




async function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** A follow-up's day: the next Monday, 09:00-10:00 UTC. */
function monday(hour) {
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const untilMonday = 7 - ((now.getUTCDay() + 6) % 7);
  return new Date(today + untilMonday * 86400_000 + hour * 3600_000);
}

let caraLink;
let roomId;

guardPages();

test('the first administrator signs in with the printed password and changes it in My settings', async () => {
  assert.ok(printed, `the first start prints the administrator's password:\n${backend.output()}`);
  assert.equal(printed[1], ADMIN);
  const s = await context();
  try {
    const { page } = s;
    await signIn(page, ADMIN, printed[2], '#/settings');
    await page.locator('#password-current').waitFor();
    await page.fill('#password-current', printed[2]);
    await page.fill('#password-new', 'qwertyuiop');
    await page.fill('#password-again', 'qwertyuiop');
    await page.click('#password-submit');
    await page.locator('#password-status.error').waitFor();
    assert.match(await page.textContent('#password-status'), /Not changed: .*common/);
    await page.fill('#password-new', ADMIN_PASSWORD);
    await page.fill('#password-again', ADMIN_PASSWORD);
    await page.click('#password-submit');
    await page.locator('#password-status.success').waitFor();
    assert.match(await page.textContent('#password-status'), /Password changed/);
    // This session stays; the printed password is spent.
    await go(page, '#/diary');
    assert.equal(await page.isVisible('#top'), true);
  } finally {
    await s.close();
  }
  assert.equal((await call('POST', '/api/signin', { body: { email: ADMIN, password: printed[2] } })).status, 401);
  assert.equal((await call('POST', '/api/signin', { body: { email: ADMIN, password: ADMIN_PASSWORD } })).status, 200);
});

test('Administration: two associates, a room and the preferences, from the web client', async () => {
  const s = await context();
  try {
    const { page } = s;
    await signIn(page, ADMIN, ADMIN_PASSWORD);
    assert.equal(await page.isVisible('#nav-admin'), true, 'administrators see Administration');
    await page.click('#nav-admin a');
    await ready(page);
    await page.locator('#associates-list').waitFor();
    assert.equal(await page.getAttribute('#nav a[data-page=admin]', 'aria-current'), 'page');
    // The only associate so far: the administrator, who cannot disable themselves.
    assert.equal(await page.locator('#associates-list > li').count(), 1);
    assert.equal(await page.locator('#associates-list [data-action=active]').isDisabled(), true);

    // Ben with a password of the administrator's choosing.
    await page.fill('#new-associate-name', BEN.name);
    await page.fill('#new-associate-email', BEN.email);
    await page.check('#new-associate-with-password');
    await page.fill('#new-associate-password', 'password123');
    await page.click('#new-associate-submit');
    await page.locator('#associates-status.error').waitFor();
    assert.match(await page.textContent('#associates-status'), /too common/);
    await page.fill('#new-associate-password', BEN.password);
    await page.click('#new-associate-submit');
    await page.locator('#associates-list li[data-email="ben@ourcompany.example"]').waitFor();
    assert.match(await page.textContent('#associates-status'), /Ben Holm was added and can sign in now/);

    // Cara with a one-time link, shown once.
    await page.fill('#new-associate-name', CARA.name);
    await page.fill('#new-associate-email', CARA.email);
    await page.check('#new-associate-link');
    await page.click('#new-associate-submit');
    await page.locator('#associate-made .link-url').waitFor();
    caraLink = await page.inputValue('#associate-made .link-url');
    assert.match(caraLink, /\/#\/set-password\/[0-9a-f]{64}$/);
    assert.match(await page.textContent('#associates-list li[data-email="cara@ourcompany.example"]'), /set-password link waiting/);
    // Names are text, never markup.
    await page.fill('#new-associate-name', '<img src=x onerror=alert(1)> Dan');
    await page.fill('#new-associate-email', 'dan@ourcompany.example');
    await page.click('#new-associate-submit');
    await page.locator('#associates-list li[data-email="dan@ourcompany.example"]').waitFor();
    assert.equal(await page.locator('#associates-list img').count(), 0);
    assert.match(await page.textContent('#associates-list li[data-email="dan@ourcompany.example"]'), /<img src=x onerror=alert\(1\)> Dan/);

    // A room, then a projector renamed and retired.
    await page.fill('#new-resource-name', 'Room Fjord');
    await page.click('#new-resource-submit');
    await page.locator('#resources-list li[data-name="Room Fjord"]').waitFor();
    await page.fill('#new-resource-name', 'Projector');
    await page.selectOption('#new-resource-kind', 'equipment');
    await page.click('#new-resource-submit');
    const projector = page.locator('#resources-list li[data-name="Projector"]');
    await projector.locator('form.rename input').fill('Old projector');
    await projector.locator('form.rename button').click();
    const old = page.locator('#resources-list li[data-name="Old projector"]');
    await old.waitFor();
    await old.locator('[data-action=retire]').click();
    await page.locator('#resources-list li[data-name="Old projector"].inactive').waitFor();

    // The preferences.
    await page.selectOption('#pref-incoming-select', 'disable_tentative');
    await page.uncheck('#pref-request-reply');
    await page.fill('#pref-crm-inbox', 'CRM@OurCompany.example');
    await page.click('#preferences-submit');
    await page.locator('#preferences-status.success').waitFor();
    assert.equal(await page.inputValue('#pref-crm-inbox'), 'crm@ourcompany.example');

    // The mail status of a server without mail settings says so.
    assert.match(await page.textContent('#mail-status'), /No inbox is polled/);
    assert.match(await page.textContent('#outbox-counts'), /No SMTP server is configured/);

    assert.deepEqual(await axe(page), []);
    await shot(page, 'admin-1280');

    const token = await tokenOf(ADMIN, ADMIN_PASSWORD);
    const prefs = (await call('GET', '/api/preferences', { token })).json;
    assert.equal(prefs.incoming, 'disable_tentative');
    assert.equal(prefs.request_reply, false);
    assert.equal(prefs.crm_inbox, 'crm@ourcompany.example');
    const resources = (await call('GET', '/api/resources', { token })).json;
    assert.deepEqual(resources.map((r) => r.name), ['Room Fjord'], 'a retired resource is no longer offered');
    roomId = resources[0].id;
  } finally {
    await s.close();
  }
});

test('the administrator imports the company’s contacts from a CSV file and a vCard file, a bad row of each reported', async () => {
  const s = await context();
  try {
    const { page } = s;
    await signIn(page, ADMIN, ADMIN_PASSWORD, '#/contacts');
    await page.locator('#person-list, #contact-results p').first().waitFor();
    assert.match(await page.textContent('#contact-results'), /No persons found/, 'a new company has no contacts');
    await page.click('#contacts-import');
    await page.locator('#import-drop').waitFor();
    // Nobody is known yet: every good row is new.
    await importSample(page, 'outlook.csv', {
      summary: /4 contacts — 3 new, 0 already known, 1 refused/,
      refused: /line 6.*is not an e-mail address/s,
      status: /3 added, 0 updated, 0 skipped, 1 refused/,
    });
    await page.click('#import-again');
    await importSample(page, 'google.vcf', GOOGLE_VCF);
    await page.click('#import-close');
    const token = await tokenOf(ADMIN, ADMIN_PASSWORD);
    const persons = (await call('GET', '/api/persons?q=s%C3%A6ther', { token })).json;
    assert.deepEqual(persons.map((p) => p.name), ['Jürgen Sæther']);
  } finally {
    await s.close();
  }
});

test('Cara sets her password with the one-time link, and sees her empty diary', async () => {
  const s = await context();
  try {
    const { page } = s;
    await page.goto(caraLink);
    await page.locator('#set-password').waitFor();
    assert.match(await page.textContent('main'), /For Cara Dahl \(cara@ourcompany\.example\)/);
    assert.deepEqual(await axe(page), []);
    await shot(page, 'set-password-1280');
    await page.fill('#set-password', 'basketball');
    await page.fill('#set-password-again', 'basketball');
    await page.click('#set-password-submit');
    await page.locator('#set-password-status.error').waitFor();
    await page.fill('#set-password', CARA.password);
    await page.fill('#set-password-again', CARA.password);
    await page.click('#set-password-submit');
    await page.locator('#set-password-done').waitFor();
    await page.click('#set-password-done');
    await page.fill('#signin-email', CARA.email);
    await page.fill('#signin-password', CARA.password);
    await page.click('#signin-submit');
    await page.locator('#top').waitFor({ state: 'visible' });
    await ready(page);
    await page.locator('.fc-timegrid').waitFor();
    assert.equal(await page.locator('.fc-event').count(), 0, 'a new associate starts with an empty diary');
    assert.equal(await page.isVisible('#nav-admin'), false, 'users do not see Administration');
    await go(page, '#/admin');
    assert.match(await page.textContent('main'), /This page is for administrators/);
    // The link is used up.
    const again = await context();
    await again.page.goto(caraLink);
    await again.page.locator('main .message.error').waitFor();
    assert.match(await again.page.textContent('main'), /no longer works/);
    await again.close();
  } finally {
    await s.close();
  }
});

test('Ben books the room; his calendar feed serves it until he revokes it', async () => {
  const s = await context();
  try {
    const { page } = s;
    await signIn(page, BEN.email, BEN.password);
    await page.locator('.fc-timegrid').waitFor();
    assert.equal(await page.locator('.fc-event').count(), 0);
    // A follow-up with the room, made in the diary's dialog.
    await page.click('#new-followup');
    await page.locator('#followup-dialog').waitFor();
    await page.fill('#followup-name', 'Kick-off, in Fjord');
    await page.fill('#followup-start', monday(9).toISOString().slice(0, 16));
    await page.fill('#followup-end', monday(10).toISOString().slice(0, 16));
    await page.fill('#participant-search', 'fjord');
    await page.locator('#participant-results button', { hasText: 'Room Fjord' }).click();
    await page.fill('#participant-search', 'cara');
    await page.locator('#participant-results button', { hasText: 'Cara Dahl' }).click();
    // A customer the administrator imported.
    await page.fill('#participant-search', 'sæther');
    await page.locator('#participant-results button', { hasText: 'Jürgen Sæther' }).click();
    await page.click('#followup-save');
    await page
      .waitForFunction(() => document.getElementById('followup-title')?.textContent === 'Kick-off, in Fjord', null, { timeout: 10_000 })
      .catch(async () => assert.fail(`not saved: ${await page.textContent('#followup-dialog')}`));
    assert.match(await page.textContent('#followup-participants'), /Room Fjord/);
    assert.match(await page.textContent('#followup-participants'), /Jürgen Sæther/);
    await page.keyboard.press('Escape');
    const benToken = await tokenOf(BEN.email, BEN.password);
    const busy = await call('GET', `/api/freebusy?resources=${roomId}&from=${monday(0).toISOString()}&until=${monday(24).toISOString()}`, { token: benToken });
    assert.equal(busy.status, 200, busy.text);
    assert.ok(JSON.stringify(busy.json).includes(monday(9).toISOString().slice(0, 16)), `the room is booked: ${busy.text}`);
    const outbox = await call('GET', '/api/outbox', { token: await tokenOf(ADMIN, ADMIN_PASSWORD) });
    assert.ok(
      outbox.json.some((m) => m.method === 'REQUEST' && m.recipient === 'jurgen.saether@nordkapp.example'),
      `the imported contact is invited by e-mail: ${outbox.text}`,
    );

    // The feed, from My settings.
    await go(page, '#/settings');
    await page.locator('#feed-create').waitFor();
    assert.match(await page.textContent('#feed-body'), /You have no feed address/);
    await page.click('#feed-create');
    await page.locator('#feed-url').waitFor();
    const url = await page.inputValue('#feed-url');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/feeds\/[0-9a-f]{64}\.ics$/);
    assert.deepEqual(await axe(page), []);
    await shot(page, 'settings-feed-1280');
    const feed = await fetch(url);
    assert.equal(feed.status, 200);
    assert.equal(feed.headers.get('content-type'), 'text/calendar; charset=utf-8');
    const ics = await feed.text();
    assert.match(ics, /^BEGIN:VCALENDAR\r\n/);
    assert.match(ics, /SUMMARY:Kick-off\\, in Fjord\r\n/);
    assert.match(ics, /REFRESH-INTERVAL;VALUE=DURATION:PT30M\r\n/);
    const etag = feed.headers.get('etag');
    assert.equal((await fetch(url, { headers: { 'if-none-match': etag } })).status, 304);
    // Shown once: a reload tells only that a feed exists.
    await go(page, '#/diary');
    await go(page, '#/settings');
    await page.locator('#feed-revoke').waitFor();
    assert.equal(await page.locator('#feed-url').count(), 0);
    assert.match(await page.textContent('#feed-body'), /You have a feed address/);
    await page.click('#feed-revoke');
    await page.locator('#feed-status.success').waitFor();
    assert.equal((await fetch(url)).status, 404, 'a revoked feed answers 404 at once');
  } finally {
    await s.close();
  }
});

test('a disabled associate is signed out on their next call; enabled again, they sign in', async () => {
  const cara = await context();
  const admin = await context();
  try {
    await signIn(cara.page, CARA.email, CARA.password);
    await signIn(admin.page, ADMIN, ADMIN_PASSWORD, '#/admin');
    await admin.page.locator('#associates-list').waitFor();
    const row = admin.page.locator('#associates-list li[data-email="cara@ourcompany.example"]');
    await row.locator('[data-action=active]').click();
    await admin.page.locator('#associates-list li[data-email="cara@ourcompany.example"].inactive').waitFor();
    assert.match(await admin.page.textContent('#associates-status'), /Cara Dahl is disabled/);
    // Cara's next call is refused: the client shows the sign-in page.
    await go(cara.page, '#/settings').catch(() => {});
    await cara.page.locator('#signin-email').waitFor();
    await cara.page.fill('#signin-email', CARA.email);
    await cara.page.fill('#signin-password', CARA.password);
    await cara.page.click('#signin-submit');
    await cara.page.locator('#signin-error').waitFor();
    // Enabled again.
    await admin.page.locator('#associates-list li[data-email="cara@ourcompany.example"] [data-action=active]').click();
    await admin.page.locator('#associates-list li[data-email="cara@ourcompany.example"]:not(.inactive)').waitFor();
    await cara.page.click('#signin-submit');
    await cara.page.locator('#top').waitFor({ state: 'visible' });
    // A reset by link from the page.
    await admin.page.locator('#associates-list li[data-email="ben@ourcompany.example"] [data-action=reset]').click();
    await admin.page.locator('#associates-list li[data-email="ben@ourcompany.example"] form.reset button.secondary').click();
    await admin.page.locator('#associate-made .link-url').waitFor();
    assert.equal((await call('POST', '/api/signin', { body: { email: BEN.email, password: BEN.password } })).status, 401, 'the old password stops');
  } finally {
    await cara.close();
    await admin.close();
  }
});

test('the new pages at 390 px: nothing wider than the screen, no serious accessibility violation', async () => {
  const s = await context({ width: 390, height: 844 });
  try {
    const { page } = s;
    await signIn(page, ADMIN, ADMIN_PASSWORD, '#/admin');
    await page.locator('#associates-list').waitFor();
    // Open a reset form so that it is checked too.
    await page.locator('#associates-list li[data-email="dan@ourcompany.example"] [data-action=reset]').click();
    assert.ok((await overflow(page)) <= 1, `admin is ${await overflow(page)}px wider than the screen`);
    assert.deepEqual(await axe(page), []);
    await shot(page, 'admin-390');
    await go(page, '#/settings');
    await page.click('#feed-create');
    await page.locator('#feed-url').waitFor();
    assert.ok((await overflow(page)) <= 1, 'settings is wider than the screen');
    assert.deepEqual(await axe(page), []);
    await shot(page, 'settings-feed-390');
    const token = await tokenOf(ADMIN, ADMIN_PASSWORD);
    const link = await call('POST', `/api/associates/${(await call('GET', '/api/admin/associates', { token })).json.find((a) => a.email === 'dan@ourcompany.example').id}/password-link`, { token });
    await page.goto(`${backend.origin}${link.json.path}`);
    await page.locator('#set-password').waitFor();
    assert.ok((await overflow(page)) <= 1);
    assert.deepEqual(await axe(page), []);
    await shot(page, 'set-password-390');
  } finally {
    await s.close();
  }
});
