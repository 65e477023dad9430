// What the web client's browser tests share: the Chromium of the machine,
// browser contexts watched for Content-Security-Policy violations, uncaught
// errors and console errors (a test fails when any is left), axe-core, and
// screenshots under web/test-artifacts.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, beforeEach } from 'node:test';
import { chromium } from 'playwright-core';
import { root } from '../../addin/tests/support/backend.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const ARTIFACTS = path.join(root, 'web', 'test-artifacts');

/** Headless Chromium (`CHROMIUM`, default /usr/bin/chromium); the client's npm packages must be in place. */
export function launchBrowser() {
  if (!existsSync(path.join(root, 'web', 'vendor', 'fullcalendar', 'core.js'))) {
    throw new Error('web/vendor/ is missing: run `cargo xtask test` (it places the npm packages)');
  }
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  return chromium.launch({ executablePath, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
}

/**
 * What went wrong in the pages of the running test: Content-Security-Policy
 * violations (`securitypolicyviolation` events), uncaught errors and console
 * errors. Once `guardPages()` ran, `afterEach` fails the test when any is left.
 */
let problems = [];
/** Console errors the running test causes on purpose (regular expressions). */
let expected = [];

/** Fails every test of the file that leaves a CSP violation or an error in its pages. */
export function guardPages() {
  beforeEach(() => {
    problems = [];
    expected = [];
  });
  afterEach(() => {
    const left = problems;
    problems = [];
    assert.deepEqual(left, [], 'the pages reported CSP violations or errors');
  });
}

/** Lets console errors matching `pattern` through for the running test (e.g. a refused sign-in's 401). */
export function expectConsole(pattern) {
  expected.push(pattern);
}

/** The problems reported so far in the running test (the guard's self-test reads them). */
export function takeProblems() {
  const left = problems;
  problems = [];
  return left;
}

function watch(page) {
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (!expected.some((p) => p.test(text))) problems.push(`console error: ${text}`);
  });
}

/** A browser context of its own (UTC, so times typed are the API's times), watched for problems; nothing leaves 127.0.0.1. */
export async function newContext(browser, { width = 1280, height = 900, locale = 'en-GB' } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, timezoneId: 'UTC', locale });
  await context.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
  await context.exposeBinding('reportPolicyViolation', (_source, text) => {
    problems.push(`CSP violation: ${text}`);
  });
  await context.addInitScript(() => {
    window.addEventListener(
      'securitypolicyviolation',
      (e) => window.reportPolicyViolation(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile || '?'}:${e.lineNumber}`),
      true,
    );
  });
  context.on('page', watch);
  return context;
}

/** Closes a context after one round trip to each page, so that reports still on their way arrive first. */
export async function closeContext(context) {
  for (const page of context.pages()) await page.evaluate(() => new Promise((r) => setTimeout(r, 20))).catch(() => {});
  await context.close();
}

/** Waits until the page's main area is drawn. */
export async function ready(page) {
  await page.waitForFunction(() => document.getElementById('main')?.getAttribute('aria-busy') === 'false');
}

/** Goes to `hash` and waits until that page is drawn. */
export async function go(page, hash) {
  await page.evaluate((h) => {
    window.location.hash = h;
  }, hash);
  await page.waitForFunction((h) => window.location.hash === h && document.getElementById('main').getAttribute('aria-busy') === 'false', hash);
}

/** A full-page screenshot, web/test-artifacts/NAME.png. */
export async function shot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * axe-core on the page: the serious and critical violations. It is evaluated
 * through the browser's debugging protocol: a <script> tag added to the page
 * would be (rightly) refused by the client's Content-Security-Policy.
 */
export async function axe(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(`${AXE}\n;true`);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'best-practice'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
  });
}

/** The sample contact files (tests/data/contacts/). */
export const CONTACT_SAMPLES = path.join(root, 'tests', 'data', 'contacts');

/** What importing Google's sample vCard shows when nobody in it is known yet: one card has no address. */
export const GOOGLE_VCF = {
  summary: /\(vCard\): 2 contacts — 1 new, 0 already known, 1 refused/,
  refused: /Sakura Reception.*no e-mail address/s,
  status: /1 added, 0 updated, 0 skipped, 1 refused/,
};

/**
 * Imports the sample `file` in the open Import section: checks the preview's
 * `summary` and `refused` texts, writes it, checks the report's `status`.
 */
export async function importSample(page, file, { summary, refused, status }) {
  await page.setInputFiles('#import-file', path.join(CONTACT_SAMPLES, file));
  await page.locator('#import-summary').waitFor();
  assert.match(await page.textContent('#import-summary'), summary);
  assert.match(await page.textContent('#import-refused'), refused);
  await page.click('#import-commit');
  await page.locator('#import-report').waitFor();
  assert.match(await page.textContent('#import-status'), status);
}
