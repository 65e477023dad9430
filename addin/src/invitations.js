// The Invitations tab: the user's "Import incoming invitations as tentative
// appointments" setting (saved in the CRM, mirrored in the mailbox's roaming
// settings), the system preferences read-only, and the user's Invitations
// list with its actions.

import * as api from './api.js';
import { ApiError } from './api.js';
import { byId, h, replace, setMessage } from './dom.js';
import { roaming } from './host.js';
import { INCOMING, INVITATION_STATUS, span } from './words.js';

/** The roaming setting that mirrors the CRM's `import_tentative` for this mailbox. */
export const ROAMING_KEY = 'importTentative';

let loadingList = 0;

function yesNo(v) {
  return v ? 'Yes' : 'No';
}

/** The settings and preferences, as the CRM has them. */
export function showSettings(pane) {
  const s = pane.settings;
  const p = pane.preferences;
  const toggle = byId('import-tentative');
  toggle.checked = Boolean(s.import_tentative);
  toggle.disabled = !s.import_tentative_enabled;
  const reason = byId('import-tentative-reason');
  const why = s.disabled_reason ?? 'a calendar synchronizer is active';
  reason.textContent = s.import_tentative_enabled ? '' : `Not available: ${why}.`;
  reason.hidden = s.import_tentative_enabled;
  byId('import-tentative-saved').hidden = true;
  replace(
    byId('preferences'),
    h('dt', {}, 'Incoming invitations'),
    h('dd', {}, INCOMING[p.incoming] ?? p.incoming),
    h('dt', {}, 'Ask for replies'),
    h('dd', {}, `${yesNo(p.request_reply)}: outgoing invitations ${p.request_reply ? 'ask' : 'do not ask'} external attendees to reply`),
    h('dt', {}, 'Calendar synchronizer'),
    h('dd', {}, p.synchronizer ? 'Active for everyone' : s.synchronizer ? 'Active for you' : 'Not in use'),
    h('dt', {}, 'CRM inbox'),
    h('dd', {}, p.crm_inbox ?? ''),
  );
  // Keep the mailbox's copy in step with the CRM (the CRM's value wins).
  if (roaming.get(ROAMING_KEY) !== Boolean(s.import_tentative)) roaming.save(ROAMING_KEY, Boolean(s.import_tentative));
}

async function saveToggle(pane) {
  const toggle = byId('import-tentative');
  const saved = byId('import-tentative-saved');
  const value = toggle.checked;
  toggle.disabled = true;
  setMessage(saved, null, 'Saving…');
  try {
    pane.settings = await api.saveSettings({ import_tentative: value });
    const mirrored = await roaming.save(ROAMING_KEY, Boolean(pane.settings.import_tentative));
    showSettings(pane);
    setMessage(
      saved,
      'success',
      pane.settings.import_tentative
        ? 'Saved: new invitations from registered contacts go into your CRM diary as tentative.'
        : 'Saved: new invitations are no longer added to your CRM diary until you answer them.',
      mirrored ? [] : ['Outlook could not keep a copy of this setting in your mailbox.'],
    );
  } catch (e) {
    toggle.checked = !value;
    toggle.disabled = !pane.settings?.import_tentative_enabled;
    if (e instanceof ApiError && e.kind === 'unauthorized') return;
    setMessage(saved, 'error', `Not saved. ${pane.explain(e)}`);
  }
}

function actionsFor(item) {
  if (item.direction === 'response') return [['seen', 'Got it']];
  if (item.status === 'cancelled') return [['seen', 'Got it']];
  return [
    ['accept', 'Accept'],
    ['decline', 'Decline'],
  ];
}

function line(item, pane) {
  const a = item.appointment;
  const status = INVITATION_STATUS[item.status] ?? item.status;
  const who =
    item.direction === 'response'
      ? `${item.associate_name ?? 'Someone'} ${item.status === 'accepted' ? 'accepted' : 'declined'} your ${item.type === 'assignment' ? 'assignment' : 'invitation'}`
      : item.type === 'assignment'
        ? 'Assigned to you'
        : 'You are invited';
  const title = a.title || '(no title)';
  return h(
    'li',
    { class: 'invitation' },
    h('div', { class: 'invitation-title' }, title),
    h('div', { class: 'invitation-meta' }, span(a.start, a.end, a.all_day)),
    h('div', { class: 'invitation-meta' }, [who, a.location].filter(Boolean).join(' · ')),
    h('span', { class: `chip invitation-status status-${String(item.status).replace(/[^a-z_]/g, '')}` }, item.conflict ? `${status} · room conflict` : status),
    h(
      'div',
      { class: 'invitation-actions' },
      actionsFor(item).map(([action, label]) =>
        h(
          'button',
          {
            type: 'button',
            class: action === 'accept' ? 'button small primary' : 'button small',
            'aria-label': `${label}: ${title}`,
            on: { click: (event) => act(pane, item, action, event.currentTarget) },
          },
          label,
        ),
      ),
    ),
  );
}

async function act(pane, item, action, button) {
  button.disabled = true;
  const state = byId('invitations-state');
  try {
    await api.invitationAction(item.id, action);
    await showList(pane, false);
    state.textContent = action === 'accept' ? 'Accepted: it is in your diary.' : action === 'decline' ? 'Declined.' : 'Done.';
  } catch (e) {
    button.disabled = false;
    if (e instanceof ApiError && e.kind === 'unauthorized') return;
    state.textContent = pane.explain(e);
  }
}

/** Loads the Invitations list (again). */
export async function showList(pane, announce = true) {
  if (!pane.user) return;
  const ticket = ++loadingList;
  const state = byId('invitations-state');
  const list = byId('invitations');
  const responsesOnly = byId('show-responses').checked;
  if (announce) state.textContent = 'Loading…';
  try {
    const items = await api.invitations(responsesOnly);
    if (ticket !== loadingList) return;
    replace(list, items.map((item) => line(item, pane)));
    if (announce || !items.length) {
      state.textContent = items.length
        ? `${items.length} ${responsesOnly ? 'responses' : items.length === 1 ? 'item' : 'items'}`
        : responsesOnly
          ? 'No responses to your invitations.'
          : 'Nothing is waiting for you.';
    }
  } catch (e) {
    if (ticket !== loadingList) return;
    if (e instanceof ApiError && e.kind === 'unauthorized') return;
    replace(list);
    state.textContent = pane.explain(e);
  }
}

export function wire(pane) {
  byId('import-tentative').addEventListener('change', () => saveToggle(pane));
  byId('show-responses').addEventListener('change', () => showList(pane));
}
