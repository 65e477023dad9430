// The Invitations tab: the user's "Import incoming invitations as tentative
// appointments" setting (saved in the CRM, mirrored in the mailbox's roaming
// settings), the system preferences read-only, and the user's Invitations
// list with its actions: Accept and Decline on what waits for the user; on a
// declined response, Reschedule (a new time for the follow-up) or Reassign
// (another associate takes a declined assignment) besides Got it; and on
// every item a link to the web client.

import * as api from './api.js';
import { ApiError } from './api.js';
import { byId, h, replace, setMessage } from './dom.js';
import { openInBrowser, roaming } from './host.js';
import { INCOMING, INVITATION_STATUS, parseInstant, span, when } from './words.js';

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

/**
 * The web client's address for one item: its follow-up (`#/followup/ID`, the
 * diary with the follow-up's dialog), else the Invitations list.
 */
export function webClientUrl(appointmentId) {
  const hash = /^[0-9a-f]{32}$/.test(appointmentId ?? '') ? `#/followup/${appointmentId}` : '#/invitations';
  return new URL(`/${hash}`, window.location.origin).href;
}

/** A link that opens the item in the web client in the browser (through Outlook where it can). */
function webLink(title, appointmentId) {
  const href = webClientUrl(appointmentId);
  return h(
    'a',
    {
      class: 'invitation-link',
      href,
      target: '_blank',
      rel: 'noopener noreferrer',
      'aria-label': `Open in the CRM: ${title}`,
      on: {
        click: (event) => {
          if (openInBrowser(href)) event.preventDefault();
        },
      },
    },
    'Open in the CRM',
  );
}

function actionsFor(item) {
  if (item.direction === 'response') {
    if (item.status === 'declined' && item.type === 'invitation') return [['reschedule', 'Reschedule'], ['seen', 'Got it']];
    if (item.status === 'declined' && item.type === 'assignment') return [['reassign', 'Reassign'], ['seen', 'Got it']];
    return [['seen', 'Got it']];
  }
  if (item.status === 'cancelled') return [['seen', 'Got it']];
  return [
    ['accept', 'Accept'],
    ['decline', 'Decline'],
  ];
}

function buttonClass(action) {
  return action === 'accept' || action === 'reschedule' || action === 'reassign' ? 'button small primary' : 'button small';
}

/** `YYYY-MM-DDTHH:MM` in local time, for a datetime-local field. */
function localInput(value) {
  const d = parseInstant(value);
  if (!d) return '';
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** The small form under a declined invitation: a new start, end and place for the follow-up. */
function rescheduleForm(pane, item, title) {
  const a = item.appointment;
  const key = String(item.id).replace(/[^A-Za-z0-9_-]/g, '');
  const start = h('input', { id: `reschedule-start-${key}`, type: 'datetime-local', required: true, value: localInput(a.start) });
  const end = h('input', { id: `reschedule-end-${key}`, type: 'datetime-local', required: true, value: localInput(a.end) });
  const place = h('input', { id: `reschedule-location-${key}`, type: 'text', value: a.location ?? '', autocomplete: 'off' });
  const error = h('p', { class: 'message error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'button small primary' }, 'Move the meeting');
  const form = h(
    'form',
    {
      class: 'followup-form stack',
      'aria-label': `Reschedule: ${title}`,
      novalidate: true,
      on: {
        submit: async (event) => {
          event.preventDefault();
          const s = start.value ? new Date(start.value) : null;
          const e = end.value ? new Date(end.value) : null;
          const fail = (text) => {
            error.textContent = text;
            error.hidden = false;
          };
          if (!s || Number.isNaN(s.getTime()) || !e || Number.isNaN(e.getTime())) return fail('Choose a new start and end.');
          if (e <= s) return fail('The end must come after the start.');
          const moved = s.getTime() !== parseInstant(a.start)?.getTime() || e.getTime() !== parseInstant(a.end)?.getTime();
          if (!moved && place.value === (a.location ?? '')) return fail('Choose another time or place.');
          error.hidden = true;
          submit.disabled = true;
          try {
            const answer = await api.reschedule(a.id, { start: s.toISOString(), end: e.toISOString(), location: place.value });
            const next = answer ?? {};
            await showList(pane, false);
            const busy = next.first_available ? ` Not everyone is free then: the first time all are free is ${when(next.first_available)}.` : '';
            byId('invitations-state').textContent = `Moved “${title}” to ${span(next.start ?? s, next.end ?? e)}; the invitees are told.${busy}`;
          } catch (err) {
            submit.disabled = false;
            if (err instanceof ApiError && err.kind === 'unauthorized') return;
            fail(`Not moved. ${pane.explain(err)}`);
          }
          return undefined;
        },
      },
    },
    h('div', { class: 'field' }, h('label', { for: start.id }, 'New start'), start),
    h('div', { class: 'field' }, h('label', { for: end.id }, 'New end'), end),
    h('div', { class: 'field' }, h('label', { for: place.id }, 'Location'), place),
    error,
    h('div', { class: 'invitation-actions' }, submit, h('button', { type: 'button', class: 'button small', on: { click: () => form.remove() } }, 'Close')),
  );
  return form;
}

/** The search under a declined assignment: another associate to take it over. */
function reassignForm(pane, item, title) {
  const key = String(item.id).replace(/[^A-Za-z0-9_-]/g, '');
  const query = h('input', { id: `reassign-q-${key}`, type: 'search', autocomplete: 'off' });
  const results = h('ul', { class: 'results', 'aria-label': `Associates for ${title}` });
  const note = h('p', { class: 'muted', role: 'status' });
  async function find() {
    note.textContent = 'Looking…';
    try {
      const found = (await api.associates(query.value.trim() || undefined)).filter(
        (person) => person.id !== pane.user?.id && person.id !== item.associate_id,
      );
      note.textContent = found.length ? '' : 'No other associate matches.';
      replace(
        results,
        found.map((person) =>
          h(
            'li',
            {},
            h('span', { class: 'choice-text' }, h('span', { class: 'choice-name' }, person.name), h('span', { class: 'choice-meta' }, person.email ?? '')),
            h(
              'button',
              {
                type: 'button',
                class: 'button small',
                'aria-label': `Reassign to ${person.name}`,
                on: { click: (event) => reassign(pane, item, title, person, event.currentTarget, note) },
              },
              'Reassign',
            ),
          ),
        ),
      );
    } catch (e) {
      if (e instanceof ApiError && e.kind === 'unauthorized') return;
      note.textContent = pane.explain(e);
    }
  }
  const form = h(
    'form',
    {
      class: 'followup-form search',
      role: 'search',
      'aria-label': `Reassign: ${title}`,
      on: {
        submit: (event) => {
          event.preventDefault();
          find();
        },
      },
    },
    h('label', { for: query.id }, 'Find another associate'),
    h('div', { class: 'search-row' }, query, h('button', { type: 'submit', class: 'button small' }, 'Search')),
    note,
    results,
  );
  find();
  return form;
}

async function reassign(pane, item, title, person, button, note) {
  button.disabled = true;
  try {
    await api.reassign(item.appointment.id, person.id);
    await showList(pane, false);
    byId('invitations-state').textContent = `Reassigned “${title}” to ${person.name}.`;
  } catch (e) {
    button.disabled = false;
    if (e instanceof ApiError && e.kind === 'unauthorized') return;
    note.textContent = `Not reassigned. ${pane.explain(e)}`;
  }
}

function line(pane, item) {
  const a = item.appointment;
  const status = INVITATION_STATUS[item.status] ?? item.status;
  const who =
    item.direction === 'response'
      ? `${item.associate_name ?? 'Someone'} ${item.status === 'accepted' ? 'accepted' : 'declined'} your ${item.type === 'assignment' ? 'assignment' : 'invitation'}`
      : item.type === 'assignment'
        ? 'Assigned to you'
        : 'You are invited';
  const title = a.title || '(no title)';
  const li = h('li', { class: 'invitation', 'data-invitation': item.id });
  const open = (action) => {
    const existing = li.querySelector('.followup-form');
    if (existing) {
      existing.remove();
      return;
    }
    const form = action === 'reschedule' ? rescheduleForm(pane, item, title) : reassignForm(pane, item, title);
    li.append(form);
    form.querySelector('input')?.focus();
  };
  replace(
    li,
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
            class: buttonClass(action),
            'aria-label': `${label}: ${title}`,
            on: {
              click: (event) => (action === 'reschedule' || action === 'reassign' ? open(action) : act(pane, item, action, event.currentTarget)),
            },
          },
          label,
        ),
      ),
      webLink(title, a.id),
    ),
  );
  return li;
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
    replace(list, items.map((item) => line(pane, item)));
    if (announce || !items.length) {
      state.textContent = items.length
        ? `${items.length} ${responsesOnly ? (items.length === 1 ? 'response' : 'responses') : items.length === 1 ? 'item' : 'items'}`
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
