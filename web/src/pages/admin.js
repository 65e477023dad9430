// Administration (administrators only; docs/administration.md): associates
// (create with a password or a one-time link, role, disable, re-enable,
// reset password), resources (create, rename, retire), the system
// preferences, and the mail status with the outbox (retry a failed one).
// Everything from the CRM goes in as text (dom.js).

import * as api from '../api.js';
import { h, replace, setMessage } from '../dom.js';

const INCOMING = [
  ['enable_all', 'Enable all: tentative appointments, updates and replies'],
  ['disable_tentative', 'No tentative appointments (created on Accept)'],
  ['disable_automation', 'No automatic creation, updates or replies'],
  ['disable_all', 'Disable all: invitations are plain e-mails'],
];

const when = (iso) => (iso ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : '—');

/** A message box whose text is set later. */
const status = (id) => h('p', { id, class: 'message', role: 'status', hidden: true });

/** Runs `work` with `button` disabled, reporting failures in `box`. */
async function busy(button, box, work) {
  button.disabled = true;
  try {
    await work();
  } catch (e) {
    setMessage(box, 'error', `Not done: ${e.message}`);
  } finally {
    button.disabled = false;
  }
}

/** A one-time link, shown once, with a Copy button. */
function linkBox(link, who) {
  const url = new URL(link.path, window.location.origin).href;
  const input = h('input', { type: 'text', readonly: true, value: url, class: 'link-url', 'aria-label': `One-time link for ${who}` });
  const copy = h('button', { type: 'button', class: 'secondary' }, 'Copy link');
  copy.addEventListener('click', async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(url);
      copy.textContent = 'Copied';
    } catch {
      copy.textContent = 'Selected: press Ctrl+C';
    }
  });
  return h(
    'div',
    { class: 'message warning one-time' },
    h('p', {}, `One-time link for ${who}, shown only now: give it to them in person or by a channel you trust. It works once, until ${when(link.expires_at)}.`),
    h('div', { class: 'copy-row' }, input, copy),
  );
}

function associateItem(a, ctx) {
  const { me, reload, box } = ctx;
  const role = a.role === 'admin' ? 'Administrator' : 'User';
  const item = h(
    'li',
    { class: `item account ${a.active ? '' : 'inactive'}`, 'data-email': a.email },
    h(
      'div',
      { class: 'who-block' },
      h('p', { class: 'title' }, a.name),
      h('p', { class: 'muted' }, a.email),
      h(
        'p',
        {},
        h('span', { class: 'kind' }, role),
        ' ',
        h('span', { class: a.active ? 'kind kind-resource' : 'kind kind-off' }, a.active ? 'Active' : `Disabled ${when(a.disabled_at)}`),
        a.link_pending ? h('span', { class: 'muted' }, ' · set-password link waiting') : null,
      ),
    ),
  );
  const buttons = h('div', { class: 'buttons' });
  const self = a.id === me.id;
  const roleButton = h('button', { type: 'button', class: 'secondary', disabled: self, 'data-action': 'role' }, a.role === 'admin' ? 'Make user' : 'Make administrator');
  roleButton.addEventListener('click', () =>
    busy(roleButton, box, async () => {
      await api.changeAssociate(a.id, { role: a.role === 'admin' ? 'user' : 'admin' });
      setMessage(box, 'success', `${a.name} is now ${a.role === 'admin' ? 'a user' : 'an administrator'}.`);
      await reload();
    }),
  );
  const activeButton = h('button', { type: 'button', class: a.active ? 'danger' : 'secondary', disabled: self, 'data-action': 'active' }, a.active ? 'Disable' : 'Enable');
  activeButton.addEventListener('click', () =>
    busy(activeButton, box, async () => {
      await api.changeAssociate(a.id, { active: !a.active });
      setMessage(box, 'success', a.active ? `${a.name} is disabled: signed out everywhere, their diary stays.` : `${a.name} can sign in again.`);
      await reload();
    }),
  );
  const resetButton = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', disabled: !a.active || self, 'data-action': 'reset' }, 'Reset password');
  const resetForm = resetFormFor(a, ctx);
  resetForm.hidden = true;
  resetButton.addEventListener('click', () => {
    resetForm.hidden = !resetForm.hidden;
    resetButton.setAttribute('aria-expanded', String(!resetForm.hidden));
  });
  buttons.append(roleButton, activeButton, resetButton);
  item.append(buttons, resetForm);
  if (self) item.append(h('p', { class: 'hint full' }, 'This is you: another administrator can change your role or disable you; change your password under Settings.'));
  return item;
}

function resetFormFor(a, { reload, box, made }) {
  const id = `reset-${a.id}`;
  const password = h('input', { id, type: 'password', autocomplete: 'new-password', minlength: 10 });
  const set = h('button', { type: 'submit', class: 'primary' }, 'Set this password');
  const link = h('button', { type: 'button', class: 'secondary' }, 'Make a one-time link instead');
  const form = h(
    'form',
    { class: 'reset full', 'aria-label': `Reset the password of ${a.name}` },
    h('label', { for: id }, `New password for ${a.name}`),
    h('p', { class: 'hint' }, 'At least 10 characters, not a common password. Their sessions end at once.'),
    password,
    h('div', { class: 'buttons' }, set, link),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(set, box, async () => {
      await api.resetPassword(a.id, password.value);
      password.value = '';
      setMessage(box, 'success', `The password of ${a.name} is set; they were signed out everywhere.`);
      form.hidden = true;
    });
  });
  link.addEventListener('click', () =>
    busy(link, box, async () => {
      const link = await api.passwordLink(a.id);
      setMessage(box, 'success', `The old password of ${a.name} no longer works; they were signed out everywhere.`);
      await reload();
      replace(made, linkBox(link, a.name));
      box.scrollIntoView({ block: 'nearest' });
    }),
  );
  return form;
}

async function associatesSection(me) {
  const box = status('associates-status');
  const list = h('ul', { class: 'items', id: 'associates-list' });
  const made = h('div', { id: 'associate-made' });
  const ctx = { me, box, made, reload: null };
  const reload = async () => {
    const all = await api.adminAssociates();
    replace(list, all.map((a) => associateItem(a, ctx)));
  };
  ctx.reload = reload;
  await reload();

  const name = h('input', { id: 'new-associate-name', type: 'text', autocomplete: 'off', required: true });
  const email = h('input', { id: 'new-associate-email', type: 'email', autocomplete: 'off', required: true });
  const role = h('select', { id: 'new-associate-role' }, h('option', { value: 'user' }, 'User'), h('option', { value: 'admin' }, 'Administrator'));
  const byLink = h('input', { type: 'radio', name: 'new-associate-how', id: 'new-associate-link', value: 'link', checked: true });
  const byPassword = h('input', { type: 'radio', name: 'new-associate-how', id: 'new-associate-with-password', value: 'password' });
  const password = h('input', { id: 'new-associate-password', type: 'password', autocomplete: 'new-password', disabled: true });
  const passwordRow = h('div', { hidden: true }, h('label', { for: 'new-associate-password' }, 'Initial password'), h('p', { class: 'hint', id: 'new-associate-password-help' }, 'At least 10 characters, not a common password; no other rule.'), password);
  password.setAttribute('aria-describedby', 'new-associate-password-help');
  const toggle = () => {
    passwordRow.hidden = !byPassword.checked;
    password.disabled = !byPassword.checked;
  };
  byLink.addEventListener('change', toggle);
  byPassword.addEventListener('change', toggle);
  const submit = h('button', { type: 'submit', class: 'primary', id: 'new-associate-submit' }, 'Add associate');
  const form = h(
    'form',
    { class: 'card', id: 'new-associate', 'aria-labelledby': 'new-associate-title' },
    h('h3', { id: 'new-associate-title' }, 'Add an associate'),
    h('div', { class: 'row' }, h('div', {}, h('label', { for: 'new-associate-name' }, 'Full name'), name), h('div', {}, h('label', { for: 'new-associate-email' }, 'E-mail address (their sign-in and mailbox)'), email)),
    h('label', { for: 'new-associate-role' }, 'Role'),
    role,
    h(
      'fieldset',
      { class: 'choice' },
      h('legend', {}, 'First password'),
      h('div', { class: 'check' }, byLink, h('label', { for: 'new-associate-link' }, 'They set it with a one-time link')),
      h('div', { class: 'check' }, byPassword, h('label', { for: 'new-associate-with-password' }, 'I set it now')),
    ),
    passwordRow,
    h('div', { class: 'buttons' }, submit),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, box, async () => {
      const body = { name: name.value, email: email.value, role: role.value };
      if (byPassword.checked) body.password = password.value;
      const created = await api.createAssociate(body);
      replace(made, created.password_link ? linkBox(created.password_link, created.associate.name) : null);
      setMessage(box, 'success', `${created.associate.name} was added${created.password_link ? '' : ' and can sign in now'}.`);
      name.value = '';
      email.value = '';
      password.value = '';
      await reload();
    });
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'admin-associates' },
    h('h2', { id: 'admin-associates' }, 'Associates'),
    h('p', { class: 'hint' }, 'A disabled associate cannot sign in and is signed out at once; their diary and history stay.'),
    box,
    made,
    form,
    list,
  );
}

function resourceItem(r, reload, box) {
  const nameId = `rename-${r.id}`;
  const input = h('input', { id: nameId, type: 'text', value: r.name, autocomplete: 'off' });
  const rename = h('button', { type: 'submit', class: 'secondary' }, 'Rename');
  const form = h('form', { class: 'inline-form rename' }, h('label', { for: nameId, class: 'visually-hidden' }, `New name for ${r.name}`), input, rename);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(rename, box, async () => {
      const saved = await api.changeResource(r.id, { name: input.value });
      setMessage(box, 'success', `Renamed to ${saved.name}.`);
      await reload();
    });
  });
  const retire = h('button', { type: 'button', class: r.active ? 'danger' : 'secondary', 'data-action': 'retire' }, r.active ? 'Retire' : 'Bring back');
  retire.addEventListener('click', () =>
    busy(retire, box, async () => {
      await api.changeResource(r.id, { active: !r.active });
      setMessage(box, 'success', r.active ? `${r.name} is retired: no longer offered for new follow-ups.` : `${r.name} can be booked again.`);
      await reload();
    }),
  );
  return h(
    'li',
    { class: `item ${r.active ? '' : 'inactive'}`, 'data-name': r.name },
    h(
      'div',
      {},
      h('p', { class: 'title' }, r.name),
      h('p', {}, h('span', { class: 'kind kind-resource' }, r.kind === 'room' ? 'Room' : 'Equipment'), ' ', r.active ? null : h('span', { class: 'kind kind-off' }, `Retired ${when(r.retired_at)}`)),
    ),
    h('div', { class: 'buttons' }, form, retire),
  );
}

async function resourcesSection() {
  const box = status('resources-status');
  const list = h('ul', { class: 'items', id: 'resources-list' });
  const reload = async () => {
    const all = await api.adminResources();
    replace(list, all.length ? all.map((r) => resourceItem(r, reload, box)) : h('li', { class: 'muted' }, 'No rooms or equipment yet.'));
  };
  await reload();
  const name = h('input', { id: 'new-resource-name', type: 'text', autocomplete: 'off', required: true });
  const kind = h('select', { id: 'new-resource-kind' }, h('option', { value: 'room' }, 'Room'), h('option', { value: 'equipment' }, 'Equipment'));
  const submit = h('button', { type: 'submit', class: 'primary', id: 'new-resource-submit' }, 'Add');
  const form = h(
    'form',
    { class: 'add-resource', id: 'new-resource', 'aria-label': 'Add a room or equipment' },
    h('div', {}, h('label', { for: 'new-resource-name' }, 'Name'), name),
    h('div', {}, h('label', { for: 'new-resource-kind' }, 'Kind'), kind),
    submit,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, box, async () => {
      const created = await api.createResource({ name: name.value, kind: kind.value });
      setMessage(box, 'success', `${created.name} was added.`);
      name.value = '';
      await reload();
    });
  });
  return h('section', { class: 'card', 'aria-labelledby': 'admin-resources' }, h('h2', { id: 'admin-resources' }, 'Rooms and equipment'), box, form, list);
}

async function preferencesSection() {
  const prefs = await api.preferences();
  const box = status('preferences-status');
  const incoming = h('select', { id: 'pref-incoming-select' }, INCOMING.map(([v, label]) => h('option', { value: v, selected: prefs.incoming === v }, label)));
  const reply = h('input', { type: 'checkbox', id: 'pref-request-reply', checked: prefs.request_reply });
  const sync = h('input', { type: 'checkbox', id: 'pref-synchronizer', checked: prefs.synchronizer });
  const inbox = h('input', { type: 'email', id: 'pref-crm-inbox', value: prefs.crm_inbox, required: true, 'aria-describedby': 'pref-crm-inbox-help' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'preferences-submit' }, 'Save preferences');
  const form = h(
    'form',
    { id: 'preferences-form' },
    h('label', { for: 'pref-incoming-select' }, 'Manage incoming invitations'),
    incoming,
    h('div', { class: 'checks' }, h('div', { class: 'check' }, reply, h('label', { for: 'pref-request-reply' }, 'Include a request for reply in outgoing invitations')), h('div', { class: 'check' }, sync, h('label', { for: 'pref-synchronizer' }, 'A calendar synchronizer is active for everyone'))),
    h('label', { for: 'pref-crm-inbox' }, 'CRM inbox address'),
    h('p', { class: 'hint', id: 'pref-crm-inbox-help' }, 'Replies to invitations sent from the CRM go here.'),
    inbox,
    h('div', { class: 'buttons' }, submit),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, box, async () => {
      const saved = await api.savePreferences({ incoming: incoming.value, request_reply: reply.checked, synchronizer: sync.checked, crm_inbox: inbox.value });
      inbox.value = saved.crm_inbox;
      setMessage(box, 'success', 'Preferences saved.');
    });
  });
  return h('section', { class: 'card', 'aria-labelledby': 'admin-preferences' }, h('h2', { id: 'admin-preferences' }, 'System preferences'), form, box);
}

function outboxItem(m, reload, box) {
  const retry = h('button', { type: 'button', class: 'secondary', 'data-action': 'retry' }, 'Send again');
  retry.addEventListener('click', () =>
    busy(retry, box, async () => {
      await api.retryOutbox(m.id);
      setMessage(box, 'success', `The message to ${m.recipient} is queued again.`);
      await reload();
    }),
  );
  return h(
    'li',
    { class: 'item status-declined' },
    h(
      'div',
      {},
      h('p', { class: 'title' }, `${m.method}: ${m.subject || '(no subject)'}`),
      h('p', { class: 'muted' }, `To ${m.recipient}, from ${m.sender} · queued ${when(m.created_at)} · ${m.attempts} attempt${m.attempts === 1 ? '' : 's'}`),
      h('p', {}, `Reason: ${m.last_error ?? 'unknown'}`),
      h('p', { class: 'muted' }, m.retry_at ? `Tried again by itself ${when(m.retry_at)}.` : 'Failed for good.'),
    ),
    h('div', { class: 'buttons' }, retry),
  );
}

async function mailSection() {
  const box = status('mail-status-message');
  const body = h('div', { id: 'mail-status' });
  const reload = async () => {
    const s = await api.mailStatus();
    const inboxes = s.inboxes.length
      ? h(
          'ul',
          { class: 'items' },
          s.inboxes.map((i) =>
            h(
              'li',
              { class: `item ${i.last_error ? 'status-declined' : ''}` },
              h(
                'div',
                {},
                h('p', { class: 'title' }, `${i.name} · ${i.address}`),
                h(
                  'dl',
                  { class: 'facts' },
                  h('dt', {}, 'Server and folder'),
                  h('dd', {}, `${i.server}, ${i.folder}`),
                  h('dt', {}, 'Last poll'),
                  h('dd', {}, when(i.last_poll_at)),
                  h('dt', {}, 'Last success'),
                  h('dd', {}, when(i.last_success_at)),
                  h('dt', {}, 'Taken in'),
                  h('dd', {}, String(i.applied)),
                  h('dt', {}, 'Rejected'),
                  h('dd', {}, String(i.rejected)),
                  h('dt', {}, 'Failed, offered again'),
                  h('dd', {}, String(i.failed)),
                  i.last_error ? [h('dt', {}, 'Error'), h('dd', { class: 'error-text' }, `${i.last_error} (${when(i.last_error_at)})`)] : null,
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'hint' }, 'No inbox is polled: invitations arrive only through the add-in and the API. Inboxes are set in the mail settings (docs/mail.md).');
    const rejected = s.rejected.length
      ? h(
          'ul',
          { class: 'items', id: 'rejected-list' },
          s.rejected.map((r) => h('li', { class: 'item' }, h('div', {}, h('p', { class: 'title' }, `${r.code} · ${r.mailbox}`), h('p', {}, r.message), h('p', { class: 'muted' }, when(r.created_at))))),
        )
      : h('p', { class: 'hint' }, 'No message was rejected.');
    const failed = s.failed.length ? h('ul', { class: 'items', id: 'failed-list' }, s.failed.map((m) => outboxItem(m, reload, box))) : h('p', { class: 'hint' }, 'No message failed.');
    const waiting = s.waiting.length
      ? h('ul', { class: 'plain-list', id: 'waiting-list' }, s.waiting.map((m) => h('li', {}, `${m.method} to ${m.recipient}: ${m.subject || '(no subject)'} · queued ${when(m.created_at)}`)))
      : h('p', { class: 'hint' }, 'Nothing waits to be sent.');
    replace(
      body,
      h('h3', {}, 'Inboxes'),
      inboxes,
      h('h3', {}, 'Outbox'),
      h(
        'dl',
        { class: 'facts', id: 'outbox-counts' },
        h('dt', {}, 'Sent through'),
        h('dd', {}, s.smtp ?? 'No SMTP server is configured: messages wait in the outbox'),
        h('dt', {}, 'Sent'),
        h('dd', {}, String(s.outbox.sent)),
        h('dt', {}, 'Waiting'),
        h('dd', { id: 'outbox-waiting' }, String(s.outbox.queued)),
        h('dt', {}, 'Failed'),
        h('dd', { id: 'outbox-failed' }, String(s.outbox.failed)),
      ),
      h('h4', {}, 'Failed, with the reason'),
      failed,
      h('h4', {}, 'Waiting'),
      waiting,
      h('h3', {}, 'Rejected incoming messages'),
      rejected,
    );
  };
  await reload();
  const refresh = h('button', { type: 'button', class: 'secondary', id: 'mail-refresh' }, 'Refresh');
  refresh.addEventListener('click', () => busy(refresh, box, reload));
  return h('section', { class: 'card', 'aria-labelledby': 'admin-mail' }, h('div', { class: 'page-head' }, h('h2', { id: 'admin-mail' }, 'Mail status'), refresh), box, body);
}

export async function render(main, app) {
  if (app.user.role !== 'admin') {
    main.append(h('h1', {}, 'Administration'), h('p', { class: 'message error', role: 'alert' }, 'This page is for administrators.'));
    return;
  }
  const sections = await Promise.all([associatesSection(app.user), resourcesSection(), preferencesSection(), mailSection()]);
  const nav = h(
    'nav',
    { class: 'tools', 'aria-label': 'Administration sections' },
    [
      ['admin-associates', 'Associates'],
      ['admin-resources', 'Rooms and equipment'],
      ['admin-preferences', 'Preferences'],
      ['admin-mail', 'Mail status'],
    ].map(([id, label]) => h('button', { type: 'button', class: 'link', on: { click: () => document.getElementById(id)?.scrollIntoView() } }, label)),
  );
  main.append(h('h1', {}, 'Administration'), nav, ...sections);
}
