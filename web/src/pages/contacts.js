// Contacts: search persons and companies; a person's card with e-mail
// addresses, company and Activities (follow-ups they take part in, archived
// e-mails), and "New follow-up" with them.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { openFollowup } from './followup.js';
import { moment, statusWord, when } from '../states.js';

export async function render(main, app) {
  const search = h('input', { type: 'search', id: 'contact-search', placeholder: 'Name, company or e-mail address', autocomplete: 'off' });
  const results = h('div', { id: 'contact-results', class: 'contact-results' });
  const card = h('section', { id: 'contact-card', class: 'card', 'aria-live': 'polite', 'aria-label': 'Contact card' }, h('p', { class: 'muted' }, 'Choose a person to see their card.'));
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Contacts'), h('div', { class: 'tools' }, h('label', { for: 'contact-search', class: 'inline' }, 'Search'), search)),
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
        ? h('ul', { class: 'plain-list', id: 'company-list' }, companies.map((c) => h('li', {}, c.name, c.domain ? h('span', { class: 'muted' }, ` · ${c.domain}`) : '', c.ours ? h('span', { class: 'muted' }, ' · our company') : '')))
        : h('p', { class: 'muted' }, 'No companies found.'),
    );
  }
  async function showPerson(id) {
    const [p, activities] = await Promise.all([api.person(id), api.activities(id)]);
    replace(
      card,
      h('h2', { id: 'contact-name' }, p.name),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Company'),
        h('dd', {}, p.company_name ?? '—'),
        p.title ? [h('dt', {}, 'Title'), h('dd', {}, p.title)] : null,
        h('dt', {}, 'E-mail'),
        h('dd', {}, p.emails.length ? h('ul', { class: 'plain-list' }, p.emails.map((e) => h('li', {}, e))) : '—'),
      ),
      h('button', { type: 'button', class: 'primary', on: { click: () => {
        const start = new Date();
        start.setHours(start.getHours() + 24, 0, 0, 0);
        openFollowup(app, { start, end: new Date(start.getTime() + 3600_000), participants: [{ kind: 'person', id: p.id, name: p.name }], onClose: () => showPerson(id) });
      } } }, 'New follow-up with this person'),
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
