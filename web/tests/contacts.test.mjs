// The Contacts page's forms and Import flow end to end: headless Chromium
// against the real backend (demo data), as client.test.mjs runs it. Ada, an
// administrator, imports Outlook's CSV (Windows-1252) and Google's vCard,
// each with one row refused and reported; an imported contact is then
// invited to a follow-up. Ben adds and edits a person and a company through
// the forms. axe-core on every state; screenshots at 1280 and 390 px go to
// web/test-artifacts/.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { USERS, startBackend } from '../../addin/tests/support/backend.mjs';
import { CONTACT_SAMPLES as SAMPLES, axe, closeContext, expectConsole, GOOGLE_VCF, guardPages, importSample, launchBrowser, newContext, ready, shot } from './support.mjs';

guardPages();

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

async function open(user, { width = 1280, height = 900 } = {}) {
  // A form refused by the server (an address of Bob's) answers 4xx on purpose.
  expectConsole(/status of 4\d\d/);
  const context = await newContext(browser, { width, height });
  const page = await context.newPage();
  await page.goto(`${backend.origin}/#/contacts`);
  await page.fill('#signin-email', user.email);
  await page.fill('#signin-password', user.password);
  await page.click('#signin-submit');
  await page.locator('#top').waitFor({ state: 'visible' });
  await ready(page);
  await page.locator('#person-list, #contact-results p').first().waitFor();
  return { page, close: () => closeContext(context) };
}

async function noWiderThanTheScreen(page, what) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `${what} is ${overflow}px wider than the screen`);
}

test('Ada imports Outlook’s CSV and Google’s vCard, each with a refused row reported; a follow-up with an imported contact works', async () => {
  const s = await open(USERS.ada);
  try {
    const { page } = s;
    await page.click('#contacts-import');
    await page.locator('#import-drop').waitFor();

    // Outlook's CSV (Windows-1252): Bob Berg is known, the Exchange-only row is refused.
    await page.setInputFiles('#import-file', path.join(SAMPLES, 'outlook.csv'));
    await page.locator('#import-summary').waitFor();
    assert.match(await page.textContent('#import-summary'), /4 contacts — 2 new, 1 already known, 1 refused/);
    assert.match(await page.textContent('#import-summary'), /windows-1252/);
    assert.match(await page.textContent('#import-refused'), /line 6.*is not an e-mail address/s);
    assert.match(await page.textContent('#import-duplicates'), /Bob Berg/);
    assert.match(await page.textContent('#import-new'), /Jürgen Sæther.*Nordkapp Maskin AS/s);
    assert.equal(await page.inputValue('#import-columns select[aria-label="Import column Job Title as"]'), 'title');
    await page.selectOption('#import-duplicates select.row-choice', 'update');
    assert.deepEqual(await axe(page), []);
    await shot(page, 'contacts-import-preview-1280');
    await page.click('#import-commit');
    await page.locator('#import-report').waitFor();
    assert.match(await page.textContent('#import-status'), /2 added, 1 updated, 0 skipped, 1 refused; 2 companies added/);
    assert.match(await page.textContent('#import-report-refused'), /Exchange Only/);
    assert.deepEqual(await axe(page), []);
    await shot(page, 'contacts-import-report-1280');
    const api = await backend.api(USERS.ada);
    const bob = (await api.get('/api/persons?q=robert.berg')).find((p) => p.name === 'Bob Berg');
    assert.ok(bob, 'the update gave Bob his second address');

    // Google's vCard: one card without an address.
    await page.click('#import-again');
    await importSample(page, 'google.vcf', GOOGLE_VCF);
    await page.click('#import-close');

    // A follow-up with an imported contact.
    await page.fill('#contact-search', 'sæther');
    await page.locator('#person-list button', { hasText: 'Jürgen Sæther' }).click();
    await page.locator('#contact-name').waitFor();
    assert.match(await page.textContent('#contact-card'), /js@nordkapp-service\.example/);
    assert.match(await page.textContent('#contact-card'), /\+47 77 60 00 00/);
    await page.getByRole('button', { name: 'New follow-up with this person' }).click();
    await page.locator('#followup-dialog #followup-name').waitFor();
    await page.fill('#followup-name', 'Nordkapp spare parts');
    assert.match(await page.textContent('#followup-participants'), /Jürgen Sæther/);
    await page.click('#followup-save');
    await page.waitForFunction(() => /Saved/.test(document.querySelector('#followup-dialog [role=status]')?.textContent ?? '') || document.getElementById('followup-title')?.textContent === 'Nordkapp spare parts');
    const jurgen = (await api.get('/api/persons?q=nordkapp')).find((p) => p.name === 'Jürgen Sæther');
    const activities = await api.get(`/api/persons/${jurgen.id}/activities`);
    assert.ok(activities.some((a) => a.title === 'Nordkapp spare parts'), JSON.stringify(activities));
    const outbox = await api.get('/api/outbox');
    assert.ok(outbox.some((m) => m.method === 'REQUEST' && m.recipient === 'jurgen.saether@nordkapp.example'), `the contact is invited at their first address: ${JSON.stringify(outbox.map((m) => [m.method, m.recipient]))}`);
    await page.keyboard.press('Escape');
  } finally {
    await s.close();
  }
});

test('Ben adds and edits a person with several addresses and a company; he has no Import', async () => {
  const s = await open(USERS.ben);
  try {
    const { page } = s;
    assert.equal(await page.locator('#contacts-import').count(), 0, 'importing is an administrator’s');
    await page.click('#contacts-new-company');
    await page.fill('#company-name', 'Fjellvann <b>AS</b>');
    await page.fill('#company-domain', 'fjellvann.example');
    await page.click('#company-save');
    await page.locator('#company-dialog').waitFor({ state: 'detached' });
    await page.locator('#company-list li', { hasText: 'Fjellvann <b>AS</b>' }).waitFor();
    assert.equal(await page.locator('#company-list b').count(), 0, 'names are text, never markup');

    await page.click('#contacts-new-person');
    await page.locator('#person-dialog').waitFor();
    await page.fill('#person-name', 'Siri Fjell');
    await page.fill('#person-email-1', 'siri@fjellvann.example');
    await page.click('#person-add-email');
    await page.fill('#person-email-2', 'bob@acme.example');
    await page.selectOption('#person-company', { label: 'Fjellvann <b>AS</b>' });
    await page.fill('#person-title', 'Daglig leder');
    assert.deepEqual(await axe(page), []);
    await shot(page, 'contacts-person-form-1280');
    await page.click('#person-save');
    await page.waitForFunction(() => /already registered/.test(document.getElementById('person-form-status')?.textContent ?? ''));
    await page.fill('#person-email-2', 'siri.fjell@mail.example');
    await page.click('#person-save');
    await page.locator('#person-dialog').waitFor({ state: 'detached' });
    await page.locator('#contact-name', { hasText: 'Siri Fjell' }).waitFor();
    assert.match(await page.textContent('#contact-card'), /siri\.fjell@mail\.example/);

    await page.click('#contact-edit');
    await page.locator('#person-dialog').waitFor();
    await page.fill('#person-phone', '+47 900 00 000');
    await page.click('#person-save');
    await page.locator('#person-dialog').waitFor({ state: 'detached' });
    await page.waitForFunction(() => /\+47 900 00 000/.test(document.getElementById('contact-card')?.textContent ?? ''));
    assert.deepEqual(await axe(page), []);
    await shot(page, 'contacts-1280');
  } finally {
    await s.close();
  }
});

test('Ada deletes a person who takes part in nothing; one with a follow-up stays, and she is told why; Ben has no Delete', async () => {
  const ben = await open(USERS.ben);
  try {
    const { page } = ben;
    await page.fill('#contact-search', 'bergström');
    await page.locator('#person-list button', { hasText: 'Ingrid Bergström' }).click();
    await page.locator('#contact-name', { hasText: 'Ingrid Bergström' }).waitFor();
    assert.equal(await page.locator('#contact-delete').count(), 0, 'deleting is an administrator’s');
  } finally {
    await ben.close();
  }
  const s = await open(USERS.ada);
  try {
    const { page } = s;
    expectConsole(/status of 409/);
    // Jürgen has a follow-up (the import test): kept, with the reason.
    await page.fill('#contact-search', 'sæther');
    await page.locator('#person-list button', { hasText: 'Jürgen Sæther' }).click();
    await page.locator('#contact-name', { hasText: 'Jürgen Sæther' }).waitFor();
    page.once('dialog', (d) => d.accept());
    await page.click('#contact-delete');
    await page.locator('#contact-delete-status:not([hidden])').waitFor();
    assert.match(await page.textContent('#contact-delete-status'), /Not deleted: .*linked to follow-ups/);
    assert.equal(await page.locator('#contact-name', { hasText: 'Jürgen Sæther' }).count(), 1);
    assert.deepEqual(await axe(page), []);
    await shot(page, 'contacts-delete-refused-1280');
    // Ingrid takes part in nothing. Asked first: "Cancel" keeps her.
    await page.fill('#contact-search', 'bergström');
    await page.locator('#person-list button', { hasText: 'Ingrid Bergström' }).click();
    await page.locator('#contact-name', { hasText: 'Ingrid Bergström' }).waitFor();
    assert.equal(await page.locator('#contact-delete-status').isHidden(), true);
    page.once('dialog', (d) => d.dismiss());
    await page.click('#contact-delete');
    assert.equal(await page.locator('#contact-name', { hasText: 'Ingrid Bergström' }).count(), 1);
    page.once('dialog', (d) => {
      assert.match(d.message(), /Delete Ingrid Bergström/);
      d.accept();
    });
    await page.click('#contact-delete');
    await page.locator('#contact-name').waitFor({ state: 'detached' });
    await page.locator('#contact-results p', { hasText: 'No persons found.' }).waitFor();
    const api = await backend.api(USERS.ada);
    assert.deepEqual(await api.get('/api/persons?q=bergstr%C3%B6m'), []);
  } finally {
    await s.close();
  }
});

test('the forms and the import at 390 px', async () => {
  const s = await open(USERS.ada, { width: 390, height: 844 });
  try {
    const { page } = s;
    await noWiderThanTheScreen(page, 'contacts');
    await shot(page, 'contacts-390');
    await page.click('#contacts-new-person');
    await page.locator('#person-dialog').waitFor();
    assert.deepEqual(await axe(page), []);
    await shot(page, 'contacts-person-form-390');
    await page.keyboard.press('Escape');
    await page.click('#contacts-import');
    await page.setInputFiles('#import-file', path.join(SAMPLES, 'google.csv'));
    await page.locator('#import-summary').waitFor();
    await page.locator('#import-mapping summary').click();
    await noWiderThanTheScreen(page, 'the import preview');
    assert.deepEqual(await axe(page), []);
    await shot(page, 'contacts-import-preview-390');
  } finally {
    await s.close();
  }
});
