// A decision of the engine shown to a person: what kind of message it is,
// what the CRM does (or would do) and why. Everything is text.

import { h, sentence } from './dom.js';

const KIND = {
  invitation: 'Meeting invitation',
  update: 'Meeting update',
  reply: 'Reply to an invitation',
  cancel: 'Cancellation',
  add: 'Added occurrences',
  refresh: 'Request for the latest version',
  counter: 'Proposal of a new time',
  declinecounter: 'Refused proposal',
  publish: 'Published event',
};

const IGNORED = {
  unknown_sender: 'the sender is not a registered contact',
  recurring_needs_accept_all: 'a recurring invitation is added on Accept all',
  disabled_by_preference: 'the system preferences turn this off',
  import_off: 'your setting turns tentative import off',
  synchronizer_active: 'a calendar synchronizer is active',
  stale: 'an older version than the one in the diary',
  duplicate: 'already applied',
  not_addressed_to_user: 'not addressed to you',
  sender_mismatch: 'the sender may not speak for this meeting',
  unknown_attendee: 'the attendee was not invited',
  no_existing_appointment: 'no appointment in the diary to apply it to',
  unauthenticated_sender: 'the e-mail could not be authenticated',
};

export function effectText(e) {
  switch (e.type) {
    case 'create_appointment':
      return `Add it to the diary as ${e.status}${e.occurrences?.length ? ` (${e.occurrences.length} occurrences)` : ''}.`;
    case 'update_appointment':
      return 'Update the appointment in the diary.';
    case 'cancel_appointment':
      return 'Cancel the appointment in the diary.';
    case 'cancel_occurrence':
      return `Cancel the occurrence of ${e.recurrence_id}.`;
    case 'set_attendee_status':
      return `Record ${e.attendee}'s answer: ${String(e.partstat).toLowerCase()}.`;
    case 'send_reply':
      return `Send a reply (${String(e.partstat).toLowerCase()}) to the organizer.`;
    case 'notify':
      return `Tell the owner: ${String(e.what).replace(/_/g, ' ')}.`;
    case 'suggest_contact':
      return `Register ${e.email} as a contact to have such invitations added.`;
    case 'counter_proposal':
      return `A new time is proposed: ${e.start} to ${e.end}.`;
    default:
      return e.type;
  }
}

/** The card of a decision (`answer` is the engine's `{type, decision | errors}`). */
export function decisionCard(answer, id = 'decision') {
  if (answer.type !== 'success') {
    return h(
      'div',
      { class: 'message error', id, role: 'alert' },
      h('p', {}, 'The engine cannot read this message:'),
      h('ul', {}, (answer.errors ?? []).map((e) => h('li', {}, `${sentence(e.message)}${e.line ? ` (line ${e.line})` : ''} [${e.code}]`))),
    );
  }
  const d = answer.decision;
  const plain = d.display === 'plain_email';
  return h(
    'div',
    { class: 'decision card', id, 'data-kind': d.kind, 'data-display': d.display },
    h('p', { class: 'decision-kind' }, plain ? 'Plain e-mail' : KIND[d.kind] ?? d.kind, d.recurring ? ' · recurring' : ''),
    plain ? h('p', { class: 'hint warning' }, 'Invitations are shown as plain e-mails: the system preference “Manage incoming invitations” is set to disable all.') : null,
    d.ignored ? h('p', { class: 'hint' }, `Nothing changes automatically: ${IGNORED[d.ignored] ?? d.ignored}.`) : null,
    d.effects?.length ? h('div', {}, h('h3', {}, 'What the CRM does'), h('ul', { class: 'effects' }, d.effects.map((e) => h('li', {}, effectText(e))))) : null,
    d.reasons?.length ? h('div', {}, h('h3', {}, 'Why'), h('ul', { class: 'reasons' }, d.reasons.map((r) => h('li', {}, sentence(r))))) : null,
  );
}
