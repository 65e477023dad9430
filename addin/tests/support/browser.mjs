// Headless Chromium (Debian's, driven by playwright-core) opening the task
// pane from the backend. Office.js is the real one, from the npm package
// @microsoft/office-js, answered at Microsoft's CDN address (so the page and
// its Content-Security-Policy stay as Outlook loads them), with the stand-in
// for the Outlook host (office-host.js) appended to it.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { root } from './backend.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Microsoft's CDN folder of Office.js, and Office.js in it, as the pane loads it. */
export const OFFICE_CDN = 'https://appsforoffice.microsoft.com/lib/1/hosted/';
export const OFFICE_JS = `${OFFICE_CDN}office.js`;

/** Where Office.js's start-up helper points its telemetry frame (refused by the pane's CSP). */
const TELEMETRY_FRAME = 'https://telemetryservice.firstpartyapps.oaspapps.com/';

/** The npm package's copy of that folder. */
export const OFFICE_DIST = path.join(here, '..', 'node_modules', '@microsoft', 'office-js', 'dist');

const HOST = readFileSync(path.join(here, 'office-host.js'), 'utf8');

/**
 * What the CDN would answer for `url` (inside OFFICE_CDN): the npm package's
 * file, Office.js itself followed by the host stand-in; null when the
 * package has no such file.
 */
export function officeFile(url) {
  const name = decodeURIComponent(new URL(url).pathname).slice(new URL(OFFICE_CDN).pathname.length);
  const file = path.resolve(OFFICE_DIST, name);
  if (!file.startsWith(OFFICE_DIST + path.sep) || !existsSync(file)) return null;
  const body = readFileSync(file, 'utf8');
  return name === 'office.js' ? `${body}\n;\n${HOST}` : body;
}

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
 * Opens the pane in a fresh browser context (its own storage) with the
 * Outlook host stand-in seeded by `seed`; signs in as `user` when given.
 * Nothing leaves the machine: Office.js comes from the npm package, any other
 * outside address is refused.
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
    if (url.startsWith(OFFICE_CDN)) {
      const body = officeFile(url.split(/[?#]/)[0]);
      if (body === null) return route.fulfill({ status: 404, contentType: 'text/plain', body: 'not in @microsoft/office-js' });
      return route.fulfill({ contentType: 'text/javascript; charset=utf-8', body });
    }
    if (new URL(url).hostname === '127.0.0.1') return route.continue();
    return route.abort('blockedbyclient');
  });
  await context.addInitScript((s) => {
    window.__officeSeed = s;
  }, seed);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  // Outside Outlook, Office.js's start-up helper (o15apptofilemappingtable.js,
  // which Outlook does not load) adds a hidden telemetry frame with an inline
  // style; the pane's CSP refuses both. Those refusals, from Office.js's own
  // files, are kept apart; every other error counts.
  const officeRefused = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const refusal = /violates the following Content Security Policy directive/.test(m.text());
    const fromOffice = (m.location()?.url ?? '').startsWith(OFFICE_CDN) || m.text().startsWith(`Framing '${TELEMETRY_FRAME}'`);
    if (refusal && fromOffice) officeRefused.push(m.text());
    else errors.push(`console: ${m.text()}`);
  });
  if (beforeLoad) await beforeLoad(page);
  await page.goto(`${backend.origin}/addin/taskpane.html`);
  if (user) await signIn(page, user);
  return { page, context, errors, officeRefused, close: () => context.close() };
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
