// The web client's shell: sign-in, the header with its navigation and the
// Invitations badge, and a hash router (#/diary, #/invitations, ...) that
// renders one page at a time into <main>.

import * as api from './api.js';
import { byId, h, replace } from './dom.js';
import { renderSignIn } from './pages/signin.js';

const PAGES = {
  diary: () => import('./pages/diary.js'),
  invitations: () => import('./pages/invitations.js'),
  inbox: () => import('./pages/inbox.js'),
  group: () => import('./pages/group.js'),
  contacts: () => import('./pages/contacts.js'),
  try: () => import('./pages/try.js'),
  settings: () => import('./pages/settings.js'),
  admin: () => import('./pages/admin.js'),
};

const TITLES = {
  diary: 'Diary',
  invitations: 'Invitations',
  inbox: 'Inbox',
  group: 'Group view',
  contacts: 'Contacts',
  try: 'Try it without Outlook',
  settings: 'My settings',
  admin: 'Administration',
};

export const app = {
  user: null,
  badgeRequest: 0,
  /** Shows a short message in the status line. */
  toast(text) {
    const el = byId('toast');
    el.textContent = text;
    el.hidden = false;
    clearTimeout(app.toastTimer);
    app.toastTimer = setTimeout(() => {
      el.hidden = true;
    }, 6000);
  },
  /** Re-counts what waits in the Invitations list and the notifications. */
  async refreshBadge() {
    if (!app.user) return;
    // Only the newest count is shown: an older answer arriving late is dropped.
    const mine = ++app.badgeRequest;
    try {
      const [list, notes] = await Promise.all([api.invitations(false), api.notifications()]);
      if (mine !== app.badgeRequest) return;
      const waiting = list.filter((i) => i.direction === 'incoming' || i.status === 'declined').length + notes.length;
      const badge = byId('badge');
      badge.textContent = String(waiting);
      badge.hidden = waiting === 0;
      badge.setAttribute('aria-label', `${waiting} waiting`);
    } catch {
      // The badge is a hint; the page itself shows errors.
    }
  },
  /** Renders the current route again. */
  refresh: () => route(),
  /** The session ended (Sign out everywhere): back to the sign-in page with `notice`. */
  signedOut(notice) {
    api.session.clear();
    app.user = null;
    signInNotice = notice;
    window.location.hash = '';
    route();
  },
};

/** Said on the sign-in page until the next sign-in (why the person was signed out). */
let signInNotice = null;

/** Pages open without signing in. */
const PUBLIC = new Set(['try']);

/** A one-time set-password link: `#/set-password/SECRET`. */
const SET_PASSWORD = /^#\/set-password\/([0-9a-f]{64})$/;

/** One follow-up by its own address: `#/followup/ID`, its dialog over the diary. */
const FOLLOWUP = /^#\/followup\/([0-9a-f]{32})$/;

function requestedPage() {
  if (FOLLOWUP.test(window.location.hash)) return 'diary';
  return window.location.hash.replace(/^#\/?/, '').split('?')[0];
}

function currentPage() {
  const name = requestedPage();
  return PAGES[name] ? name : 'diary';
}

/** Opens the dialog of `#/followup/ID`; closed, the address is the diary's again and the diary is drawn anew (an answer given in the dialog shows). */
async function openLinkedFollowup(mine) {
  const linked = window.location.hash.match(FOLLOWUP);
  if (!linked || mine !== rendering) return;
  const { openFollowup } = await import('./pages/followup.js');
  if (mine !== rendering) return;
  await openFollowup(app, {
    id: linked[1],
    onClose: () => {
      if (window.location.hash !== linked[0]) return;
      history.replaceState(null, '', '#/diary');
      route();
    },
  });
}

let rendering = 0;

async function route() {
  const main = byId('main');
  const mine = ++rendering;
  // A one-time set-password link works signed in or not (pages/setpassword.js).
  const link = window.location.hash.match(SET_PASSWORD);
  if (link) {
    byId('top').hidden = !app.user;
    for (const a of document.querySelectorAll('#nav a')) a.removeAttribute('aria-current');
    document.title = 'Set your password · invitelink CRM';
    const page = await import('./pages/setpassword.js');
    if (mine !== rendering) return;
    await page.render(main, link[1]);
    main.setAttribute('aria-busy', 'false');
    return;
  }
  if (!app.user && PUBLIC.has(requestedPage())) {
    const name = requestedPage();
    byId('top').hidden = true;
    await draw(main, name, mine);
    return;
  }
  if (!app.user) {
    byId('top').hidden = true;
    document.title = 'Sign in · invitelink CRM';
    renderSignIn(
      main,
      async (user) => {
        signInNotice = null;
        app.user = user;
        await start();
      },
      signInNotice,
    );
    main.setAttribute('aria-busy', 'false');
    return;
  }
  const name = currentPage();
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  await draw(main, name, mine);
  if (mine === rendering) app.refreshBadge();
  await openLinkedFollowup(mine);
}

/** Loads and draws page `name` in `main`, unless another route started meanwhile (`mine`). */
async function draw(main, name, mine) {
  document.title = `${TITLES[name]} · invitelink CRM`;
  main.setAttribute('aria-busy', 'true');
  try {
    const page = await PAGES[name]();
    if (mine !== rendering) return;
    replace(main);
    await page.render(main, app);
  } catch (e) {
    replace(main, h('h1', {}, TITLES[name]), h('p', { class: 'message error', role: 'alert' }, `This page could not be shown: ${e?.message ?? e}`));
  } finally {
    if (mine === rendering) main.setAttribute('aria-busy', 'false');
  }
}

async function start() {
  byId('top').hidden = false;
  byId('who-name').textContent = `${app.user.name}${app.user.role === 'admin' ? ' (administrator)' : ''}`;
  byId('nav-admin').hidden = app.user.role !== 'admin';
  const known = PAGES[requestedPage()] || SET_PASSWORD.test(window.location.hash);
  if (!window.location.hash || !known) window.location.hash = '#/diary';
  await route();
}

api.whenUnauthorized(() => {
  app.user = null;
  route();
});

byId('signout').addEventListener('click', async () => {
  try {
    await api.signOut();
  } catch {
    // Signed out here in any case.
  }
  app.user = null;
  window.location.hash = '';
  route();
});

window.addEventListener('hashchange', () => route());

(async () => {
  if (api.session.token) {
    try {
      app.user = await api.me();
    } catch {
      app.user = null;
    }
  }
  if (app.user) await start();
  else await route();
})();
