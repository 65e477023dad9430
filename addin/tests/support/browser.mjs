// Headless Chromium (Debian's, driven by playwright-core) opening the task
// pane from the backend, with the fake Office host in place of Office.js.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { root } from './backend.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Microsoft's CDN address of Office.js, as the pane loads it. */
export const OFFICE_JS = 'https://appsforoffice.microsoft.com/lib/1/hosted/office.js';

const FAKE_OFFICE = readFileSync(path.join(here, 'office-fake.js'), 'utf8');

/** Where screenshots go (git-ignored). */
export const ARTIFACTS = path.join(root, 'tests', 'artifacts', 'addin');

/** Debian's Chromium, or $CHROMIUM. */
export function chromiumPath() {
  const exe = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(exe)) throw new Error(`no Chromium at ${exe}: install Debian's package \`chromium\` or set CHROMIUM`);
  return exe;
}

/** Launches headless Chromium (a fresh profile in a temporary directory, removed on close). */
export function launch() {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Opens the pane in a fresh browser context (its own storage) with the fake
 * Office host seeded by `seed`; signs in as `user` when given. Nothing leaves
 * the machine: Office.js is the fake, any other outside address is refused.
 */
export async function openPane(browser, backend, { user, seed = {}, width = 350, height = 860, beforeLoad } = {}) {
  const context = await browser.newContext({
    viewport: { width, height },
    timezoneId: 'Europe/Oslo',
    locale: 'en-GB',
    deviceScaleFactor: 1,
  });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url === OFFICE_JS) return route.fulfill({ contentType: 'text/javascript; charset=utf-8', body: FAKE_OFFICE });
    if (new URL(url).hostname === '127.0.0.1') return route.continue();
    return route.abort('blockedbyclient');
  });
  await context.addInitScript((s) => {
    window.__officeSeed = s;
  }, seed);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  if (beforeLoad) await beforeLoad(page);
  await page.goto(`${backend.origin}/addin/taskpane.html`);
  if (user) await signIn(page, user);
  return { page, context, errors, close: () => context.close() };
}

/** Fills in and sends the sign-in form; waits for the tabs. */
export async function signIn(page, user) {
  await page.locator('#signin-email').waitFor({ state: 'visible', timeout: 20_000 });
  await page.fill('#signin-email', user.email);
  await page.fill('#signin-password', user.password);
  await page.click('#signin-submit');
  await page.locator('#app').waitFor({ state: 'visible', timeout: 20_000 });
}

/** Waits until the Meeting tab shows a decision (`source` matching when given). */
export async function decision(page, source = /./) {
  await page.waitForFunction(
    (pattern) => {
      const card = document.getElementById('decision');
      const text = document.getElementById('decision-source')?.textContent ?? '';
      return card?.getAttribute('aria-busy') === 'false' && new RegExp(pattern).test(text);
    },
    source.source,
    { timeout: 30_000 },
  );
  return page.evaluate(() => ({
    kind: document.getElementById('decision-kind').textContent,
    source: document.getElementById('decision-source').textContent,
    effects: Array.from(document.querySelectorAll('#decision-effects li'), (li) => li.textContent),
    reasons: Array.from(document.querySelectorAll('#decision-reasons li'), (li) => li.textContent),
    warnings: Array.from(document.querySelectorAll('#decision-warnings li'), (li) => li.textContent),
    recurring: !document.getElementById('decision-recurring').hidden,
    buttons: Object.fromEntries(
      Array.from(document.querySelectorAll('.answer-buttons button'), (b) => [b.dataset.action, !b.disabled]),
    ),
    note: document.getElementById('meeting-source').hidden ? '' : document.getElementById('meeting-source').textContent,
    status: document.getElementById('crm-status').hidden ? '' : document.getElementById('crm-status').textContent,
  }));
}

/** Saves a screenshot of the page under tests/artifacts/addin/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The Office item for a meeting request e-mail (what Outlook shows of it), with the whole message as getAsFileAsync gives it. */
export function meetingRequest({ eml, subject, from, to = [], start, end, location = '', itemClass = 'IPM.Schedule.Meeting.Request', created = '2026-11-20T08:15:00Z' }) {
  return {
    itemType: 'message',
    itemClass,
    subject,
    from,
    to,
    start,
    end,
    location,
    dateTimeCreated: created,
    internetMessageId: eml ? (eml.match(/^Message-ID:\s*(<[^>]+>)/im)?.[1] ?? '') : '',
    file: eml ? Buffer.from(eml, 'utf8').toString('base64') : null,
    body: '',
  };
}
