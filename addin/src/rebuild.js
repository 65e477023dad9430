// When Outlook cannot hand over the whole message (no getAsFileAsync below
// Mailbox 1.14, e.g. Outlook on mobile), or the message has no calendar part
// at all (Outlook to Outlook), the pane rebuilds the engine's input from the
// item's properties: a minimal iCalendar object (RFC 5545) with the subject,
// organizer, attendees, time and place. It carries no recurrence, no time
// zone and no UID from the organizer: the pane says so to the user.
//
// The UID is derived from the organizer and the subject (without Outlook's
// "Canceled:"/"Updated:" prefixes), so a cancellation rebuilt later finds the
// appointment its request created.

const PRODID = '-//invitelink//Outlook add-in//EN';

/** `20261203T090000Z` */
function utc(d) {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Text value escaping (RFC 5545 3.3.11); line breaks are kept as `\n`, never as new lines. */
export function escapeText(s) {
  return String(s ?? '')
    .replace(/\r\n?/g, '\n')
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\n/g, '\\n')
    // eslint-disable-next-line no-control-regex -- control characters are what this removes
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

/** A parameter value, always quoted: no quotes or control characters inside. */
function paramText(s) {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  return `"${String(s ?? '').replace(/["\u0000-\u001f\u007f]/g, '').slice(0, 200)}"`;
}

/** An address for `mailto:`: nothing that could end the line or the value. */
function address(s) {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  return String(s ?? '').replace(/[\s"<>;:,\u0000-\u001f\u007f]/g, '').toLowerCase();
}

/** Folds a content line at 75 octets (RFC 5545 3.1), never inside a character. */
export function fold(line) {
  const encoder = new TextEncoder();
  if (encoder.encode(line).length <= 75) return line;
  const parts = [];
  let current = '';
  let size = 0;
  const limit = () => (parts.length === 0 ? 75 : 74);
  for (const ch of line) {
    const n = encoder.encode(ch).length;
    if (size + n > limit()) {
      parts.push(current);
      current = '';
      size = 0;
    }
    current += ch;
    size += n;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

const PREFIXES = /^\s*(canceled|cancelled|updated|accepted|declined|tentative|new time proposed|fw|fwd)\s*:\s*/i;

/** The subject without Outlook's meeting prefixes. */
export function baseSubject(subject) {
  let s = String(subject ?? '');
  for (let i = 0; i < 5 && PREFIXES.test(s); i += 1) s = s.replace(PREFIXES, '');
  return s.trim();
}

async function digest(text) {
  const bytes = new TextEncoder().encode(text);
  if (window.crypto?.subtle) {
    const hash = new Uint8Array(await window.crypto.subtle.digest('SHA-256', bytes));
    return Array.from(hash.slice(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  }
  // FNV-1a, where Web Crypto is missing (not a secure context).
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function attendeeLine(p, partstat, rsvp) {
  const cn = p.name ? `;CN=${paramText(p.name)}` : '';
  const rsvpParam = rsvp ? ';RSVP=TRUE' : '';
  return `ATTENDEE${cn};ROLE=REQ-PARTICIPANT;PARTSTAT=${partstat}${rsvpParam}:mailto:${address(p.email)}`;
}

/**
 * The minimal iCalendar object for the item `info` (from host.describe),
 * received by `user` ({email, name}). Throws when the item has no start.
 */
export async function calendarFromItem(info, user) {
  if (!info.start) throw new Error('the item has no start time, so no meeting can be built from it');
  const end = info.end && info.end >= info.start ? info.end : info.start;
  const me = { email: user.email, name: user.name ?? '' };
  const isReply = ['accepted', 'declined', 'tentative'].includes(info.kind);
  const organizer = isReply ? me : info.organizer ?? info.from ?? me;
  const method = info.kind === 'cancel' ? 'CANCEL' : isReply ? 'REPLY' : 'REQUEST';
  const uid = `outlook-${await digest(`${address(organizer.email)}\n${baseSubject(info.subject).toLowerCase()}`)}@invitelink`;
  const stamp = info.created ?? new Date();
  const lines = [
    'BEGIN:VCALENDAR',
    `PRODID:${PRODID}`,
    'VERSION:2.0',
    `METHOD:${method}`,
    'BEGIN:VEVENT',
    `UID:${uid}`,
    `DTSTAMP:${utc(stamp)}`,
    'SEQUENCE:0',
    `DTSTART:${utc(info.start)}`,
    `DTEND:${utc(end)}`,
    `SUMMARY:${escapeText(baseSubject(info.subject) || info.subject)}`,
  ];
  if (info.location) lines.push(`LOCATION:${escapeText(info.location)}`);
  if (method === 'CANCEL') lines.push('STATUS:CANCELLED');
  const cn = organizer.name ? `;CN=${paramText(organizer.name)}` : '';
  lines.push(`ORGANIZER${cn}:mailto:${address(organizer.email)}`);
  if (isReply) {
    const partstat = { accepted: 'ACCEPTED', declined: 'DECLINED', tentative: 'TENTATIVE' }[info.kind];
    if (info.from) lines.push(attendeeLine(info.from, partstat, false));
  } else {
    const seen = new Set([address(organizer.email)]);
    const invited = [me, ...info.to, ...info.cc, ...info.required, ...info.optional];
    for (const p of invited) {
      const a = address(p.email);
      if (!a || seen.has(a)) continue;
      seen.add(a);
      const isUser = a === address(me.email);
      lines.push(attendeeLine(p, 'NEEDS-ACTION', isUser));
    }
  }
  lines.push('END:VEVENT', 'END:VCALENDAR');
  return `${lines.map(fold).join('\r\n')}\r\n`;
}

/** A header value on one line. */
function headerText(s) {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  return String(s ?? '').replace(/[\r\n\u0000-\u001f\u007f]+/g, ' ').trim();
}

/** RFC 2047 encoding for a non-ASCII header value. */
function encodedWord(s) {
  const text = headerText(s);
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `=?UTF-8?B?${btoa(bin)}?=`;
}

function mailbox(p) {
  const a = address(p.email);
  return p.name ? `${encodedWord(`"${p.name.replace(/["\\]/g, '')}"`)} <${a}>` : `<${a}>`;
}

/**
 * A minimal e-mail (RFC 5322) for archiving an item whose whole message the
 * host cannot give: the headers the item exposes and its text body.
 */
export function emailFromItem(info, body) {
  const date = info.created ?? new Date();
  const headers = [];
  if (info.from) headers.push(`From: ${mailbox(info.from)}`);
  if (info.to.length) headers.push(`To: ${info.to.map(mailbox).join(', ')}`);
  if (info.cc.length) headers.push(`Cc: ${info.cc.map(mailbox).join(', ')}`);
  headers.push(`Subject: ${encodedWord(info.subject)}`);
  headers.push(`Date: ${date.toUTCString().replace('GMT', '+0000')}`);
  if (info.messageId) headers.push(`Message-ID: ${headerText(info.messageId)}`);
  headers.push('MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
  const text = String(body ?? '').replace(/\r?\n/g, '\r\n');
  return `${headers.join('\r\n')}\r\n\r\n${text}\r\n`;
}
