// Inbox: the e-mails my CRM inbox received (the inbox endpoint and the IMAP
// poller), newest first. An invitation shows the engine's decision and
// reasons, decided here in the browser by the wasm package with the context
// the CRM builds, and the buttons that decision enables; the answer is
// applied through the API. Under `disable_all` it is a plain e-mail with the
// buttons disabled. Everything from a message is shown as text.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { decide } from '../engine.js';
import { decisionCard, effectText } from '../decision.js';

/** The header fields of a raw e-mail (unfolded), lower-case names. */
export function headersOf(text) {
  const head = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const out = {};
  let last = null;
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last) out[last] += ` ${line.trim()}`;
    else {
      const m = line.match(/^([A-Za-z0-9-]+):\s*(.*)$/);
      if (m) {
        last = m[1].toLowerCase();
        out[last] ??= m[2];
      }
    }
  }
  return out;
}

const fieldsOf = (m) => (m.raw_encoding === 'base64' ? { message_base64: m.raw } : { message: m.raw });
const textOf = (m) => (m.raw_encoding === 'base64' ? new TextDecoder().decode(Uint8Array.from(atob(m.raw), (c) => c.charCodeAt(0))) : m.raw);
const received = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

export async function render(main, app) {
  const list = h('ul', { class: 'mail-list', id: 'mail-list', 'aria-label': 'Received e-mails' });
  const detail = h('section', { class: 'mail-detail card', id: 'mail-detail', 'aria-live': 'polite', 'aria-label': 'Selected e-mail' });
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Inbox'), h('p', { class: 'hint' }, `E-mails received in your CRM inbox (${app.user.email}), newest first.`)),
    h('div', { class: 'split' }, list, detail),
  );
  const messages = await api.inboxMessages();
  if (!messages.length) {
    replace(list, h('li', { class: 'muted' }, 'No e-mails yet. Invitations sent to your address arrive here.'));
    replace(detail, h('p', { class: 'muted' }, 'Nothing selected.'));
    return;
  }
  const select = async (m, button) => {
    for (const b of list.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b === button));
    await showMessage(detail, m, app);
  };
  replace(
    list,
    messages.map((m) => {
      const b = h(
        'button',
        { type: 'button', class: 'mail', 'aria-pressed': 'false', 'data-message': m.id },
        h('span', { class: 'mail-subject' }, m.subject || '(no subject)'),
        h('span', { class: 'mail-from' }, m.from_name ? `${m.from_name} <${m.from_email ?? ''}>` : m.from_email ?? ''),
        h('span', { class: 'mail-date' }, received.format(new Date(m.received_at))),
      );
      b.addEventListener('click', () => select(m, b));
      return h('li', {}, b);
    }),
  );
  await select(messages[0], list.querySelector('button'));
}

async function showMessage(detail, m, app) {
  const text = textOf(m);
  const headers = headersOf(text);
  const decisionBox = h('div', { id: 'inbox-decision', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'The engine is deciding…'));
  const status = h('p', { role: 'status', class: 'message', hidden: true, id: 'inbox-status' });
  const buttons = h('div', { class: 'buttons answer-buttons', id: 'inbox-buttons' });
  replace(
    detail,
    h('h2', { id: 'mail-title' }, headers.subject ?? m.subject ?? '(no subject)'),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'From'),
      h('dd', {}, headers.from ?? m.from_email ?? ''),
      h('dt', {}, 'To'),
      h('dd', {}, headers.to ?? m.mailbox),
      headers.date ? [h('dt', {}, 'Date'), h('dd', {}, headers.date)] : null,
    ),
    decisionBox,
    buttons,
    status,
    h('details', { class: 'source-box' }, h('summary', {}, 'Message source'), h('pre', { class: 'source' }, text)),
  );
  const decideNow = async () => {
    let context;
    try {
      context = await api.inboxContext(fieldsOf(m));
    } catch (e) {
      context = { mailbox: m.mailbox, now: new Date().toISOString() };
      status.className = 'message warning';
      status.textContent = `The CRM could not give the message's context (${e.message}); decided with the mailbox alone.`;
      status.hidden = false;
    }
    const answer = await decide(text, context);
    // A message applied on arrival is "already applied" now: what was done
    // then is shown beside it, from the decision recorded on arrival.
    const already = answer.type === 'success' && ['duplicate', 'stale'].includes(answer.decision.ignored);
    replace(
      decisionBox,
      h('h3', {}, 'What the CRM does with it now'),
      decisionCard(answer, 'inbox-decision-card'),
      already && m.decision?.kind ? [h('h3', {}, 'On arrival'), decisionCard({ type: 'success', decision: m.decision }, 'inbox-arrival-card')] : null,
    );
    decisionBox.setAttribute('aria-busy', 'false');
    drawButtons(answer);
  };
  const press = async (action, notify, label) => {
    for (const b of buttons.querySelectorAll('button')) b.disabled = true;
    try {
      const result = await api.answer(fieldsOf(m), { type: action, notify });
      const sent = result.outbox?.filter((o) => o.method === 'REPLY') ?? [];
      status.className = 'message success';
      status.textContent = `${label}: done.${sent.length ? ` A reply to ${sent.map((o) => o.recipient).join(', ')} is waiting in the outbox.` : ' No reply is sent.'} ${(result.decision?.effects ?? []).map(effectText).join(' ')}`;
      status.hidden = false;
      app.refreshBadge();
    } catch (e) {
      status.className = 'message error';
      status.textContent = `${label}: ${e.message}`;
      status.hidden = false;
    }
    await decideNow();
  };
  const drawButtons = (answer) => {
    const on = answer.type === 'success' ? answer.decision.buttons : {};
    const plain = answer.type === 'success' && answer.decision.display === 'plain_email';
    const recurring = answer.type === 'success' && answer.decision.recurring;
    const button = (id, label, enabled, action, notify, primary) =>
      h('button', { type: 'button', id, class: primary ? 'primary' : 'secondary', disabled: !enabled || plain, on: { click: () => press(action, notify, label) } }, label);
    replace(
      buttons,
      recurring
        ? button('inbox-accept-all', 'Accept all', on.accept_all, 'accept_all', true, true)
        : button('inbox-accept-notify', 'Accept and notify sender', on.accept, 'accept', true, true),
      button('inbox-accept-quiet', 'Accept, but do not notify sender', recurring ? on.accept_all : on.accept, recurring ? 'accept_all' : 'accept', false, false),
      button('inbox-tentative', 'Tentative', on.tentative, 'tentative', true, false),
      button('inbox-decline', 'Decline', on.decline, 'decline', true, false),
    );
  };
  await decideNow();
}
