// The Outlook host, through Office.js (loaded from Microsoft's CDN by the
// page). The pane uses only this subset: Office.onReady;
// context.requirements.isSetSupported; context.mailbox.item (itemType,
// itemClass, subject, from, sender, organizer, to, cc, requiredAttendees,
// optionalAttendees, start, end, location, dateTimeCreated, body.getAsync,
// internetMessageId, getAsFileAsync); context.mailbox.userProfile;
// context.mailbox.addHandlerAsync(ItemChanged) for a pinned pane;
// context.roamingSettings (get, set, saveAsync); and
// context.ui.openBrowserWindow (OpenBrowserWindowApi 1.1) for links to the
// web client.

const SUCCEEDED = 'succeeded';

/** Resolves when Office.js is ready; rejects when the page is not inside Outlook (or Office.js did not load). */
export function officeReady(timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const office = window.Office;
    if (!office || typeof office.onReady !== 'function') {
      reject(new Error('Office.js did not load: open this pane from Outlook (and check that appsforoffice.microsoft.com is reachable)'));
      return;
    }
    const timer = setTimeout(() => reject(new Error('Outlook did not answer: close the pane and open it again')), timeoutMs);
    office.onReady((info) => {
      clearTimeout(timer);
      resolve(info ?? {});
    });
  });
}

function mailbox() {
  return window.Office?.context?.mailbox ?? null;
}

/** The open item, or null (a pinned pane with nothing selected). */
export function currentItem() {
  return mailbox()?.item ?? null;
}

/** The Outlook user's own address, as a fallback when the CRM cannot be reached. */
export function userAddress() {
  return mailbox()?.userProfile?.emailAddress ?? null;
}

/** Calls `handler` when a pinned pane's selection changes. */
export function onItemChanged(handler) {
  const box = mailbox();
  const type = window.Office?.EventType?.ItemChanged;
  if (box && type && typeof box.addHandlerAsync === 'function') {
    box.addHandlerAsync(type, () => handler());
  }
}

/** Whether the host supports the requirement set `name` at `version`. */
function supportsSet(name, version) {
  try {
    return Boolean(window.Office?.context?.requirements?.isSetSupported?.(name, version));
  } catch {
    return false;
  }
}

/** Whether the host supports the Mailbox requirement set `version`. */
export function supports(version) {
  return supportsSet('Mailbox', version);
}

/**
 * Opens `url` in the user's browser: through Outlook
 * (`Office.context.ui.openBrowserWindow`, OpenBrowserWindowApi 1.1) where the
 * host has it, since a pane's own window.open may stay inside Outlook or be
 * blocked. Returns whether the host took it; when not, the caller lets the
 * link open a new window itself.
 */
export function openInBrowser(url) {
  const ui = window.Office?.context?.ui;
  if (!supportsSet('OpenBrowserWindowApi', '1.1') || typeof ui?.openBrowserWindow !== 'function') return false;
  try {
    ui.openBrowserWindow(String(url));
    return true;
  } catch {
    return false;
  }
}

/** A read-mode value as is; a compose-mode one (with getAsync) read asynchronously. */
function read(value) {
  if (value && typeof value.getAsync === 'function') {
    return new Promise((resolve) => {
      try {
        value.getAsync((r) => resolve(r?.status === SUCCEEDED ? r.value : null));
      } catch {
        resolve(null);
      }
    });
  }
  return Promise.resolve(value ?? null);
}

function person(p) {
  if (!p || typeof p !== 'object') return null;
  const email = String(p.emailAddress ?? '').trim();
  const name = String(p.displayName ?? '').trim();
  return email || name ? { email, name } : null;
}

function people(list) {
  return Array.isArray(list) ? list.map(person).filter(Boolean).slice(0, 100) : [];
}

function date(value) {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  if (typeof value === 'string' || typeof value === 'number') {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

/**
 * What the item is: `request`, `cancel`, `accepted`, `declined`,
 * `tentative` (meeting messages, by item class prefix), `appointment`
 * (a meeting the user attends), `organizer` (one the user organizes), or
 * null (a plain e-mail).
 */
export function meetingKind(itemType, itemClass, compose) {
  const c = String(itemClass ?? '').toLowerCase();
  if (c.startsWith('ipm.schedule.meeting.request')) return 'request';
  if (c.startsWith('ipm.schedule.meeting.canceled')) return 'cancel';
  if (c.startsWith('ipm.schedule.meeting.resp.pos')) return 'accepted';
  if (c.startsWith('ipm.schedule.meeting.resp.neg')) return 'declined';
  if (c.startsWith('ipm.schedule.meeting.resp.tent')) return 'tentative';
  if (itemType === 'appointment') return compose ? 'organizer' : 'appointment';
  if (c.startsWith('ipm.schedule.meeting')) return 'request';
  return null;
}

/** The item's properties, read once. */
export async function describe(item) {
  const compose = typeof item.subject?.getAsync === 'function';
  const [subject, location, start, end, organizer, required, optional] = await Promise.all([
    read(item.subject),
    read(item.location),
    read(item.start),
    read(item.end),
    read(item.organizer),
    read(item.requiredAttendees),
    read(item.optionalAttendees),
  ]);
  const itemType = String(item.itemType ?? '');
  return {
    itemType,
    itemClass: String(item.itemClass ?? ''),
    kind: meetingKind(itemType, item.itemClass, compose),
    compose,
    subject: typeof subject === 'string' ? subject : '',
    location: typeof location === 'string' ? location : '',
    start: date(start),
    end: date(end),
    from: person(item.from),
    sender: person(item.sender),
    organizer: person(organizer),
    to: people(item.to),
    cc: people(item.cc),
    required: people(required),
    optional: people(optional),
    created: date(item.dateTimeCreated),
    messageId: typeof item.internetMessageId === 'string' ? item.internetMessageId : '',
  };
}

/** Every address the item names (for CRM look-ups), lower-case, without repeats. */
export function addressesOf(info) {
  const all = [info.from, info.sender, info.organizer, ...info.to, ...info.cc, ...info.required, ...info.optional];
  const out = [];
  for (const p of all) {
    const a = p?.email?.toLowerCase();
    if (a && a.includes('@') && !out.includes(a)) out.push(a);
  }
  return out.slice(0, 50);
}

/** Whether the host can hand over the whole message (Mailbox 1.14's getAsFileAsync). */
export function canGetFile(item) {
  return supports('1.14') && typeof item.getAsFileAsync === 'function';
}

/** The whole message as base64 (RFC 5322), from getAsFileAsync. */
export function getFile(item) {
  return new Promise((resolve, reject) => {
    try {
      item.getAsFileAsync((r) => {
        if (r?.status === SUCCEEDED && typeof r.value === 'string') resolve(r.value);
        else reject(new Error(r?.error?.message ?? 'Outlook did not give the message'));
      });
    } catch (e) {
      reject(e);
    }
  });
}

/** Bytes of a base64 string. */
export function base64Bytes(b64) {
  const bin = atob(String(b64).replace(/\s+/g, ''));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** The mailbox's roaming settings (per user and add-in, 32 KB, not private). */
export const roaming = {
  get(name) {
    try {
      return window.Office?.context?.roamingSettings?.get(name);
    } catch {
      return undefined;
    }
  },
  /** Sets and saves; resolves to whether the host saved it. */
  save(name, value) {
    const settings = window.Office?.context?.roamingSettings;
    if (!settings) return Promise.resolve(false);
    return new Promise((resolve) => {
      try {
        settings.set(name, value);
        settings.saveAsync((r) => resolve(r?.status === SUCCEEDED));
      } catch {
        resolve(false);
      }
    });
  },
};

/** The item's body as plain text (Mailbox 1.1 body.getAsync), or null. */
export function bodyText(item) {
  const body = item?.body;
  if (!body || typeof body.getAsync !== 'function') return Promise.resolve(null);
  return new Promise((resolve) => {
    try {
      body.getAsync(window.Office?.CoercionType?.Text ?? 'text', (r) => resolve(r?.status === SUCCEEDED ? String(r.value ?? '') : null));
    } catch {
      resolve(null);
    }
  });
}
