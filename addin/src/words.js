// Plain words for the engine's decision and the CRM's records. No rule lives
// here: only how a decision already made is said to a person.

const dateTime = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateOnly = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/** An engine or API instant (`2026-12-03T09:00:00Z`) or date (`2026-12-03`) as a Date, or null. */
export function parseInstant(s) {
  if (s instanceof Date) return s;
  if (typeof s !== 'string' || !s) return null;
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "Thu, 3 Dec 2026, 10:00" (local time), or the all-day date. */
export function when(s, allDay = false) {
  const d = parseInstant(s);
  if (!d) return '';
  return allDay || (typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s)) ? dateOnly.format(d) : dateTime.format(d);
}

/** "Thu, 3 Dec 2026, 10:00 – 11:00" */
export function span(start, end, allDay = false) {
  const a = parseInstant(start);
  const b = parseInstant(end);
  if (!a) return '';
  if (allDay) return when(start, true);
  if (!b) return when(a);
  const sameDay = a.toDateString() === b.toDateString();
  return `${when(a)} – ${sameDay ? timeOnly.format(b) : when(b)}`;
}

/** Headline for the kind of message. */
export const KIND = {
  invitation: 'Meeting invitation',
  update: 'Meeting update',
  reply: 'Answer to an invitation',
  cancel: 'Meeting cancelled',
  add: 'Occurrence added to a series',
  refresh: 'Request for the latest version',
  counter: 'New time proposed',
  declinecounter: 'Proposed time declined',
  publish: 'Published event',
};

const PARTSTAT = {
  ACCEPTED: 'accepted',
  DECLINED: 'declined',
  TENTATIVE: 'tentative',
  DELEGATED: 'delegated',
  'NEEDS-ACTION': 'not answered yet',
};

const NOTICE = {
  invitation_declined: 'You get a notice: your invitation was declined',
  appointment_moved: 'You get a notice: the organizer moved the meeting',
  appointment_cancelled: 'You get a notice: the organizer cancelled the meeting',
  refresh_requested: 'You get a notice: an attendee asks for the latest version',
  counter_declined: 'You get a notice: the organizer declined your proposal',
};

function who(party, fallback) {
  if (!party) return fallback ?? 'someone';
  const name = party.person_name ?? party.associate_name ?? party.name;
  return name ? `${name} (${party.email})` : party.email ?? fallback ?? 'someone';
}

function quoted(s) {
  return s ? `“${s}”` : 'the meeting';
}

/** One effect in words. */
export function effectText(e) {
  switch (e.type) {
    case 'create_appointment': {
      const n = e.occurrences?.length;
      const series = n ? `, a series of ${n}${e.occurrences_limited ? '+' : ''} occurrences` : '';
      const link = e.contact ? `, linked to ${e.contact.person_name ?? e.contact.email}${e.contact.company ? ` at ${e.contact.company}` : ''}` : '';
      return `${quoted(e.summary)} is added to your CRM diary as ${e.status}${series}${link}`;
    }
    case 'update_appointment':
      return e.moved
        ? `${quoted(e.summary)} is updated in your CRM diary; it moved, so it is ${e.status} again`
        : `${quoted(e.summary)} is updated in your CRM diary (${e.status})`;
    case 'cancel_appointment':
      return 'The appointment is cancelled in your CRM diary';
    case 'cancel_occurrence':
      return `The occurrence of ${when(e.recurrence_id)} is cancelled in your CRM diary`;
    case 'set_attendee_status':
      return `${who(e.party, e.attendee)} has ${PARTSTAT[e.partstat] ?? e.partstat.toLowerCase()}${e.recurrence_id ? ` (occurrence of ${when(e.recurrence_id)})` : ''}`;
    case 'send_reply':
      return `“${(PARTSTAT[e.partstat] ?? e.partstat).replace(/^./, (c) => c.toUpperCase())}” is sent to the organizer (${e.to})`;
    case 'notify':
      return NOTICE[e.what] ?? `You get a notice (${e.what})`;
    case 'suggest_contact':
      return `${e.name ? `${e.name} (${e.email})` : e.email} is not a registered contact: register them to link their meetings`;
    case 'counter_proposal':
      return `${e.attendee} proposes ${span(e.start, e.end) || 'another time'}${e.location ? ` at ${e.location}` : ''}; nothing changes until you reschedule`;
    default:
      return `The CRM will ${String(e.type).replace(/_/g, ' ')}`;
  }
}

/** What a message box says about an applied result, in one line. */
export function appliedText(decision, duplicate) {
  if (duplicate) return 'The CRM already has this message: nothing changed.';
  const done = (decision?.effects ?? []).filter((e) => e.type !== 'suggest_contact');
  if (!done.length) return 'Nothing changed in the CRM.';
  return 'The CRM has been updated.';
}

/** System preference values in words. */
export const INCOMING = {
  enable_all: 'Enable all: tentative appointments, updates, cancellations and replies',
  disable_tentative: 'No tentative appointments: created when you accept',
  disable_automation: 'Nothing automatic: only your own answers change the diary',
  disable_all: 'Disabled: invitations are shown as plain e-mails',
};

/** Invitation statuses (SPEC 4) in words. */
export const INVITATION_STATUS = {
  not_seen: 'New',
  seen: 'Seen (counts as tentative)',
  moved: 'Moved',
  moved_seen: 'Moved, seen',
  cancelled: 'Cancelled',
  assigned: 'Assigned to you',
  accepted: 'Accepted',
  declined: 'Declined',
};

/** Kinds of archive links in words. */
export const LINK_KIND = { person: 'Contact', company: 'Company', project: 'Project', sale: 'Sale' };
