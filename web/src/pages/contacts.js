// Contacts: search persons and companies; a person's card with e-mail
// addresses, company and Activities (follow-ups they take part in, archived
// e-mails), and "New follow-up" with them. Adding and editing persons and
// companies (contacts-edit.js) and importing contact files (administrators,
// contacts-import.js) start here.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { openFollowup } from './followup.js';
import { moment, statusWord, when } from '../states.js';
import { openCompanyForm, openPersonForm } from './contacts-edit.js';
import { renderImport } from './contacts-import.js';

export async function render(main, app) {
  const search = h('input', { type: 'search', id: 'contact-search', placeholder: 'Name, company or e-mail address', autocomplete: 'off' });
  const results = h('div', { id: 'contact-results', class: 'contact-results' });
  const card = h('section', { id: 'contact-card', class: 'card', 'aria-live': 'polite', 'aria-label': 'Contact card' }, h('p', { class: 'muted' }, 'Choose a person to see their card.'));
  const importSection = h('section', { id: 'import', class: 'card import', 'aria-labelledby': 'import-title', hidden: true });
  const openImport = h('button', { type: 'button', class: 'secondary', id: 'contacts-import', on: { click: () => {
    importSection.hidden = false;
    renderImport(importSection, { onImported: () => find(), onClose: () => { importSection.hidden = true; openImport.focus(); } });
    importSection.querySelector('h2')?.focus?.();
    importSection.scrollIntoView({ block: 'start' });
  } } }, 'Import contacts');
  const newPerson = h('button', { type: 'button', class: 'primary', id: 'contacts-new-person', on: { click: () => openPersonForm({ onSaved: (p) => { app.toast(`${p.name} added.`); find(); showPerson(p.id); } }) } }, 'New person');
  const newCompany = h('button', { type: 'button', class: 'secondary', id: 'contacts-new-company', on: { click: () => openCompanyForm({ onSaved: (c) => { app.toast(`${c.name} added.`); find(); } }) } }, 'New company');
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Contacts'), h('div', { class: 'tools' }, h('label', { for: 'contact-search', class: 'inline' }, 'Search'), search)),
    h('div', { class: 'buttons contact-actions' }, newPerson, newCompany, app.user?.role === 'admin' ? openImport : null),
    importSection,
    h('div', { class: 'split' }, results, card),
  );
  let timer;
  let asked = 0;
  async function find() {
    const mine = ++asked;
    const q = search.value.trim();
    const [persons, companies] = await Promise.all([api.persons(q), api.companies(q)]);
    if (mine !== asked) return;
    replace(
      results,
      h('h2', {}, 'Persons'),
      persons.length
        ? h('ul', { class: 'plain-list', id: 'person-list' }, persons.map((p) => h('li', {}, h('button', { type: 'button', class: 'link', on: { click: () => showPerson(p.id) } }, p.name), h('span', { class: 'muted' }, p.company_name ? ` · ${p.company_name}` : ''))))
        : h('p', { class: 'muted' }, 'No persons found.'),
      h('h2', {}, 'Companies'),
      companies.length
        ? h('ul', { class: 'plain-list', id: 'company-list' }, companies.map((c) => h('li', {}, c.name, c.domain ? h('span', { class: 'muted' }, ` · ${c.domain}`) : '', c.ours ? h('span', { class: 'muted' }, ' · our company') : '', !c.ours || app.user?.role === 'admin' ? h('button', { type: 'button', class: 'link edit', 'aria-label': `Edit ${c.name}`, on: { click: () => openCompanyForm({ company: c, onSaved: (saved) => { app.toast(`${saved.name} saved.`); find(); } }) } }, 'Edit') : null)))
        : h('p', { class: 'muted' }, 'No companies found.'),
    );
  }
  const deleteStatus = h('p', { id: 'contact-delete-status', role: 'alert', class: 'message error', hidden: true });
  /** Administrators delete a person who takes part in nothing (the server refuses one with follow-ups or archived mail, and says so). */
  function deleteButton(p) {
    const button = h('button', { type: 'button', class: 'danger', id: 'contact-delete', on: { click: async () => {
      if (!window.confirm(`Delete ${p.name} and their e-mail addresses? This cannot be undone.`)) return;
      button.disabled = true;
      deleteStatus.hidden = true;
      try {
        await api.call('DELETE', `/api/persons/${encodeURIComponent(p.id)}`);
        app.toast(`${p.name} was deleted.`);
        replace(card, h('p', { class: 'muted' }, 'Choose a person to see their card.'));
        find();
      } catch (err) {
        deleteStatus.textContent = `Not deleted: ${err.message}.`;
        deleteStatus.hidden = false;
        button.disabled = false;
      }
    } } }, 'Delete');
    return button;
  }
  async function showPerson(id) {
    const [p, activities] = await Promise.all([api.person(id), api.activities(id)]);
    deleteStatus.hidden = true;
    replace(
      card,
      h('h2', { id: 'contact-name' }, p.name),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Company'),
        h('dd', {}, p.company_name ?? '—'),
        p.title ? [h('dt', {}, 'Title'), h('dd', {}, p.title)] : null,
        p.phone ? [h('dt', {}, 'Phone'), h('dd', {}, p.phone)] : null,
        h('dt', {}, 'E-mail'),
        h('dd', {}, p.emails.length ? h('ul', { class: 'plain-list' }, p.emails.map((e) => h('li', {}, e))) : '—'),
      ),
      h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'secondary', id: 'contact-edit', on: { click: () => openPersonForm({ person: p, onSaved: (saved) => { app.toast(`${saved.name} saved.`); find(); showPerson(saved.id); } }) } }, 'Edit'),
      h('button', { type: 'button', class: 'primary', on: { click: () => {
        const start = new Date();
        start.setHours(start.getHours() + 24, 0, 0, 0);
        openFollowup(app, { start, end: new Date(start.getTime() + 3600_000), participants: [{ kind: 'person', id: p.id, name: p.name }], onClose: () => showPerson(id) });
      } } }, 'New follow-up with this person'),
      app.user?.role === 'admin' ? deleteButton(p) : null),
      deleteStatus,
      h('h3', {}, 'Activities'),
      activities.length
        ? h(
            'ul',
            { class: 'items', id: 'activities' },
            activities.map((a) =>
              h(
                'li',
                { class: 'item' },
                h('div', {}, h('strong', {}, a.title || '(no title)'), h('p', {}, a.end ? when(a.start, a.end) : moment(a.start)), h('p', { class: 'muted' }, a.type === 'archived' ? `Archived ${a.status}` : `Follow-up · ${statusWord(a.status)}${a.participant_status ? ` · their answer: ${statusWord(a.participant_status)}` : ''}`)),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No activities yet.'),
    );
  }
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(find, 200);
  });
  await find();
}
