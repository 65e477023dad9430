// The follow-up dialog (new and edit), a modal <dialog>: title, time,
// location, description; participants of three kinds (associates,
// resources, persons or bare e-mail addresses) found with one search, added
// and taken off a saved follow-up too; each participant's status;
// a resource in conflict marked "!" with the first available time as a
// button that moves the follow-up there; the owner (assigning it to someone
// else). Saving sends the invitations. Opened by an invitee, it shows the
// follow-up with their answer buttons instead.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { changeable, localInput, statusWord, when } from '../states.js';

const KIND_WORD = { associate: 'Associate', resource: 'Resource', person: 'Contact', email: 'E-mail address' };

/** Picked participants as the API's lists. */
function byKind(chosen) {
  return {
    associates: chosen.filter((p) => p.kind === 'associate').map((p) => p.id),
    resources: chosen.filter((p) => p.kind === 'resource').map((p) => p.id),
    persons: chosen.filter((p) => p.kind === 'person').map((p) => p.id),
    emails: chosen.filter((p) => p.kind === 'email').map((p) => p.id),
  };
}

function descriptionInput(value, disabled) {
  return h('textarea', { id: 'followup-description', rows: 3, disabled, class: 'prose' }, value ?? '');
}

/**
 * Opens the dialog: `{id}` for an existing follow-up, else a new one from
 * `start`, `end` and optional `participants` ([{kind, id, name}]).
 * `invitationId` is the signed-in user's invitation when they are invited.
 */
export async function openFollowup(app, options) {
  const dialog = h('dialog', { class: 'followup', id: 'followup-dialog', 'aria-labelledby': 'followup-title' });
  document.body.append(dialog);
  // Where the keyboard was: it goes back there when the dialog closes.
  const opener = document.activeElement;
  const closed = () => {
    dialog.remove();
    if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    options.onClose?.();
    app.refreshBadge();
  };
  dialog.addEventListener('close', closed);
  dialog.showModal();
  const view = { app, dialog, options };
  try {
    if (options.id) await showExisting(view, options.id);
    else showNew(view);
  } catch (e) {
    replace(dialog, h('h2', { id: 'followup-title' }, 'Follow-up'), h('p', { class: 'message error', role: 'alert' }, e.message), closeButton(dialog));
  }
}

function closeButton(dialog, text = 'Close') {
  return h('button', { type: 'button', class: 'secondary', 'data-close': '', on: { click: () => dialog.close() } }, text);
}

function field(id, label, input, hint) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null);
}

/** The search that finds associates, resources, persons and takes bare e-mail addresses. */
function participantPicker(onPick, exclude) {
  const input = h('input', {
    type: 'search',
    id: 'participant-search',
    autocomplete: 'off',
    placeholder: 'Name, room or e-mail address',
    'aria-describedby': 'participant-search-hint',
    'aria-controls': 'participant-results',
  });
  const results = h('ul', { id: 'participant-results', class: 'results', 'aria-label': 'Matching participants' });
  let timer;
  let asked = 0;
  const search = async () => {
    const q = input.value.trim();
    const mine = ++asked;
    if (q.length < 2) {
      replace(results);
      return;
    }
    const [assoc, res, pers] = await Promise.all([api.associates(q), api.resources(q), api.persons(q)]).catch(() => [[], [], []]);
    if (mine !== asked) return;
    const found = [
      ...assoc.map((a) => ({ kind: 'associate', id: a.id, name: a.name, detail: a.email })),
      ...res.map((r) => ({ kind: 'resource', id: r.id, name: r.name, detail: r.kind })),
      ...pers.map((p) => ({ kind: 'person', id: p.id, name: p.name, detail: [p.company_name, (p.emails ?? [])[0]].filter(Boolean).join(', ') })),
    ].filter((p) => !exclude(p));
    if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(q) && !found.some((f) => f.detail?.toLowerCase?.().includes(q.toLowerCase()))) {
      found.push({ kind: 'email', id: q.toLowerCase(), name: q.toLowerCase(), detail: 'not a registered contact' });
    }
    replace(
      results,
      found.length
        ? found.slice(0, 12).map((p) =>
            h(
              'li',
              {},
              h(
                'button',
                {
                  type: 'button',
                  class: 'result',
                  on: {
                    click: () => {
                      onPick(p);
                      input.value = '';
                      replace(results);
                      input.focus();
                    },
                  },
                },
                h('span', { class: `kind kind-${p.kind}` }, KIND_WORD[p.kind]),
                ' ',
                p.name,
                p.detail ? h('span', { class: 'muted' }, ` — ${p.detail}`) : null,
              ),
            ),
          )
        : h('li', { class: 'muted' }, 'Nothing found.'),
    );
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      results.querySelector('button')?.focus();
    }
  });
  results.addEventListener('keydown', (e) => {
    const buttons = [...results.querySelectorAll('button')];
    const i = buttons.indexOf(document.activeElement);
    if (e.key === 'ArrowDown' && i >= 0) {
      e.preventDefault();
      (buttons[i + 1] ?? buttons[i]).focus();
    } else if (e.key === 'ArrowUp' && i >= 0) {
      e.preventDefault();
      (buttons[i - 1] ?? input).focus();
    }
  });
  return h(
    'div',
    { class: 'picker' },
    h('label', { for: 'participant-search' }, 'Add participants'),
    input,
    h('p', { class: 'hint', id: 'participant-search-hint' }, 'Colleagues get an invitation in the CRM, rooms and equipment are booked, contacts and e-mail addresses get an e-mail invitation.'),
    results,
  );
}

async function ownerSelect(current) {
  const people = await api.associates();
  return h(
    'select',
    { id: 'followup-owner' },
    people.map((a) => h('option', { value: a.id, selected: a.id === current }, a.name)),
  );
}

function showNew(view, preset = {}) {
  const { app, dialog, options } = view;
  const chosen = [...(options.participants ?? [])];
  const title = h('input', { id: 'followup-name', required: true, value: preset.title ?? '' });
  const start = h('input', { id: 'followup-start', type: 'datetime-local', required: true, value: localInput(options.start ?? new Date()) });
  const end = h('input', { id: 'followup-end', type: 'datetime-local', required: true, value: localInput(options.end ?? new Date(Date.now() + 3600_000)) });
  const location = h('input', { id: 'followup-location' });
  const description = descriptionInput('', false);
  const list = h('ul', { class: 'participants', id: 'followup-participants', 'aria-label': 'Participants' });
  const error = h('p', { class: 'message error', role: 'alert', hidden: true });
  const drawList = () =>
    replace(
      list,
      chosen.length
        ? chosen.map((p, i) =>
            h(
              'li',
              {},
              h('span', { class: `kind kind-${p.kind}` }, KIND_WORD[p.kind]),
              ' ',
              h('span', { class: 'name' }, p.name),
              h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${p.name}`, on: { click: () => { chosen.splice(i, 1); drawList(); } } }, 'Remove'),
            ),
          )
        : h('li', { class: 'muted' }, 'Only you, so far.'),
    );
  drawList();
  const picker = participantPicker(
    (p) => {
      chosen.push(p);
      drawList();
    },
    (p) => chosen.some((c) => c.kind === p.kind && c.id === p.id) || (p.kind === 'associate' && p.id === app.user.id),
  );
  const save = h('button', { type: 'submit', class: 'primary', id: 'followup-save' }, 'Save and send invitations');
  const form = h(
    'form',
    {
      method: 'dialog',
      on: {
        submit: async (e) => {
          e.preventDefault();
          error.hidden = true;
          const s = new Date(start.value);
          const en = new Date(end.value);
          if (!title.value.trim()) return fail('Give the follow-up a title.', title);
          if (!(en > s)) return fail('The end must be after the start.', end);
          save.disabled = true;
          try {
            const owner = form.querySelector('#followup-owner')?.value;
            const body = {
              title: title.value.trim(),
              start: s.toISOString(),
              end: en.toISOString(),
              location: location.value.trim() || undefined,
              description: description.value.trim() || undefined,
              ...byKind(chosen),
            };
            const created = await api.createFollowup(body);
            if (owner && owner !== app.user.id) await api.assign(created.id, owner);
            app.toast(`“${created.title}” is saved; invitations are sent.`);
            await showExisting(view, created.id);
          } catch (err) {
            fail(`Not saved: ${err.message}`);
          } finally {
            save.disabled = false;
          }
        },
      },
    },
    h('h2', { id: 'followup-title' }, 'New follow-up'),
    field('followup-name', 'Title', title),
    h('div', { class: 'row' }, field('followup-start', 'Start', start), field('followup-end', 'End', end)),
    field('followup-location', 'Location', location),
    field('followup-description', 'Description', description),
    picker,
    h('h3', {}, 'Participants'),
    list,
    h('div', { class: 'field', id: 'owner-field' }),
    error,
    h('div', { class: 'buttons dialog-actions' }, save, closeButton(dialog, 'Cancel')),
  );
  function fail(text, focus) {
    error.textContent = text;
    error.hidden = false;
    focus?.focus();
  }
  replace(dialog, form);
  ownerSelect(app.user.id).then((select) => {
    replace(form.querySelector('#owner-field'), h('label', { for: 'followup-owner' }, 'Owner'), select, h('p', { class: 'hint' }, 'Choose a colleague to assign the follow-up to them; they accept or decline it.'));
  });
  title.focus();
}

/** `after`: `{message, focus}`, what to say and where the focus goes once drawn. */
async function showExisting(view, id, after = {}) {
  const { app, dialog, options } = view;
  const f = await api.followup(id);
  const mine = f.owner_id === app.user.id;
  const me = f.participants.find((p) => p.kind === 'associate' && p.associate_id === app.user.id);
  const invitationId = options.invitationId ?? me?.id;
  if (!mine && me && ['not_seen', 'moved', 'assigned'].includes(me.status)) {
    try {
      await api.invitationAction(me.id, 'seen');
      me.status = me.status === 'moved' ? 'moved_seen' : 'seen';
    } catch {
      // Opening is enough to answer; the status may simply stay.
    }
  }
  const editable = mine && changeable(f);
  const error = h('p', { class: 'message error', role: 'alert', hidden: true });
  const info = h('p', { class: 'message success', role: 'status', hidden: true });
  const start = h('input', { id: 'followup-start', type: 'datetime-local', value: localInput(f.start), disabled: !editable });
  const end = h('input', { id: 'followup-end', type: 'datetime-local', value: localInput(f.end), disabled: !editable });
  const location = h('input', { id: 'followup-location', value: f.location, disabled: !editable });
  const description = editable ? descriptionInput(f.description, false) : null;
  const conflict = f.participants.some((p) => p.kind === 'resource' && p.conflict);
  /** Taken off this follow-up (it is not itself cancelled). */
  const removed = (p) => p.status === 'cancelled' && f.status !== 'cancelled';
  const participantChange = async (change, message) => {
    error.hidden = true;
    try {
      await change();
      await showExisting(view, f.id, { message, focus: '#participant-search' });
    } catch (e) {
      error.textContent = `Not changed: ${e.message}`;
      error.hidden = false;
    }
  };
  const rows = f.participants.map((p) => {
    const name = p.name ?? p.email ?? '';
    const removable = editable && p.role === 'invitee' && !removed(p);
    return h(
      'tr',
      { 'data-kind': p.kind, 'data-participant': p.id, class: [p.conflict ? 'conflict' : '', removed(p) ? 'removed' : ''].filter(Boolean).join(' ') },
      h('td', {}, p.conflict ? h('span', { class: 'exclaim', 'aria-hidden': 'true' }, '!') : null, name),
      h('td', {}, KIND_WORD[p.kind] ?? p.kind, p.role === 'assignee' ? ' (assigned)' : ''),
      h('td', { class: `status status-${p.status}` }, p.conflict ? 'Conflict: booked twice at this time' : removed(p) ? 'Taken off' : statusWord(p.status)),
      editable
        ? h(
            'td',
            {},
            removable
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'link',
                    'aria-label': `Take ${name} off`,
                    on: { click: () => participantChange(() => api.removeParticipant(f.id, p.id), `${name} is taken off${p.kind === 'resource' ? '' : ' and told so'}.`) },
                  },
                  'Take off',
                )
              : null,
          )
        : null,
    );
  });
  const picker = editable
    ? participantPicker(
        (p) => participantChange(() => api.addParticipants(f.id, byKind([p])), p.kind === 'resource' ? `${p.name} is booked.` : `${p.name} is invited.`),
        (p) =>
          (p.kind === 'associate' && p.id === f.owner_id) ||
          f.participants.some(
            (q) =>
              !removed(q) &&
              ((p.kind === 'associate' && q.associate_id === p.id && q.role === 'invitee') || (p.kind === 'resource' && q.resource_id === p.id) || (p.kind === 'person' && q.person_id === p.id)),
          ),
      )
    : null;
  const firstAvailable = f.first_available
    ? h(
        'div',
        { class: 'message warning', id: 'first-available' },
        h('p', {}, conflict ? 'A resource is booked twice at this time.' : 'Not everyone is free at this time.'),
        editable
          ? h(
              'button',
              {
                type: 'button',
                class: 'primary',
                id: 'first-available-button',
                on: {
                  click: async () => {
                    const length = new Date(f.end) - new Date(f.start);
                    const s = new Date(f.first_available);
                    try {
                      await api.reschedule(f.id, { start: s.toISOString(), end: new Date(s.getTime() + length).toISOString() });
                      await showExisting(view, f.id, { message: 'Moved to the first available time; everyone is invited again.' });
                    } catch (e) {
                      error.textContent = `Not moved: ${e.message}`;
                      error.hidden = false;
                    }
                  },
                },
              },
              `Move to first available: ${when(f.first_available, new Date(new Date(f.first_available).getTime() + (new Date(f.end) - new Date(f.start))).toISOString())}`,
            )
          : h('p', {}, `First available: ${when(f.first_available, f.first_available)}`),
      )
    : null;
  const answers =
    !mine && me && !['accepted', 'declined', 'cancelled'].includes(me.status)
      ? h(
          'div',
          { class: 'buttons', id: 'invitation-answers' },
          h('button', { type: 'button', class: 'primary', on: { click: () => answer('accept') } }, 'Accept'),
          me.role === 'assignee' ? null : h('button', { type: 'button', class: 'secondary', on: { click: () => answer('seen') } }, 'Tentative'),
          h('button', { type: 'button', class: 'secondary', on: { click: () => answer('decline') } }, 'Decline'),
        )
      : null;
  async function answer(action) {
    try {
      await api.invitationAction(invitationId, action);
      app.toast(action === 'accept' ? 'Accepted.' : action === 'decline' ? 'Declined; the organizer is told.' : 'Kept as tentative.');
      dialog.close();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  }
  const owner = editable ? await ownerSelect(f.owner_id) : null;
  const save = editable ? h('button', { type: 'submit', class: 'primary', id: 'followup-save' }, 'Save changes') : null;
  const remove = editable
    ? h(
        'button',
        {
          type: 'button',
          class: 'danger',
          id: 'followup-delete',
          on: {
            click: async () => {
              if (!window.confirm(`Delete “${f.title}”? Everyone invited is told it is cancelled.`)) return;
              await api.deleteFollowup(f.id);
              app.toast('Deleted; the invitations are cancelled.');
              dialog.close();
            },
          },
        },
        'Delete',
      )
    : null;
  const form = h(
    'form',
    {
      on: {
        submit: async (e) => {
          e.preventDefault();
          if (!editable) return;
          error.hidden = true;
          try {
            const s = new Date(start.value);
            const en = new Date(end.value);
            if (!(en > s)) throw new Error('the end must be after the start');
            const moved = s.getTime() !== new Date(f.start).getTime() || en.getTime() !== new Date(f.end).getTime() || location.value !== f.location;
            const described = description.value.trim() !== f.description;
            if (moved || described) await api.reschedule(f.id, { start: s.toISOString(), end: en.toISOString(), location: location.value, description: description.value });
            if (owner && owner.value !== f.owner_id) await api.assign(f.id, owner.value);
            await showExisting(view, f.id, { message: moved ? 'Saved: the new time is sent; everyone’s answer starts over.' : described ? 'Saved: the new description is sent.' : 'Saved.' });
          } catch (err) {
            error.textContent = `Not saved: ${err.message}`;
            error.hidden = false;
          }
        },
      },
    },
    h('h2', { id: 'followup-title' }, f.title),
    h(
      'p',
      { class: 'muted' },
      f.status === 'cancelled' ? 'Cancelled. ' : '',
      mine ? 'You are the owner.' : `Organized by ${f.organizer_name ?? f.organizer_email ?? 'a colleague'}.`,
      me && !mine ? ` Your answer: ${statusWord(me.status)}.` : '',
    ),
    error,
    info,
    h('div', { class: 'row' }, field('followup-start', 'Start', start), field('followup-end', 'End', end)),
    field('followup-location', 'Location', location),
    editable
      ? field('followup-description', 'Description', description)
      : f.description
        ? h('div', { class: 'field' }, h('h3', {}, 'Description'), h('p', { class: 'prose', id: 'followup-description-text' }, f.description))
        : null,
    firstAvailable,
    h('h3', {}, 'Participants'),
    f.participants.length
      ? h(
          'table',
          { class: 'table', id: 'followup-participants' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Kind'), h('th', { scope: 'col' }, 'Status'), editable ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Change')) : null)),
          h('tbody', {}, rows),
        )
      : h('p', { class: 'muted' }, 'No participants.'),
    picker,
    owner ? field('followup-owner', 'Owner', owner, 'Choose a colleague to assign the follow-up to them.') : null,
    answers,
    h('div', { class: 'buttons dialog-actions' }, save, remove, closeButton(dialog)),
  );
  replace(dialog, form);
  if (after.message) {
    info.textContent = after.message;
    info.hidden = false;
  }
  ((after.focus && form.querySelector(after.focus)) ?? form.querySelector('#first-available-button') ?? form.querySelector('#followup-start:not([disabled])') ?? form.querySelector('button'))?.focus();
}

export { showNew };
