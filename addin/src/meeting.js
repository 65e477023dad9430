// The Meeting tab: what the CRM does with the open meeting message, and the
// answer buttons. The engine in the pane gives an instant preview; the CRM
// applies the message when it is opened (the arrival rules, once per
// message) and applies every answer, deciding again itself.

import * as api from './api.js';
import { ApiError } from './api.js';
import { byId, h, replace, sentence, setMessage } from './dom.js';
import { decide, loadEngine } from './engine.js';
import * as host from './host.js';
import { KIND, effectText, span } from './words.js';

const BUTTONS = { accept: 'answer-accept', tentative: 'answer-tentative', decline: 'answer-decline', accept_all: 'answer-accept-all' };

const DONE = {
  accept: 'Accepted',
  tentative: 'Answered tentative',
  decline: 'Declined',
  accept_all: 'Accepted every occurrence',
};

/** The tab's own state for the open item. */
const view = {
  /** The message the meeting is decided on (the whole e-mail, or the one rebuilt from properties). */
  message: null,
  /** The decision on screen (its buttons come back after a failed answer). */
  decision: null,
  /** An answer is on its way to the CRM. */
  busy: false,
};

function setButtons(buttons) {
  for (const [action, id] of Object.entries(BUTTONS)) {
    byId(id).disabled = view.busy || !buttons?.[action];
  }
}

function setHint(text) {
  byId('answers-hint').textContent = text ?? '';
}

function status(tone, text, lines) {
  setMessage(byId('crm-status'), tone, text, lines);
}

function loading(headline) {
  const card = byId('decision');
  card.setAttribute('aria-busy', 'true');
  byId('decision-kind').textContent = headline;
  byId('decision-recurring').hidden = true;
  byId('decision-source').textContent = '';
  byId('decision-skeleton').hidden = false;
  byId('decision-body').hidden = true;
}

function card(headline, source, { effects = [], reasons = [], warnings = [], recurring = false, noEffects = null, labels = true } = {}) {
  byId('decision').setAttribute('aria-busy', 'false');
  byId('decision-kind').textContent = headline;
  byId('decision-recurring').hidden = !recurring;
  byId('decision-source').textContent = source ?? '';
  byId('decision-skeleton').hidden = true;
  byId('decision-body').hidden = false;
  const effectItems = effects.map((e) => h('li', {}, e));
  if (!effectItems.length && noEffects) effectItems.push(h('li', { class: 'none' }, noEffects));
  replace(byId('decision-effects'), effectItems);
  replace(byId('decision-reasons'), reasons.map((r) => h('li', {}, r)));
  replace(byId('decision-warnings'), warnings.map((w) => h('li', {}, w)));
  replace(byId('decision-actions'));
  byId('decision-effects').previousElementSibling.hidden = !labels || !effectItems.length;
  byId('decision-reasons').previousElementSibling.hidden = !labels || !reasons.length;
}

/** Shows a decision of the engine (from the pane or from the CRM). */
function showDecision(pane, decision, source) {
  view.decision = decision;
  const headline = decision.display === 'plain_email' ? `${KIND[decision.kind] ?? 'Meeting message'}: shown as a plain e-mail` : KIND[decision.kind] ?? 'Meeting message';
  card(headline, source, {
    effects: decision.effects.map(effectText),
    reasons: decision.reasons.map(sentence),
    warnings: decision.warnings.map(sentence),
    recurring: decision.recurring,
    noEffects: 'Nothing changes in your CRM diary',
  });
  replace(byId('decision-actions'), decision.effects.filter((e) => e.type === 'suggest_contact').map((e) => registerButton(pane, e)));
  setButtons(decision.buttons);
  const any = Object.values(decision.buttons).some(Boolean);
  if (!any) {
    setHint(
      decision.kind === 'invitation' || decision.kind === 'update' || decision.kind === 'publish'
        ? 'Answers are off for this message: see why below.'
        : 'Nothing to answer: the CRM records this message.',
    );
  } else if (decision.buttons.accept_all) {
    setHint('A series: Accept all adds every occurrence to your CRM diary.');
  } else {
    setHint('Saved in your CRM diary; with Notify on, the organizer gets your reply.');
  }
}

/** A name for an address that has none: `pat.stranger@x` -> "Pat Stranger". */
function nameFrom(address) {
  const local = String(address).split('@')[0] ?? '';
  return local
    .split(/[._-]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

/** "Register ... as a contact" for a `suggest_contact` effect; the company is the one whose domain the address has. */
function registerButton(pane, effect) {
  const name = effect.name || nameFrom(effect.email) || effect.email;
  const box = h('div', { class: 'message', role: 'status', hidden: true });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'button small',
      on: {
        click: async () => {
          button.disabled = true;
          try {
            const domain = effect.email.split('@')[1]?.toLowerCase() ?? '';
            const companies = domain ? await api.companies(domain) : [];
            const company = companies.find((c) => !c.ours && String(c.domain ?? '').toLowerCase() === domain);
            await api.registerPerson({ name, emails: [effect.email], company_id: company?.id ?? null });
            button.hidden = true;
            setMessage(
              box,
              'success',
              `${name} is now a registered contact${company ? ` at ${company.name}` : ''}. Their next invitations go into your CRM diary; answer this one to add it now.`,
            );
          } catch (e) {
            button.disabled = false;
            if (e instanceof ApiError && e.kind === 'unauthorized') return;
            setMessage(box, 'error', `Not registered. ${pane.explain(e)}`);
          }
        },
      },
    },
    `Register ${name} as a contact`,
  );
  return h('div', {}, button, box);
}

function showFailure(errors, source) {
  view.decision = null;
  card('The rules engine cannot read this message', source, {
    reasons: errors.map((e) => `${sentence(e.message)}${e.line ? ` (line ${e.line})` : ''}`),
  });
  setButtons(null);
  setHint('Answers are off: the message cannot be read.');
}

function fact(dt, dd) {
  return dd ? [h('dt', {}, dt), h('dd', {}, dd)] : [];
}

/** Nothing selected (a pinned pane). */
export function showNothing() {
  byId('meeting-subject').textContent = 'Nothing selected';
  replace(byId('meeting-facts'));
  byId('meeting-source').hidden = true;
  card('Select an e-mail or a meeting', '', { noEffects: 'The pane follows the item you select in Outlook.', labels: false });
  setButtons(null);
  setHint(null);
  status(null, '');
}

/** The item's own details, known at once from Outlook. */
export function showItem(pane) {
  const info = pane.info;
  view.message = null;
  view.decision = null;
  view.busy = false;
  byId('meeting-subject').textContent = info.subject || '(no subject)';
  const organizer = info.organizer ?? info.from;
  const who = organizer ? (organizer.name ? `${organizer.name} <${organizer.email}>` : organizer.email) : '';
  const isReply = ['accepted', 'declined', 'tentative'].includes(info.kind);
  replace(
    byId('meeting-facts'),
    fact(isReply || !info.kind ? 'From' : 'Organizer', who),
    fact('When', info.start ? span(info.start, info.end) : ''),
    fact('Where', info.location),
  );
  byId('meeting-source').hidden = true;
  setButtons(null);
  setHint(null);
  status(null, '');
  loading('Reading the meeting…');
}

export function showUnreadable(pane, why) {
  card('The message cannot be read', '', { reasons: [why] });
  setButtons(null);
}

/** The message is known: preview it, and let the CRM apply it. */
export function showMessage(pane, generation) {
  const info = pane.info;
  if (!info.kind) {
    card('Not a meeting message', '', {
      noEffects: 'An ordinary e-mail: nothing for the CRM diary',
      reasons: ['You can archive it to a contact, company, project or sale on the Archive tab.'],
      labels: false,
    });
    setHint('Answers are for meeting requests.');
    return;
  }
  if (info.kind === 'organizer') {
    card('You organize this meeting', '', {
      noEffects: 'Answers from the attendees reach the CRM as replies',
      reasons: ['You can archive the meeting to a contact, company, project or sale on the Archive tab.'],
      labels: false,
    });
    setHint('Answers are for meetings others invite you to.');
    return;
  }
  run(pane, generation, pane.message, true);
}

function noCalendar(result) {
  return result?.answer?.type === 'failure' && result.answer.errors.some((e) => e.code === 'no_calendar_part');
}

async function run(pane, generation, message, mayRebuild) {
  view.message = message;
  pane.meetingMessage = message;
  const source = byId('meeting-source');
  source.textContent = message.note ?? '';
  source.hidden = !message.note;
  let applied = false;
  const previewing = preview(pane, message);
  const arriving = api.deliver(message).then(
    (result) => ({ result }),
    (error) => ({ error }),
  );
  let previewError = null;
  const noteEngine = () => {
    const line = byId('decision-source');
    if (previewError && !line.textContent.includes(previewError)) line.textContent += `. No preview in the pane: ${previewError}`;
  };
  previewing.then((p) => {
    if (!pane.current(generation) || view.message !== message) return;
    if (p.error) previewError = p.error.replace(/\.$/, '').replace(/^./, (c) => c.toLowerCase());
    if (applied) {
      noteEngine();
      return;
    }
    if (mayRebuild && noCalendar(p)) return;
    if (p.answer?.type === 'success') showDecision(pane, p.answer.decision, 'Preview by the rules engine in this pane: the CRM has not confirmed it yet');
    else if (p.answer?.type === 'failure') showFailure(p.answer.errors, 'Preview by the rules engine in this pane');
    else if (p.error) status('warning', `No preview: ${p.error}`);
  });
  const arrival = await arriving;
  if (!pane.current(generation) || view.message !== message) return;
  const missing =
    arrival.error?.code === 'no_calendar_part' || (arrival.error?.kind === 'offline' && noCalendar(await previewing));
  if (mayRebuild && missing) {
    const rebuilt = await pane.rebuild(
      pane.info,
      'This meeting message carries no calendar data (Outlook leaves it out between Outlook users)',
    );
    if (!pane.current(generation)) return;
    run(pane, generation, rebuilt, false);
    return;
  }
  if (arrival.result) {
    applied = true;
    const { decision, duplicate } = arrival.result;
    showDecision(
      pane,
      decision,
      duplicate ? 'Applied by the CRM when this message first arrived' : 'Applied by the CRM just now, as this message arrived',
    );
    status(null, '');
    noteEngine();
    return;
  }
  const e = arrival.error;
  if (e instanceof ApiError && e.kind === 'unauthorized') return;
  if (e instanceof ApiError && e.kind === 'offline') {
    status('error', `${pane.explain(e)} Nothing was saved; the preview above comes from the pane alone.`);
  } else {
    status('error', `The CRM could not take this message: ${pane.explain(e)}`);
  }
  const p = await previewing;
  if (!pane.current(generation) || view.message !== message) return;
  if (!p.answer) card('No decision', '', { reasons: [p.error ?? pane.explain(e)] });
}

/** The pane's own decision: resolves to `{answer}` (the engine's answer) or `{error}` (text). */
async function preview(pane, message) {
  try {
    await loadEngine();
  } catch (e) {
    return { error: sentence(e.message) };
  }
  let context;
  try {
    context = await previewContext(pane, message);
  } catch (e) {
    return { error: pane.explain(e) };
  }
  return { answer: await decide(message.bytes, context) };
}

/** Whether the backend has `POST /api/inbox/context` (asked once per pane). */
let contextEndpoint = true;

/** The context as the CRM builds it, or built here from directory look-ups; only the mailbox when the CRM is away. */
async function previewContext(pane, message) {
  const now = new Date().toISOString();
  let context = null;
  try {
    if (contextEndpoint) {
      context = await api.contextFor(message);
      contextEndpoint = context !== null;
    }
  } catch (e) {
    if (e instanceof ApiError && e.kind === 'offline') return { mailbox: host.userAddress() ?? pane.user?.email ?? '', now };
    if (e instanceof ApiError && e.kind === 'unauthorized') throw e;
  }
  if (context) return { now, ...context };
  const addresses = host.addressesOf(pane.info).slice(0, 15);
  const found = await Promise.all(
    addresses.map(async (a) => {
      const [persons, associates] = await Promise.all([api.persons(a).catch(() => []), api.associates(a).catch(() => [])]);
      return { a, persons, associates };
    }),
  );
  const contacts = [];
  const associates = [];
  for (const { a, persons, associates: users } of found) {
    for (const p of persons) {
      if ((p.emails ?? []).some((e) => e.toLowerCase() === a)) {
        contacts.push({ email: a, person_id: p.id, name: p.name, company: p.company_name ?? null });
      }
    }
    for (const u of users) {
      if (String(u.email).toLowerCase() === a) associates.push({ email: a, associate_id: u.id, name: u.name });
    }
  }
  const prefs = pane.preferences ?? {};
  const settings = pane.settings ?? {};
  return {
    mailbox: pane.user.email,
    now,
    preferences: { incoming: prefs.incoming, request_reply: prefs.request_reply, synchronizer: prefs.synchronizer },
    user: { import_tentative: settings.import_tentative, synchronizer: settings.synchronizer },
    contacts,
    associates,
  };
}

async function answer(pane, action) {
  if (!view.message || view.busy) return;
  const generation = pane.generation;
  const notify = byId('notify').checked;
  const previous = view.decision;
  view.busy = true;
  setButtons(null);
  setMessage(byId('crm-status'), null, 'Sending your answer to the CRM…');
  try {
    const result = await api.answer(view.message, { type: action, notify });
    if (!pane.current(generation)) return;
    view.busy = false;
    showDecision(pane, result.decision, 'Your answer, applied by the CRM');
    const lines = [];
    for (const m of result.outbox ?? []) lines.push(`A reply to ${m.recipient} is waiting in the CRM outbox (${m.subject}).`);
    if (notify && !lines.length) lines.push('No reply goes to the organizer: the invitation asks for none.');
    if (!notify) lines.push('The organizer is not notified.');
    status('success', `${DONE[action]} in your CRM diary.`, lines);
    byId('crm-status').focus();
  } catch (e) {
    if (!pane.current(generation)) return;
    view.busy = false;
    if (previous) setButtons(previous.buttons);
    if (e instanceof ApiError && e.kind === 'unauthorized') return;
    status('error', `Your answer was not saved. ${pane.explain(e)}`);
    byId('crm-status').focus();
  }
}

export function wire(pane) {
  for (const [action, id] of Object.entries(BUTTONS)) {
    byId(id).addEventListener('click', () => answer(pane, action));
  }
}
