// The Archive tab: archive the open e-mail or meeting to the CRM, linked to
// contacts, companies, projects and sales; the CRM's suggestions (from the
// message's addresses) come first, then a search.

import * as api from './api.js';
import { ApiError } from './api.js';
import { byId, h, replace, setMessage } from './dom.js';
import * as host from './host.js';
import { LINK_KIND, span, when } from './words.js';

/** The links on offer: key `kind:id` -> {kind, id, name, reason}. */
let offered = new Map();
let busy = false;

function key(link) {
  return `${link.kind}:${link.id}`;
}

function choice(link, checked) {
  const id = `link-${link.kind}-${link.id}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return h(
    'li',
    {},
    h(
      'label',
      { for: id },
      h('input', { type: 'checkbox', id, checked, 'data-key': key(link) }),
      h(
        'span',
        { class: 'choice-text' },
        h('span', { class: 'choice-name' }, link.name),
        h('span', { class: 'choice-meta' }, [LINK_KIND[link.kind] ?? link.kind, link.reason].filter(Boolean).join(' · ')),
      ),
    ),
  );
}

function offer(link, checked) {
  const k = key(link);
  const list = byId('archive-links');
  if (offered.has(k)) {
    const box = list.querySelector(`input[data-key="${CSS.escape(k)}"]`);
    if (box && checked) box.checked = true;
    return;
  }
  offered.set(k, link);
  list.append(choice(link, checked));
  byId('archive-suggestions-state').hidden = true;
}

function chosen() {
  return Array.from(byId('archive-links').querySelectorAll('input[type="checkbox"]:checked'))
    .map((box) => offered.get(box.dataset.key))
    .filter(Boolean);
}

function reset(subject, what) {
  offered = new Map();
  byId('archive-subject').textContent = subject;
  byId('archive-what').textContent = what;
  replace(byId('archive-links'));
  replace(byId('archive-results'));
  byId('archive-search').value = '';
  byId('archive-result').hidden = true;
  const state = byId('archive-suggestions-state');
  state.textContent = 'Looking for matching records…';
  state.hidden = false;
}

export function showNothing() {
  reset('Nothing selected', 'Select an e-mail or a meeting to archive it.');
  byId('archive-suggestions-state').hidden = true;
  byId('archive-submit').disabled = true;
}

export function showItem(pane) {
  const info = pane.info;
  const sender = info.organizer ?? info.from;
  const from = sender ? sender.name || sender.email : 'unknown sender';
  const what = info.kind && info.kind !== 'organizer'
    ? `Meeting from ${from}${info.start ? `, ${span(info.start, info.end)}` : ''}: archived with its appointment in your CRM diary.`
    : info.kind === 'organizer'
      ? `Your meeting${info.start ? `, ${when(info.start)}` : ''}: archived with its appointment in your CRM diary.`
      : `E-mail from ${from}.`;
  reset(info.subject || '(no subject)', what);
  byId('archive-submit').disabled = true;
  suggest(pane, pane.generation);
}

export function showUnreadable(pane, why) {
  byId('archive-submit').disabled = true;
  setMessage(byId('archive-result'), 'error', `This item cannot be archived: ${why}`);
}

export function showMessage() {
  byId('archive-submit').disabled = false;
}

async function suggest(pane, generation) {
  const state = byId('archive-suggestions-state');
  const addresses = host.addressesOf(pane.info).filter((a) => a !== pane.user?.email?.toLowerCase());
  if (!addresses.length) {
    state.textContent = 'No addresses to match: search below.';
    return;
  }
  try {
    const found = await api.suggestions(addresses);
    if (!pane.current(generation)) return;
    let firstPerson = true;
    let firstCompany = true;
    for (const s of found) {
      // The likeliest contact and company are chosen; the rest are offered.
      const pick = (s.kind === 'person' && firstPerson) || (s.kind === 'company' && firstCompany);
      if (s.kind === 'person') firstPerson = false;
      if (s.kind === 'company') firstCompany = false;
      offer(s, pick);
    }
    if (!found.length) state.textContent = 'No contact, company, project or sale matches the addresses: search below.';
  } catch (e) {
    if (!pane.current(generation)) return;
    state.textContent = `No suggestions: ${pane.explain(e)}`;
  }
}

async function search(pane) {
  const q = byId('archive-search').value.trim();
  const results = byId('archive-results');
  if (!q) {
    replace(results);
    return;
  }
  replace(results, h('li', { class: 'muted' }, 'Searching…'));
  try {
    const [persons, companies, projects, sales] = await Promise.all([api.persons(q), api.companies(q), api.projects(q), api.sales(q)]);
    const found = [
      ...persons.map((p) => ({ kind: 'person', id: p.id, name: p.name, reason: [p.company_name, p.emails?.[0]].filter(Boolean).join(', ') })),
      ...companies.filter((c) => !c.ours).map((c) => ({ kind: 'company', id: c.id, name: c.name, reason: c.domain ?? '' })),
      ...projects.map((p) => ({ kind: 'project', id: p.id, name: p.name, reason: p.status })),
      ...sales.map((s) => ({ kind: 'sale', id: s.id, name: s.name, reason: s.status })),
    ].slice(0, 30);
    if (!found.length) {
      replace(results, h('li', { class: 'muted' }, `Nothing matches “${q}”.`));
      return;
    }
    replace(
      results,
      found.map((link) =>
        h(
          'li',
          {},
          h(
            'span',
            { class: 'choice-text' },
            h('span', { class: 'choice-name' }, link.name),
            h('span', { class: 'choice-meta' }, [LINK_KIND[link.kind], link.reason].filter(Boolean).join(' · ')),
          ),
          h('button', {
            type: 'button',
            class: 'button small',
            'aria-label': `Link to ${LINK_KIND[link.kind].toLowerCase()} ${link.name}`,
            on: {
              click: (event) => {
                offer(link, true);
                event.currentTarget.disabled = true;
                event.currentTarget.textContent = 'Added';
              },
            },
          }, 'Add'),
        ),
      ),
    );
  } catch (e) {
    replace(results, h('li', { class: 'message error' }, pane.explain(e)));
  }
}

async function submit(pane) {
  const message = pane.meetingMessage ?? pane.message;
  if (!message || busy) return;
  const generation = pane.generation;
  const links = chosen();
  const button = byId('archive-submit');
  const result = byId('archive-result');
  busy = true;
  button.disabled = true;
  setMessage(result, null, 'Archiving…');
  try {
    const item = await api.archive(message, links.map(({ kind, id }) => ({ kind, id })));
    if (!pane.current(generation)) return;
    const where = item.kind === 'meeting'
      ? 'Archived to the CRM as a meeting; the appointment is in your CRM diary.'
      : 'Archived to the CRM as an e-mail.';
    const lines = links.length
      ? links.map((l) => `Linked to ${LINK_KIND[l.kind]?.toLowerCase() ?? l.kind} ${l.name}`)
      : ['Not linked to any record: it is in your own archive only.'];
    if (message.source === 'properties') lines.push('Archived as rebuilt from what Outlook shows (see the Meeting tab).');
    setMessage(result, 'success', where, lines);
  } catch (e) {
    if (!pane.current(generation)) return;
    if (e instanceof ApiError && e.kind === 'unauthorized') return;
    setMessage(result, 'error', `Not archived. ${pane.explain(e)}`);
  } finally {
    busy = false;
    button.disabled = false;
  }
}

export function wire(pane) {
  byId('archive-search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    search(pane);
  });
  byId('archive-submit').addEventListener('click', () => submit(pane));
}
