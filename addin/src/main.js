// The task pane: waits for Outlook, signs in to the CRM, reads the open item
// and hands it to the three tabs (Meeting, Archive, Invitations).

import * as api from './api.js';
import { ApiError } from './api.js';
import { byId, sentence, show } from './dom.js';
import { loadEngine } from './engine.js';
import * as host from './host.js';
import * as meeting from './meeting.js';
import * as archive from './archive.js';
import * as invitations from './invitations.js';

/** What every tab shares. */
const pane = {
  /** The signed-in associate `{id, name, email, role}`. */
  user: null,
  /** The user's settings and the system preferences, from the CRM. */
  settings: null,
  preferences: null,
  /** The open Outlook item, what it says, and the message read from it. */
  item: null,
  info: null,
  message: null,
  /** The message the Meeting tab decided on (rebuilt when the e-mail had no calendar part). */
  meetingMessage: null,
  /** Bumped for every item opened: answers for an older item are dropped. */
  generation: 0,
  /** Whether this answer still concerns the open item. */
  current(generation) {
    return generation === pane.generation;
  },
  /** A failure said in words. */
  explain,
  /** Shows a failure that concerns the whole pane (backend down), with a Retry. */
  banner,
  /** The message rebuilt from the item's properties (no calendar part, or no getAsFileAsync). */
  rebuild,
  /** Reloads the settings and preferences. */
  reloadSettings,
};

/** A failure in words for the user. */
function explain(e) {
  if (e instanceof ApiError) {
    if (e.kind === 'offline') return 'The CRM cannot be reached. Check your network connection, then try again.';
    if (e.kind === 'unauthorized') return 'Your CRM session has ended: sign in again.';
    return sentence(e.message);
  }
  return sentence(e?.message ?? String(e));
}

function banner(text, retry) {
  const el = byId('banner');
  byId('banner-text').textContent = text ?? '';
  const button = byId('banner-retry');
  button.hidden = !retry;
  button.onclick = retry
    ? () => {
        el.hidden = true;
        retry();
      }
    : null;
  el.hidden = !text;
}

function page(id) {
  for (const p of ['boot', 'signin', 'app']) show(byId(p), p === id);
}

function showSignIn(note) {
  page('signin');
  byId('user-name').textContent = '';
  byId('sign-out').hidden = true;
  const error = byId('signin-error');
  error.hidden = !note;
  error.textContent = note ?? '';
  byId('signin-email').focus();
}

async function reloadSettings() {
  const [settings, preferences] = await Promise.all([api.settings(), api.preferences()]);
  pane.settings = settings;
  pane.preferences = preferences;
  return { settings, preferences };
}

/** Reads the whole message (getAsFileAsync), else rebuilds it from the item's properties. */
async function readMessage(item, info) {
  let failure = null;
  if (host.canGetFile(item)) {
    try {
      const base64 = await host.getFile(item);
      return { source: 'file', base64, bytes: host.base64Bytes(base64) };
    } catch (e) {
      failure = e;
    }
  }
  const why = failure
    ? `Outlook could not give the add-in the whole message (${failure.message})`
    : 'This version of Outlook does not give add-ins the whole message';
  return rebuild(info, why);
}

/** An instant for the engine: RFC 3339, or null. */
function iso(d) {
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : null;
}

/**
 * The item rebuilt from its properties by the rules engine (`rebuildCalendar`
 * or `rebuildEmail`, the engine's one iCalendar writer and UID rule). Throws
 * a readable Error when the engine cannot be loaded or refuses the item.
 */
async function rebuildText(operation, info, body) {
  const engine = await loadEngine();
  const item = { ...info, start: iso(info.start), end: iso(info.end), created: iso(info.created) };
  const user = pane.user ?? { email: host.userAddress() ?? '' };
  const answer = engine[operation]({ item, user, now: new Date().toISOString(), body: body ?? null });
  if (answer?.type !== 'success') {
    throw new Error(answer?.errors?.map((e) => e.message).join('; ') || 'the rules engine gave no answer');
  }
  return answer.text;
}

async function rebuild(info, why) {
  if (info.kind) {
    const text = await rebuildText('rebuildCalendar', info);
    return {
      source: 'properties',
      text,
      bytes: new TextEncoder().encode(text),
      note: `${why}, so the pane built the meeting from what Outlook shows: subject, organizer, attendees, time and place. Repeats and time zone details are not visible this way.`,
    };
  }
  const text = await rebuildText('rebuildEmail', info, await host.bodyText(pane.item));
  return {
    source: 'properties',
    text,
    bytes: new TextEncoder().encode(text),
    note: `${why}, so the pane rebuilt the e-mail from its sender, recipients, subject and text.`,
  };
}

async function openItem() {
  pane.generation += 1;
  const generation = pane.generation;
  pane.item = host.currentItem();
  pane.info = null;
  pane.message = null;
  pane.meetingMessage = null;
  if (!pane.item) {
    meeting.showNothing(pane);
    archive.showNothing(pane);
    return;
  }
  let info;
  try {
    info = await host.describe(pane.item);
  } catch (e) {
    banner(`The open item cannot be read: ${explain(e)}`);
    return;
  }
  if (!pane.current(generation)) return;
  pane.info = info;
  meeting.showItem(pane);
  archive.showItem(pane);
  let message;
  try {
    message = await readMessage(pane.item, info);
  } catch (e) {
    if (!pane.current(generation)) return;
    meeting.showUnreadable(pane, explain(e));
    archive.showUnreadable(pane, explain(e));
    return;
  }
  if (!pane.current(generation)) return;
  pane.message = message;
  meeting.showMessage(pane, generation);
  archive.showMessage(pane, generation);
}

async function start() {
  page('boot');
  try {
    pane.user = await api.me();
    await reloadSettings();
  } catch (e) {
    if (e instanceof ApiError && e.kind === 'unauthorized') return; // whenUnauthorized shows the form
    page('boot');
    byId('boot').setAttribute('aria-busy', 'false');
    byId('boot').querySelector('p').textContent = 'The pane needs the CRM to go on.';
    banner(explain(e), start);
    return;
  }
  banner(null);
  byId('user-name').textContent = pane.user.name;
  byId('user-name').title = pane.user.email;
  byId('sign-out').hidden = false;
  page('app');
  invitations.showSettings(pane);
  await openItem();
}

function wireSignIn() {
  const form = byId('signin-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const email = byId('signin-email').value.trim();
    const password = byId('signin-password').value;
    const error = byId('signin-error');
    if (!email || !password) {
      error.textContent = 'Enter your e-mail address and password.';
      error.hidden = false;
      return;
    }
    const submit = byId('signin-submit');
    submit.disabled = true;
    error.hidden = true;
    try {
      await api.signIn(email, password);
      byId('signin-password').value = '';
      await start();
    } catch (e) {
      error.textContent =
        e instanceof ApiError && e.status === 401 ? 'That e-mail address and password do not match a CRM user.' : explain(e);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  byId('sign-out').addEventListener('click', async () => {
    try {
      await api.signOut();
    } catch {
      // Signed out here in any case.
    }
    pane.user = null;
    showSignIn(null);
  });
}

/** Tabs as the ARIA pattern has them: arrows, Home and End move between tabs. */
function wireTabs() {
  const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
  const select = (tab, focus = true) => {
    for (const t of tabs) {
      const selected = t === tab;
      t.setAttribute('aria-selected', String(selected));
      t.tabIndex = selected ? 0 : -1;
      byId(t.getAttribute('aria-controls')).hidden = !selected;
    }
    if (focus) tab.focus();
    if (tab.id === 'tab-invitations') invitations.showList(pane);
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => select(tab));
    tab.addEventListener('keydown', (event) => {
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      select(tabs[(next + tabs.length) % tabs.length]);
    });
  });
}

async function boot() {
  wireTabs();
  wireSignIn();
  meeting.wire(pane);
  archive.wire(pane);
  invitations.wire(pane);
  // The engine loads in the background while Outlook and the CRM answer.
  loadEngine().catch(() => {});
  try {
    await host.officeReady();
  } catch (e) {
    byId('boot').setAttribute('aria-busy', 'false');
    byId('boot').querySelector('p').textContent = 'This pane runs inside Outlook.';
    banner(explain(e));
    return;
  }
  api.whenUnauthorized(() => showSignIn('Your CRM session has ended: sign in again.'));
  host.onItemChanged(() => {
    if (pane.user) openItem();
  });
  if (api.session.token) await start();
  else showSignIn(null);
}

boot();
