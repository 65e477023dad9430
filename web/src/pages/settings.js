// My settings: the "Import incoming invitations as tentative appointments"
// toggle (disabled with the reason while a calendar synchronizer is active),
// the password, "Sign out everywhere", the system preferences read-only, and
// the places later pages will take.

import * as api from '../api.js';
import { h } from '../dom.js';
import { feedSection } from './feed.js';

/** The shortest password the CRM takes (server/src/accounts.rs). */
const MIN_PASSWORD = 10;

const INCOMING = {
  enable_all: 'Enable all: tentative appointments, updates and replies',
  disable_tentative: 'No tentative appointments (created on Accept)',
  disable_automation: 'No automatic creation, updates or replies',
  disable_all: 'Disable all: invitations are plain e-mails',
};

export async function render(main, app) {
  const [settings, prefs, feed] = await Promise.all([api.settings(), api.preferences(), feedSection()]);
  const status = h('p', { id: 'settings-status', role: 'status', class: 'message', hidden: true });
  const toggle = h('input', {
    type: 'checkbox',
    id: 'import-tentative',
    checked: settings.import_tentative,
    disabled: !settings.import_tentative_enabled,
    'aria-describedby': 'import-tentative-help',
  });
  toggle.addEventListener('change', async () => {
    toggle.disabled = true;
    try {
      const saved = await api.saveSettings({ import_tentative: toggle.checked });
      toggle.checked = saved.import_tentative;
      status.className = 'message success';
      status.textContent = saved.import_tentative
        ? 'Saved: new invitations from registered contacts are added to your diary as tentative.'
        : 'Saved: new invitations are no longer added to your diary until you answer them.';
    } catch (e) {
      toggle.checked = !toggle.checked;
      status.className = 'message error';
      status.textContent = `Not saved: ${e.message}`;
    } finally {
      toggle.disabled = false;
      status.hidden = false;
    }
  });
  const help = settings.import_tentative_enabled
    ? 'When an invitation from a registered contact arrives in your CRM inbox, it is added to your diary as a tentative appointment until you answer it.'
    : `Not available: ${settings.disabled_reason ?? 'a calendar synchronizer keeps your diary in step'}.`;
  main.append(
    h('h1', {}, 'My settings'),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'settings-invitations' },
      h('h2', { id: 'settings-invitations' }, 'Invitations'),
      h('div', { class: 'check' }, toggle, h('label', { for: 'import-tentative' }, 'Import incoming invitations as tentative appointments')),
      h('p', { id: 'import-tentative-help', class: settings.import_tentative_enabled ? 'hint' : 'hint warning' }, help),
      status,
    ),
    passwordSection(),
    signOutSection(app),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'settings-system' },
      h('h2', { id: 'settings-system' }, 'System preferences'),
      h('p', { class: 'hint' }, app.user.role === 'admin' ? 'Administrators change these under Administration.' : 'Set by your administrator.'),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Manage incoming invitations'),
        h('dd', { id: 'pref-incoming' }, INCOMING[prefs.incoming] ?? prefs.incoming),
        h('dt', {}, 'Request a reply in outgoing invitations'),
        h('dd', {}, prefs.request_reply ? 'Yes' : 'No'),
        h('dt', {}, 'Calendar synchronizer'),
        h('dd', {}, prefs.synchronizer ? 'Active for everyone' : 'Not active'),
        h('dt', {}, 'CRM inbox'),
        h('dd', {}, prefs.crm_inbox),
      ),
    ),
    feed,
  );
}

function passwordSection() {
  const status = h('p', { id: 'password-status', role: 'status', class: 'message', hidden: true });
  const current = h('input', { type: 'password', id: 'password-current', autocomplete: 'current-password', required: true });
  const next = h('input', { type: 'password', id: 'password-new', autocomplete: 'new-password', required: true, minlength: MIN_PASSWORD, 'aria-describedby': 'password-new-hint' });
  const again = h('input', { type: 'password', id: 'password-again', autocomplete: 'new-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'password-submit' }, 'Change password');
  const say = (tone, text, focus) => {
    status.className = `message ${tone}`;
    status.textContent = text;
    status.hidden = false;
    focus?.focus();
  };
  const form = h(
    'form',
    {
      class: 'stack',
      novalidate: true,
      on: {
        submit: async (e) => {
          e.preventDefault();
          if (!current.value) return say('error', 'Type your current password.', current);
          if (next.value.length < MIN_PASSWORD) return say('error', `The new password needs at least ${MIN_PASSWORD} characters.`, next);
          if (next.value !== again.value) return say('error', 'The two new passwords differ.', again);
          submit.disabled = true;
          try {
            await api.changePassword(current.value, next.value);
            form.reset();
            say('success', 'Password changed. Your other sessions (other browsers, the Outlook pane) are signed out; this one stays.');
          } catch (err) {
            if (err.status === 403) say('error', 'Not changed: the current password is wrong.', current);
            else if (err.code === 'weak_password') say('error', `Not changed: ${err.message}.`, next);
            else if (err.status === 429) say('error', `Not changed: too many attempts; ${err.message}.`);
            else say('error', `Not changed: ${err.message}`);
          } finally {
            submit.disabled = false;
          }
        },
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'password-current' }, 'Current password'), current),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'password-new' }, 'New password'),
      next,
      h('p', { class: 'hint', id: 'password-new-hint' }, `At least ${MIN_PASSWORD} characters; not your e-mail address and not a common password.`),
    ),
    h('div', { class: 'field' }, h('label', { for: 'password-again' }, 'New password again'), again),
    status,
    h('div', { class: 'buttons' }, submit),
  );
  return h('section', { class: 'card', 'aria-labelledby': 'settings-password' }, h('h2', { id: 'settings-password' }, 'Password'), form);
}

function signOutSection(app) {
  const status = h('p', { id: 'signout-all-status', role: 'alert', class: 'message error', hidden: true });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      id: 'signout-all',
      on: {
        click: async () => {
          if (!window.confirm('Sign out everywhere? Every browser and the Outlook pane signed in as you must sign in again, this one too.')) return;
          button.disabled = true;
          try {
            await api.signOutEverywhere();
            app.signedOut('You are signed out everywhere. Sign in again to go on.');
          } catch (err) {
            status.textContent = `Not signed out: ${err.message}`;
            status.hidden = false;
            button.disabled = false;
          }
        },
      },
    },
    'Sign out everywhere',
  );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'settings-sessions' },
    h('h2', { id: 'settings-sessions' }, 'Sessions'),
    h('p', { class: 'hint', id: 'signout-all-hint' }, 'Lost a laptop or signed in on a shared computer? This ends every session of yours: other browsers, the Outlook pane and this page.'),
    status,
    h('div', { class: 'buttons' }, button),
  );
}
