// Try it without Outlook: drop, choose or paste an .eml or .ics and see what
// the CRM would do with it in your inbox, decided here in the browser by the
// wasm engine with the context the CRM builds. Nothing is applied. Without
// signing in, the page runs the engine alone with a sample CRM (SAMPLE_CRM):
// nothing is sent to the server.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { decide } from '../engine.js';
import { decisionCard } from '../decision.js';

function stamp(days, hour) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
}

function event(me, { method = 'REQUEST', uid, summary, organizer, extra = '', partstat = 'NEEDS-ACTION', attendee = me }) {
  return [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//invitelink//samples//EN', `METHOD:${method}`, 'BEGIN:VEVENT', `UID:${uid}`, 'SEQUENCE:0',
    `DTSTAMP:${stamp(0, 8)}`, `DTSTART:${stamp(14, 9)}`, `DTEND:${stamp(14, 10)}`, `SUMMARY:${summary}`, `ORGANIZER;CN=${organizer.name}:mailto:${organizer.email}`,
    `ATTENDEE;PARTSTAT=${partstat};RSVP=TRUE:mailto:${attendee}`, ...(extra ? [extra] : []), 'END:VEVENT', 'END:VCALENDAR', '',
  ].join('\r\n');
}

function mail(from, to, subject, method, ics) {
  return [`From: ${from.name} <${from.email}>`, `To: ${to}`, `Subject: ${subject}`, `Message-ID: <${Math.random().toString(36).slice(2)}@samples.example>`, 'MIME-Version: 1.0', `Content-Type: text/calendar; method=${method}; charset=utf-8`, '', ics].join('\r\n');
}

export function samples(me) {
  const bob = { name: 'Bob Berg', email: 'bob@acme.example' };
  const pat = { name: 'Pat Stranger', email: 'pat@stranger.example' };
  return [
    { name: 'Invitation from a contact', text: mail(bob, me, 'Contract renewal', 'REQUEST', event(me, { uid: 'sample-contract@acme.example', summary: 'Contract renewal', organizer: bob })) },
    { name: 'Weekly series', text: mail(bob, me, 'Weekly status', 'REQUEST', event(me, { uid: 'sample-weekly@acme.example', summary: 'Weekly status', organizer: bob, extra: 'RRULE:FREQ=WEEKLY;COUNT=6' })) },
    { name: 'Unknown sender', text: mail(pat, me, 'Coffee?', 'REQUEST', event(me, { uid: 'sample-coffee@stranger.example', summary: 'Coffee?', organizer: pat })) },
    { name: 'Cancellation (.ics)', text: event(me, { method: 'CANCEL', uid: 'sample-contract@acme.example', summary: 'Contract renewal', organizer: bob, extra: 'STATUS:CANCELLED' }) },
  ];
}

/**
 * The CRM the page plays when nobody is signed in: the reader's mailbox, and
 * Bob Berg of Acme as the one registered contact.
 */
const SAMPLE_CRM = {
  mailbox: 'you@ourcompany.example',
  contacts: [{ email: 'bob@acme.example', person_id: 'sample-bob', name: 'Bob Berg', company: 'Acme' }],
};

export async function render(main, app) {
  const signedIn = Boolean(app.user);
  const mailbox = signedIn ? app.user.email : SAMPLE_CRM.mailbox;
  const text = h('textarea', { id: 'try-text', rows: 12, spellcheck: 'false', 'aria-describedby': 'try-hint' });
  const file = h('input', { type: 'file', id: 'try-file', accept: '.eml,.ics,message/rfc822,text/calendar' });
  const out = h('section', { id: 'try-result', 'aria-live': 'polite', 'aria-label': 'What the CRM would do' });
  const run = h('button', { type: 'button', class: 'primary', id: 'try-decide' }, 'What would the CRM do?');
  const drop = h('div', { class: 'drop', id: 'try-drop' }, h('p', {}, 'Drop an .eml or .ics file here, or '), h('label', { for: 'try-file', class: 'button secondary' }, 'choose a file'), file);
  const publicBar = signedIn ? [] : [h('p', { class: 'public-bar' }, h('span', { class: 'brand' }, 'invitelink ', h('span', { class: 'brand-sub' }, 'CRM')), h('a', { href: '#/', id: 'try-signin' }, 'Sign in'))];
  main.append(
    ...publicBar,
    h('h1', {}, 'Try it without Outlook'),
    h(
      'p',
      { class: 'hint', id: 'try-hint' },
      signedIn
        ? `Paste or drop a meeting e-mail or calendar file; the engine decides as if it arrived in your CRM inbox (${mailbox}). Nothing is changed.`
        : `Paste or drop a meeting e-mail or calendar file; the engine decides, here in your browser, as if it arrived in the CRM inbox of ${mailbox} in a CRM where Bob Berg (bob@acme.example) is a registered contact. Nothing is sent anywhere.`,
    ),
    h('div', { class: 'buttons samples', role: 'group', 'aria-label': 'Sample messages' }, h('span', {}, 'Samples:'), samples(mailbox).map((s) => h('button', { type: 'button', class: 'secondary', on: { click: () => { text.value = s.text; go(); } } }, s.name))),
    drop,
    h('label', { for: 'try-text' }, 'Message (.eml or .ics text)'),
    text,
    h('div', { class: 'buttons' }, run),
    out,
  );
  async function go() {
    if (!text.value.trim()) {
      replace(out, h('p', { class: 'message warning', role: 'alert' }, 'Paste a message or choose a sample first.'));
      return;
    }
    out.setAttribute('aria-busy', 'true');
    let context = { ...SAMPLE_CRM, now: new Date().toISOString() };
    if (signedIn) {
      try {
        context = await api.inboxContext({ message: text.value });
      } catch {
        context = { mailbox, now: new Date().toISOString() };
      }
    }
    const answer = await decide(text.value, context);
    replace(out, h('h2', {}, 'What the CRM would do'), decisionCard(answer, 'try-decision'));
    out.setAttribute('aria-busy', 'false');
  }
  const load = async (f) => {
    text.value = await f.text();
    go();
  };
  run.addEventListener('click', go);
  file.addEventListener('change', () => file.files[0] && load(file.files[0]));
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer.files[0];
    if (f) load(f);
    else text.value = e.dataTransfer.getData('text');
  });
}
