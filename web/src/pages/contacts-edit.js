// The person and company forms of the Contacts page, each a modal <dialog>:
// a person has a name, one or more e-mail addresses (every one identifies
// them when an invitation arrives), a title, a phone and a company; a
// company has a name and an e-mail domain. Any signed-in user adds and
// edits them (docs/contacts-import.md).

import * as api from '../api.js';
import { h, replace, setMessage } from '../dom.js';

export const savePerson = (id, body) => (id ? api.call('PUT', `/api/persons/${encodeURIComponent(id)}`, { json: body }) : api.call('POST', '/api/persons', { json: body }));
export const saveCompany = (id, body) => (id ? api.call('PUT', `/api/companies/${encodeURIComponent(id)}`, { json: body }) : api.call('POST', '/api/companies', { json: body }));

function dialogFor(id, titleId) {
  const dialog = h('dialog', { class: 'followup contact-form', id, 'aria-labelledby': titleId });
  document.body.append(dialog);
  dialog.addEventListener('close', () => dialog.remove());
  return dialog;
}

function field(id, label, props = {}, hint) {
  const input = h('input', { id, name: id, ...props });
  return { input, el: h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null) };
}

/**
 * Opens the person form: `person` to edit, else a new person. `onSaved(person)`
 * runs after a save.
 */
export async function openPersonForm({ person = null, onSaved = () => {} } = {}) {
  const dialog = dialogFor('person-dialog', 'person-form-title');
  const companies = await api.companies('').catch(() => []);
  const name = field('person-name', 'Name', { type: 'text', required: true, maxlength: 200, autocomplete: 'off', value: person?.name ?? '' });
  const title = field('person-title', 'Job title', { type: 'text', maxlength: 200, autocomplete: 'off', value: person?.title ?? '' });
  const phone = field('person-phone', 'Phone', { type: 'tel', maxlength: 200, autocomplete: 'off', value: person?.phone ?? '' });
  const company = h('select', { id: 'person-company', name: 'person-company' }, h('option', { value: '' }, '— none —'), companies.map((c) => h('option', { value: c.id, selected: c.id === person?.company_id }, c.name)));
  const list = h('ul', { class: 'email-list', id: 'person-emails' });
  const addRow = (value = '') => {
    const n = list.children.length + 1;
    const input = h('input', { type: 'email', class: 'person-email', id: `person-email-${n}`, value, autocomplete: 'off', 'aria-label': `E-mail address ${n}` });
    const li = h('li', {}, input, h('button', { type: 'button', class: 'link', 'aria-label': `Remove e-mail address ${n}`, on: { click: () => (list.children.length > 1 ? li.remove() : (input.value = '')) } }, 'Remove'));
    list.append(li);
    return input;
  };
  for (const e of person?.emails?.length ? person.emails : ['']) addRow(e);
  const status = h('div', { class: 'message', role: 'alert', hidden: true, id: 'person-form-status' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'person-save' }, person ? 'Save' : 'Add person');
  const form = h(
    'form',
    { method: 'dialog', novalidate: true },
    h('h2', { id: 'person-form-title' }, person ? `Edit ${person.name}` : 'New person'),
    name.el,
    h('fieldset', { class: 'emails' }, h('legend', {}, 'E-mail addresses'), h('p', { class: 'hint' }, 'Every address identifies this person when an invitation or a reply arrives from it.'), list, h('button', { type: 'button', class: 'secondary', id: 'person-add-email', on: { click: () => addRow().focus() } }, 'Add another address')),
    h('div', { class: 'row' }, title.el, phone.el),
    h('div', { class: 'field' }, h('label', { for: 'person-company' }, 'Company'), company),
    status,
    h('div', { class: 'buttons' }, save, h('button', { type: 'button', class: 'secondary', on: { click: () => dialog.close() } }, 'Cancel')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      name: name.input.value,
      emails: [...list.querySelectorAll('input')].map((i) => i.value.trim()).filter(Boolean),
      title: title.input.value.trim() || null,
      phone: phone.input.value.trim() || null,
      company_id: company.value || null,
    };
    save.disabled = true;
    try {
      const saved = await savePerson(person?.id, body);
      dialog.close();
      onSaved(saved);
    } catch (err) {
      setMessage(status, 'error', err.message);
    } finally {
      save.disabled = false;
    }
  });
  replace(dialog, form);
  dialog.showModal();
  name.input.focus();
  return dialog;
}

/** Opens the company form: `company` to edit, else a new company. */
export function openCompanyForm({ company = null, onSaved = () => {} } = {}) {
  const dialog = dialogFor('company-dialog', 'company-form-title');
  const name = field('company-name', 'Name', { type: 'text', required: true, maxlength: 200, autocomplete: 'off', value: company?.name ?? '' });
  const domain = field('company-domain', 'E-mail domain', { type: 'text', maxlength: 253, autocomplete: 'off', placeholder: 'example.com', value: company?.domain ?? '', 'aria-describedby': 'company-domain-hint' }, 'The part after the @ of its people’s addresses; optional.');
  const status = h('div', { class: 'message', role: 'alert', hidden: true, id: 'company-form-status' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'company-save' }, company ? 'Save' : 'Add company');
  const form = h(
    'form',
    { method: 'dialog', novalidate: true },
    h('h2', { id: 'company-form-title' }, company ? `Edit ${company.name}` : 'New company'),
    name.el,
    domain.el,
    status,
    h('div', { class: 'buttons' }, save, h('button', { type: 'button', class: 'secondary', on: { click: () => dialog.close() } }, 'Cancel')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    save.disabled = true;
    try {
      const saved = await saveCompany(company?.id, { name: name.input.value, domain: domain.input.value.trim() || null });
      dialog.close();
      onSaved(saved);
    } catch (err) {
      setMessage(status, 'error', err.message);
    } finally {
      save.disabled = false;
    }
  });
  replace(dialog, form);
  dialog.showModal();
  name.input.focus();
  return dialog;
}
