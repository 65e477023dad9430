// How the diary tells states apart: one class, one short label and one
// sentence per state, used by the calendar, its legend and the lists. A
// state is never told by colour alone: every entry also carries its label.

export const STATES = {
  accepted: { label: 'Accepted', explain: 'Your appointment, or an invitation you accepted.' },
  tentative: { label: 'Tentative', explain: 'Added from an e-mail invitation; not answered yet.' },
  'pending-new': { label: 'Invitation, not seen', explain: 'A colleague invited you; you have not opened it.' },
  'pending-seen': { label: 'Invitation, seen', explain: 'Opened, not answered (counts as a tentative answer).' },
  moved: { label: 'Moved', explain: 'The time changed after you saw or answered it.' },
  declined: { label: 'Declined', explain: 'You declined it; kept so you can see it.' },
  cancelled: { label: 'Cancelled', explain: 'The organizer deleted it.' },
  conflict: { label: 'Conflict', explain: 'A room or resource is booked twice at this time (marked “!”).' },
};

/** The state of a calendar entry (GET /api/calendar). */
export function stateOf(entry) {
  const s = entry.status;
  if (s === 'cancelled') return 'cancelled';
  if (s === 'declined') return 'declined';
  if (entry.kind === 'invitation' || entry.kind === 'assignment') {
    if (s === 'not_seen' || s === 'assigned') return 'pending-new';
    if (s === 'seen') return 'pending-seen';
    if (s === 'moved' || s === 'moved_seen') return 'moved';
    return 'accepted';
  }
  if (entry.moved) return 'moved';
  if (s === 'tentative') return 'tentative';
  return 'accepted';
}

/**
 * Whether the owner may change a follow-up (its time, place and people):
 * one the CRM made, not cancelled. Invitations and appointments taken from
 * e-mail belong to their organizer.
 */
export function changeable({ origin, status }) {
  return origin === 'crm' && status !== 'cancelled';
}

/** A person's word for an invitation or participant status. */
export function statusWord(status) {
  return (
    {
      not_seen: 'Not seen',
      seen: 'Seen',
      moved: 'Moved',
      moved_seen: 'Moved, seen',
      accepted: 'Accepted',
      declined: 'Declined',
      cancelled: 'Cancelled',
      assigned: 'Assigned',
      needs_action: 'No answer yet',
      tentative: 'Tentative',
      booked: 'Booked',
    }[status] ?? status
  );
}

// Dates and times in the browser's language and its order of day, month
// and hour ("Mon 7 Dec, 09:00" in en-GB, "Mon, Dec 7, 9:00 AM" in en-US).
const dateTime = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayOnly = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });

/** "Mon 7 Dec" in the browser's language. */
export function day(date) {
  return dayOnly.format(new Date(date));
}

/** "09:00" in the browser's language. */
export function time(date) {
  return timeOnly.format(new Date(date));
}

/** "Mon 7 Dec, 09:00" in the browser's language and zone. */
export function moment(date) {
  return dateTime.format(new Date(date));
}

/** "Mon 7 Dec, 09:00–10:00" in the browser's language and zone. */
export function when(start, end) {
  const s = new Date(start);
  const e = new Date(end);
  const sameDay = s.toDateString() === e.toDateString();
  return `${dateTime.format(s)}–${sameDay ? timeOnly.format(e) : dateTime.format(e)}`;
}

/** A Date as the value of an <input type="datetime-local"> (local time). */
export function localInput(date) {
  const d = new Date(date);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
