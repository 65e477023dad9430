// The CRM backend's HTTP API (docs/api.md), on the origin that serves the pane.
// The bearer token lives in sessionStorage (or, where that is unavailable, in
// memory) for this Outlook session only: never in roaming settings, which are
// neither private nor meant for secrets.

const TOKEN_KEY = 'invitelink.token';
let memoryToken = null;
let onUnauthorized = () => {};

/** Why a call failed: `offline` (no answer), `unauthorized` (401), or `http` (any other error status). */
export class ApiError extends Error {
  constructor(kind, status, code, message) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.code = code;
  }
}

/** The session's token store. */
export const session = {
  get token() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY) ?? memoryToken;
    } catch {
      return memoryToken;
    }
  },
  set(token) {
    memoryToken = token;
    try {
      window.sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // Storage refused (private mode, host policy): memory only.
    }
  },
  clear() {
    memoryToken = null;
    try {
      window.sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // Nothing stored.
    }
  },
};

/** Called (once per failing call) when the backend refuses the token. */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/**
 * One API call. `json` is sent as JSON; `body` as is with `contentType`.
 * Resolves to the parsed answer (null for 204); rejects with an ApiError.
 */
export async function call(method, path, { json, body, contentType, query } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
  }
  const headers = { accept: 'application/json' };
  const token = session.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let payload;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(json);
  } else if (body !== undefined) {
    headers['content-type'] = contentType ?? 'application/octet-stream';
    payload = body;
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: payload, cache: 'no-store', credentials: 'omit' });
  } catch (e) {
    throw new ApiError('offline', 0, 'offline', `the CRM cannot be reached (${e?.message ?? e})`);
  }
  if (response.status === 204) return null;
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (response.ok) return answer;
  const code = answer?.error?.code ?? `http_${response.status}`;
  const message = answer?.error?.message ?? `the CRM answered ${response.status} ${response.statusText}`;
  if (response.status === 401) {
    if (token) {
      session.clear();
      onUnauthorized(message);
    }
    throw new ApiError('unauthorized', 401, code, message);
  }
  throw new ApiError('http', response.status, code, message);
}

/** Signs in; keeps the token; resolves to the associate. */
export async function signIn(email, password) {
  const answer = await call('POST', '/api/signin', { json: { email, password } });
  session.set(answer.token);
  return answer.associate;
}

/** Signs out (forgets the token here and on the backend). */
export async function signOut() {
  try {
    await call('POST', '/api/signout');
  } finally {
    session.clear();
  }
}

export const me = () => call('GET', '/api/me');
export const settings = () => call('GET', '/api/settings');
export const saveSettings = (change) => call('PUT', '/api/settings', { json: change });
export const preferences = () => call('GET', '/api/preferences');
export const persons = (q) => call('GET', '/api/persons', { query: { q } });
export const registerPerson = (person) => call('POST', '/api/persons', { json: person });
export const associates = (q) => call('GET', '/api/associates', { query: { q } });
export const companies = (q) => call('GET', '/api/companies', { query: { q } });
export const projects = (q) => call('GET', '/api/projects', { query: { q } });
export const sales = (q) => call('GET', '/api/sales', { query: { q } });
export const invitations = (responses) => call('GET', '/api/invitations', { query: { responses: responses || undefined } });
export const invitationAction = (id, action) => call('POST', `/api/invitations/${encodeURIComponent(id)}/${action}`);
export const reschedule = (followupId, change) => call('POST', `/api/followups/${encodeURIComponent(followupId)}/reschedule`, { json: change });
export const reassign = (followupId, associateId) => call('POST', `/api/followups/${encodeURIComponent(followupId)}/reassign`, { json: { associate_id: associateId } });
export const suggestions = (addresses) => call('GET', '/api/archive/suggestions', { query: { addresses: addresses.join(',') } });
export const archive = (message, links) => call('POST', '/api/archive', { json: { ...messageFields(message), links } });
export const answer = (message, action) => call('POST', '/api/inbox/actions', { json: { ...messageFields(message), action } });

/** Delivers the message to the user's CRM inbox (the arrival rules; the same message twice changes nothing). */
export const deliver = (message) =>
  call('POST', '/api/inbox', {
    body: message.bytes,
    contentType: message.source === 'file' ? 'message/rfc822' : 'text/calendar; charset=utf-8',
  });

/**
 * The engine's context for this message as the backend builds it (contacts,
 * associates, the stored appointment). Resolves to null when the backend has
 * no such endpoint.
 */
export async function contextFor(message) {
  try {
    return await call('POST', '/api/inbox/context', { json: messageFields(message) });
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null;
    throw e;
  }
}

function messageFields(message) {
  return message.source === 'file' ? { message_base64: message.base64 } : { message: message.text };
}
