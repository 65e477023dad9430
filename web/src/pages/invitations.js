// Invitations: the invitations and assignments waiting for me, and the
// responses to mine ("Show responses" keeps those alone); Accept /
// Tentative / Decline; the notifications ("Invitation declined", ...) with
// Got it, after which Reschedule (the follow-up dialog at a new time) and
// Reassign (another associate) are offered.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { openFollowup } from './followup.js';
import { statusWord, when } from '../states.js';

const NOTICE_TITLE = {
  invitation_declined: 'Invitation declined',
  assignment_declined: 'Assignment declined',
  assignment_accepted: 'Assignment accepted',
  appointment_moved: 'Appointment moved',
  appointment_cancelled: 'Appointment cancelled',
  counter_proposal: 'New time proposed',
};

/** Where the keyboard is inside `section`: the item and the button's words, to find them again after a redraw. */
function focusWithin(section) {
  const el = document.activeElement;
  if (!(el instanceof HTMLElement) || !section.contains(el)) return null;
  const item = el.closest('[data-invitation], [data-notification]');
  return item ? { key: item.dataset.invitation ?? item.dataset.notification, text: el.textContent } : null;
}

/** Puts the focus back on the same button of the same item, or on the item's first button, after a redraw. */
function refocus(section, where) {
  if (!where) return;
  const item = [...section.querySelectorAll('[data-invitation], [data-notification]')].find((i) => (i.dataset.invitation ?? i.dataset.notification) === where.key);
  const buttons = item ? [...item.querySelectorAll('button, select')] : [];
  (buttons.find((b) => b.textContent === where.text) ?? buttons[0] ?? section.querySelector('button') ?? document.getElementById('main'))?.focus();
}

export async function render(main, app) {
  const responsesOnly = h('input', { type: 'checkbox', id: 'show-responses' });
  const notes = h('section', { id: 'notifications', 'aria-labelledby': 'notifications-title', class: 'card' });
  const list = h('section', { id: 'invitation-list', 'aria-labelledby': 'list-title' });
  const status = h('p', { role: 'status', class: 'message', hidden: true, id: 'invitations-status' });
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Invitations'), h('div', { class: 'check tools' }, responsesOnly, h('label', { for: 'show-responses' }, 'Show responses'))),
    status,
    notes,
    list,
  );
  const say = (tone, text) => {
    status.className = `message ${tone}`;
    status.textContent = text;
    status.hidden = false;
  };
  const associates = await api.associates();
  /** Notifications already acknowledged in this visit: their follow-up actions stay offered. */
  const acknowledged = [];

  /** As for the list: only the newest request draws. */
  let notesRequest = 0;

  async function drawNotes() {
    const mine = ++notesRequest;
    const open = await api.notifications();
    if (mine !== notesRequest) return;
    const where = focusWithin(notes);
    const all = [...open.map((n) => ({ ...n, open: true })), ...acknowledged];
    if (!all.length) {
      replace(notes, h('h2', { id: 'notifications-title' }, 'Notifications'), h('p', { class: 'muted' }, 'Nothing new.'));
      refocus(notes, where);
      return;
    }
    replace(
      notes,
      h('h2', { id: 'notifications-title' }, 'Notifications'),
      h(
        'ul',
        { class: 'items' },
        all.map((n) => {
          const actions = [];
          if (n.open) {
            actions.push(
              h(
                'button',
                {
                  type: 'button',
                  class: 'primary',
                  on: {
                    click: async () => {
                      await api.gotIt(n.id);
                      acknowledged.push({ ...n, open: false });
                      await drawNotes();
                      app.refreshBadge();
                      notes.querySelector(`[data-notification="${n.id}"] button`)?.focus();
                    },
                  },
                },
                'Got it',
              ),
            );
          } else if (n.appointment_id && n.what === 'invitation_declined') {
            actions.push(h('button', { type: 'button', class: 'secondary', on: { click: () => openFollowup(app, { id: n.appointment_id, onClose: refresh }) } }, 'Reschedule'));
          } else if (n.appointment_id && n.what === 'assignment_declined') {
            actions.push(reassignControls(n.appointment_id, n.id));
          }
          return h(
            'li',
            { class: `item${n.open ? ' unread' : ''}`, 'data-notification': n.id, 'data-what': n.what },
            h('div', {}, h('strong', {}, NOTICE_TITLE[n.what] ?? n.what), h('p', {}, n.message)),
            h('div', { class: 'buttons' }, actions),
          );
        }),
      ),
    );
    refocus(notes, where);
  }

  function reassignControls(appointmentId, key) {
    const id = `reassign-${key}`;
    const select = h('select', { id }, associates.filter((a) => a.id !== app.user.id).map((a) => h('option', { value: a.id }, a.name)));
    // Whoever declined it already is not offered again.
    api
      .followup(appointmentId)
      .then((f) => {
        for (const p of f.participants) {
          if (p.role === 'assignee' && p.status === 'declined') select.querySelector(`option[value="${CSS.escape(p.associate_id)}"]`)?.remove();
        }
      })
      .catch(() => {});
    return h(
      'span',
      { class: 'inline-form' },
      h('label', { for: id, class: 'inline' }, 'Reassign to'),
      select,
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          on: {
            click: async () => {
              try {
                await api.reassign(appointmentId, select.value);
                say('success', `Reassigned to ${select.selectedOptions[0].textContent}.`);
                await refresh();
              } catch (e) {
                say('error', `Not reassigned: ${e.message}`);
              }
            },
          },
        },
        'Reassign',
      ),
    );
  }

  async function act(item, action, done) {
    try {
      await api.invitationAction(item.id, action);
      say('success', done);
      await refresh();
    } catch (e) {
      say('error', e.message);
    }
  }

  /** Each drawing of the list; an answer that comes back after a newer request was made is dropped. */
  let listRequest = 0;

  async function drawList() {
    const mine = ++listRequest;
    const onlyResponses = responsesOnly.checked;
    const items = await api.invitations(onlyResponses);
    if (mine !== listRequest) return;
    const where = focusWithin(list);
    const title = onlyResponses ? 'Responses to my invitations' : 'Waiting for me and responses';
    list.dataset.filter = onlyResponses ? 'responses' : 'all';
    if (!items.length) {
      replace(list, h('h2', { id: 'list-title' }, title), h('p', { class: 'muted' }, onlyResponses ? 'No responses.' : 'Nothing is waiting for you.'));
      refocus(list, where);
      return;
    }
    replace(
      list,
      h('h2', { id: 'list-title' }, title),
      h(
        'ul',
        { class: 'items' },
        items.map((i) => {
          const a = i.appointment;
          const incoming = i.direction === 'incoming';
          const buttons = [];
          if (incoming && i.status !== 'cancelled') {
            buttons.push(h('button', { type: 'button', class: 'primary', on: { click: () => act(i, 'accept', `Accepted “${a.title}”.`) } }, 'Accept'));
            if (i.type === 'invitation') buttons.push(h('button', { type: 'button', class: 'secondary', on: { click: () => act(i, 'seen', `“${a.title}” is kept as tentative.`) } }, 'Tentative'));
            buttons.push(h('button', { type: 'button', class: 'secondary', on: { click: () => act(i, 'decline', `Declined “${a.title}”; the organizer is told.`) } }, 'Decline'));
          } else if (incoming) {
            buttons.push(h('button', { type: 'button', class: 'secondary', on: { click: () => act(i, 'seen', 'Removed from the list.') } }, 'Got it'));
          } else {
            if (i.status === 'declined' && i.type === 'invitation') {
              buttons.push(h('button', { type: 'button', class: 'secondary', on: { click: () => openFollowup(app, { id: a.id, onClose: refresh }) } }, 'Reschedule'));
            }
            if (i.status === 'declined' && i.type === 'assignment') buttons.push(reassignControls(a.id, i.id));
            buttons.push(h('button', { type: 'button', class: 'link', on: { click: () => act(i, 'seen', 'Removed from the list.') } }, 'Mark as seen'));
          }
          const who = incoming ? `From the owner of “${a.title}”` : `${i.associate_name ?? 'A colleague'}`;
          return h(
            'li',
            { class: `item status-${i.status}`, 'data-invitation': i.id, 'data-direction': i.direction },
            h(
              'div',
              {},
              h('button', { type: 'button', class: 'link title', on: { click: () => openFollowup(app, { id: a.id, invitationId: incoming ? i.id : null, onClose: refresh }) } }, a.title),
              h('p', {}, when(a.start, a.end), a.location ? ` · ${a.location}` : ''),
              h(
                'p',
                { class: 'muted' },
                i.type === 'assignment' ? 'Assignment' : 'Invitation',
                ' · ',
                incoming ? statusWord(i.status) : `${who}: ${statusWord(i.status)}`,
                i.conflict ? ' · ! a resource is booked twice' : '',
              ),
            ),
            h('div', { class: 'buttons' }, buttons),
          );
        }),
      ),
    );
    refocus(list, where);
  }

  async function refresh() {
    await Promise.all([drawNotes(), drawList()]);
    app.refreshBadge();
  }
  responsesOnly.addEventListener('change', () => drawList());
  await refresh();
}
