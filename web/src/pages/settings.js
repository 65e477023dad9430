// My settings: the "Import incoming invitations as tentative appointments"
// toggle (disabled with the reason while a calendar synchronizer is active),
// the system preferences read-only, and the places later pages will take.

import * as api from '../api.js';
import { h } from '../dom.js';
import { feedSection } from './feed.js';

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
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'settings-later' },
      h('h2', { id: 'settings-later' }, 'Coming later'),
      h('p', { class: 'hint' }, 'Password and contact import will be added here.'),
    ),
  );
}
