// The CRM backend's HTTP API (docs/api.md), on the origin that serves the
// client. The bearer token lives in sessionStorage: it survives a reload of
// the tab and is gone when the tab is closed.

const TOKEN_KEY = 'invitelink.web.token';
let onUnauthorized = () => {};

/** Why a call failed: `offline`, `unauthorized` (401) or `http`; `code` is the API's error code. */
export class ApiError extends Error {
  constructor(kind, status, code, message) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.code = code;
  }
}

export const session = {
  get token() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token) {
    try {
      window.sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // Storage refused: the session ends with the page.
    }
  },
  clear() {
    try {
      window.sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // Nothing stored.
    }
  },
};

/** Called when the backend refuses the token. */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/** One API call; resolves to the parsed answer (null for 204), rejects with an ApiError. */
export async function call(method, path, { json, body, contentType, query } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
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
    response = await fetch(url, { method, headers, body: payload, cache: 'no-store' });
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
  const message = answer?.error?.message ?? `the CRM answered ${response.status}`;
  if (response.status === 401 && token) {
    session.clear();
    onUnauthorized(message);
  }
  throw new ApiError(response.status === 401 ? 'unauthorized' : 'http', response.status, code, message);
}

export async function signIn(email, password) {
  const answer = await call('POST', '/api/signin', { json: { email, password } });
  session.set(answer.token);
  return answer.associate;
}

export async function signOut() {
  try {
    await call('POST', '/api/signout');
  } finally {
    session.clear();
  }
}

/** Ends every session of the signed-in user, this one too. */
export async function signOutEverywhere() {
  try {
    await call('POST', '/api/signout/all');
  } finally {
    session.clear();
  }
}

const q = encodeURIComponent;
export const changePassword = (currentPassword, newPassword) => call('PUT', '/api/me/password', { json: { current_password: currentPassword, new_password: newPassword } });
export const me = () => call('GET', '/api/me');
export const settings = () => call('GET', '/api/settings');
export const saveSettings = (change) => call('PUT', '/api/settings', { json: change });
export const preferences = () => call('GET', '/api/preferences');
export const associates = (search) => call('GET', '/api/associates', { query: { q: search } });
export const resources = (search) => call('GET', '/api/resources', { query: { q: search } });
export const persons = (search) => call('GET', '/api/persons', { query: { q: search } });
export const companies = (search) => call('GET', '/api/companies', { query: { q: search } });
export const person = (id) => call('GET', `/api/persons/${q(id)}`);
export const activities = (id) => call('GET', `/api/persons/${q(id)}/activities`);
export const calendar = (from, until) => call('GET', '/api/calendar', { query: { from, until } });
export const followup = (id) => call('GET', `/api/followups/${q(id)}`);
export const createFollowup = (body) => call('POST', '/api/followups', { json: body });
export const reschedule = (id, body) => call('POST', `/api/followups/${q(id)}/reschedule`, { json: body });
export const assign = (id, associateId) => call('POST', `/api/followups/${q(id)}/assign`, { json: { associate_id: associateId } });
export const reassign = (id, associateId) => call('POST', `/api/followups/${q(id)}/reassign`, { json: { associate_id: associateId } });
export const deleteFollowup = (id) => call('DELETE', `/api/followups/${q(id)}`);
/** `lists` is `{associates, resources, persons, emails}` (ids, and addresses for `emails`). */
export const addParticipants = (id, lists) => call('POST', `/api/followups/${q(id)}/participants`, { json: lists });
export const removeParticipant = (id, participantId) => call('DELETE', `/api/followups/${q(id)}/participants/${q(participantId)}`);
export const invitations = (responses) => call('GET', '/api/invitations', { query: { responses: responses ? 'true' : undefined } });
export const invitationAction = (id, action) => call('POST', `/api/invitations/${q(id)}/${action}`);
export const notifications = () => call('GET', '/api/notifications');
export const gotIt = (id) => call('POST', `/api/notifications/${q(id)}/got-it`);
export const freebusy = (params) => call('GET', '/api/freebusy', { query: params });
export const firstAvailable = (params) => call('GET', '/api/first-available', { query: params });
export const inboxMessages = () => call('GET', '/api/inbox/messages');
/** `fields` is `{message}` (text) or `{message_base64}`. */
export const inboxContext = (fields) => call('POST', '/api/inbox/context', { json: fields });
export const answer = (fields, action) => call('POST', '/api/inbox/actions', { json: { ...fields, action } });

// Administration, one-time password links and the calendar feed
// (docs/administration.md).
export const adminAssociates = () => call('GET', '/api/admin/associates');
export const createAssociate = (body) => call('POST', '/api/associates', { json: body });
export const changeAssociate = (id, change) => call('PATCH', `/api/associates/${q(id)}`, { json: change });
export const resetPassword = (id, password) => call('PUT', `/api/associates/${q(id)}/password`, { json: { new_password: password } });
export const passwordLink = (id) => call('POST', `/api/associates/${q(id)}/password-link`);
export const linkInfo = (secret) => call('GET', `/api/password-links/${q(secret)}`);
export const useLink = (secret, password) => call('POST', `/api/password-links/${q(secret)}`, { json: { new_password: password } });
export const adminResources = () => call('GET', '/api/admin/resources');
export const createResource = (body) => call('POST', '/api/resources', { json: body });
export const changeResource = (id, change) => call('PATCH', `/api/resources/${q(id)}`, { json: change });
export const savePreferences = (change) => call('PUT', '/api/preferences', { json: change });
export const mailStatus = () => call('GET', '/api/admin/mail');
export const retryOutbox = (id) => call('POST', `/api/outbox/${q(id)}/retry`);
export const feedStatus = () => call('GET', '/api/me/feed');
export const createFeed = () => call('POST', '/api/me/feed');
export const revokeFeed = () => call('DELETE', '/api/me/feed');
