// The Import flow of the Contacts page (administrators): choose or drop a
// CSV or vCard file; the backend reads it and answers a preview (nothing is
// written): the columns and what each is imported as (changeable), the
// duplicates found by e-mail address with a choice for each (update, skip or
// create), the rows refused and why, and a sample of the new ones. Import
// writes everything in one transaction and answers a report.
// docs/contacts-import.md.

import * as api from '../api.js';
import { h, replace, setMessage } from '../dom.js';

const FIELDS = [
  ['ignore', 'Not imported'],
  ['name', 'Full name'],
  ['first_name', 'First name'],
  ['middle_name', 'Middle name'],
  ['last_name', 'Last name'],
  ['email', 'E-mail address'],
  ['company', 'Company'],
  ['title', 'Job title'],
  ['phone', 'Phone'],
];

const CHOICES = [
  ['skip', 'Skip (keep the known person)'],
  ['update', 'Update the known person'],
  ['create', 'Create a new person anyway'],
];

/** The most new rows shown in the preview (the counts cover them all). */
const SAMPLE = 20;

export const importPreview = (body) => api.call('POST', '/api/contacts/import/preview', { json: body });
export const importCommit = (body) => api.call('POST', '/api/contacts/import', { json: body });

/** Base64 of the bytes of `buffer`. */
export function toBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return window.btoa(text);
}

function table(caption, id, head, rows) {
  // Each cell names its column: on a narrow screen the rows become cards.
  for (const tr of rows) [...tr.children].forEach((td, i) => td.setAttribute('data-label', head[i] ?? ''));
  return h('div', { class: 'table-scroll', role: 'region', 'aria-label': caption, tabindex: '0' }, h('table', { class: 'table import-table', id }, h('caption', {}, caption), h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows)));
}

const emails = (c) => (c.emails?.length ? c.emails.join(', ') : '—');
const where = (r) => (r.line ? `line ${r.line}` : `#${r.row}`);

/**
 * Renders the import flow into `section`; `onImported()` runs after an
 * import (to refresh the lists); `onClose()` when the user closes it.
 */
export function renderImport(section, { onImported = () => {}, onClose = () => {} } = {}) {
  const state = { file: null, content: null, header: null, mapping: null, preview: null };
  const status = h('div', { class: 'message', id: 'import-status', role: 'status', 'aria-live': 'polite', hidden: true });
  const body = h('div', { id: 'import-body' });
  const close = h('button', { type: 'button', class: 'link', id: 'import-close', on: { click: onClose } }, 'Close');
  replace(section, h('div', { class: 'page-head' }, h('h2', { id: 'import-title' }, 'Import contacts'), close), status, body);

  function chooseStep() {
    const input = h('input', { type: 'file', id: 'import-file', accept: '.csv,.vcf,.vcard,.txt,text/csv,text/vcard,text/x-vcard' });
    const drop = h('div', { class: 'drop', id: 'import-drop' }, h('p', {}, 'Drop a CSV or vCard file here, or '), h('label', { for: 'import-file', class: 'button secondary' }, 'choose a file'), input);
    input.addEventListener('change', () => input.files[0] && load(input.files[0]));
    drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      const f = e.dataTransfer.files[0];
      if (f) load(f);
    });
    replace(
      body,
      h('p', { class: 'hint' }, 'CSV exported from Outlook or Google Contacts (UTF-8 or Windows-1252; their columns are recognised), any other CSV with the columns mapped by you, or vCard files from Outlook, Google or Apple Contacts. You see what would happen before anything is written.'),
      drop,
    );
  }

  async function load(file) {
    state.file = file.name;
    state.header = null;
    state.mapping = null;
    setMessage(status, 'info', `Reading ${file.name}…`);
    try {
      state.content = toBase64(await file.arrayBuffer());
    } catch (e) {
      setMessage(status, 'error', `The file cannot be read: ${e.message}`);
      return;
    }
    await preview();
  }

  const request = () => ({ content: state.content, header: state.header ?? undefined, mapping: state.mapping ?? undefined });

  async function preview() {
    try {
      state.preview = await importPreview(request());
    } catch (e) {
      setMessage(status, 'error', `${state.file}: ${e.message}`);
      chooseStep();
      return;
    }
    status.hidden = true;
    previewStep();
  }

  function previewStep() {
    const p = state.preview;
    const kind = p.format === 'vcard' ? 'vCard' : `CSV, ${p.encoding}`;
    const summary = h('p', { id: 'import-summary' }, h('strong', {}, state.file), ` (${kind}): ${p.total} contacts — ${p.new} new, ${p.duplicates} already known, ${p.refused} refused.`);
    const parts = [summary];

    if (p.format === 'csv') {
      const header = h('input', { type: 'checkbox', id: 'import-header', checked: p.header });
      header.addEventListener('change', () => {
        state.header = header.checked;
        state.mapping = null;
        preview();
      });
      const rows = p.columns.map((c, i) => {
        const select = h('select', { id: `import-map-${i}`, 'aria-label': `Import column ${c.name} as` }, FIELDS.map(([v, t]) => h('option', { value: v, selected: v === c.field }, t)));
        select.addEventListener('change', () => {
          state.mapping = p.columns.map((_, j) => document.getElementById(`import-map-${j}`)?.value ?? 'ignore');
          preview();
        });
        return h('tr', { class: c.field === 'ignore' ? 'ignored' : '' }, h('td', {}, c.name), h('td', { class: 'muted' }, c.example ?? '—'), h('td', {}, select));
      });
      parts.push(
        h('details', { class: 'mapping', id: 'import-mapping', open: !p.columns.some((c) => c.field === 'email') },
          h('summary', {}, `Columns: ${p.columns.filter((c) => c.field !== 'ignore').length} of ${p.columns.length} imported`),
          h('div', { class: 'check' }, header, h('label', { for: 'import-header' }, 'The first line names the columns')),
          table('Columns and what each is imported as', 'import-columns', ['Column', 'Example', 'Imported as'], rows)),
      );
      if (!p.columns.some((c) => c.field === 'email')) parts.push(h('p', { class: 'message warning' }, 'No column is imported as an e-mail address: choose the column that holds them.'));
    }

    const duplicates = p.rows.filter((r) => r.status === 'duplicate');
    const choice = h('select', { id: 'import-on-duplicate' }, CHOICES.map(([v, t]) => h('option', { value: v }, t)));
    const rowChoices = new Map();
    if (duplicates.length) {
      const rows = duplicates.map((r) => {
        const select = h('select', { class: 'row-choice', 'data-row': String(r.row), 'aria-label': `For ${r.contact.name}` }, h('option', { value: '' }, 'As chosen above'), CHOICES.map(([v, t]) => h('option', { value: v }, t)));
        rowChoices.set(r.row, select);
        return h('tr', {}, h('td', {}, where(r)), h('td', {}, r.contact.name), h('td', { class: 'addr' }, emails(r.contact)), h('td', {}, r.existing?.name ?? ''), h('td', {}, select));
      });
      parts.push(
        h('h3', {}, `Already known (${p.duplicates})`),
        h('div', { class: 'field' }, h('label', { for: 'import-on-duplicate' }, 'For contacts whose e-mail address is already registered'), choice),
        table('Contacts already known, by e-mail address', 'import-duplicates', ['Where', 'In the file', 'E-mail', 'Known as', 'Choice'], rows),
      );
    }

    const refused = p.rows.filter((r) => r.status === 'refused');
    if (refused.length) {
      parts.push(
        h('h3', {}, `Refused (${p.refused})`),
        table('Rows that will not be imported, and why', 'import-refused', ['Where', 'Name', 'E-mail', 'Why'], refused.map((r) => h('tr', {}, h('td', {}, where(r)), h('td', {}, r.contact.name || '—'), h('td', { class: 'addr' }, emails(r.contact)), h('td', {}, r.refusal?.message ?? '')))),
      );
    }

    const fresh = p.rows.filter((r) => r.status === 'new').slice(0, SAMPLE);
    if (fresh.length) {
      parts.push(
        h('h3', {}, p.new > fresh.length ? `New (${p.new}, the first ${fresh.length} shown)` : `New (${p.new})`),
        table('New contacts', 'import-new', ['Where', 'Name', 'E-mail', 'Company', 'Job title'], fresh.map((r) => h('tr', {}, h('td', {}, where(r)), h('td', {}, r.contact.name), h('td', { class: 'addr' }, emails(r.contact)), h('td', {}, r.contact.company ?? ''), h('td', {}, r.contact.title ?? '')))),
      );
    }

    const go = h('button', { type: 'button', class: 'primary', id: 'import-commit', disabled: p.new + p.duplicates === 0 }, 'Import');
    go.addEventListener('click', async () => {
      go.disabled = true;
      const choices = [...rowChoices].filter(([, s]) => s.value).map(([row, s]) => ({ row, choice: s.value }));
      setMessage(status, 'info', 'Importing…');
      try {
        const report = await importCommit({ ...request(), on_duplicate: choice.value, choices });
        reportStep(report);
        onImported(report);
      } catch (e) {
        setMessage(status, 'error', `Nothing was imported: ${e.message}`);
        go.disabled = false;
      }
    });
    parts.push(h('div', { class: 'buttons' }, go, h('button', { type: 'button', class: 'secondary', id: 'import-other', on: { click: () => chooseStep() } }, 'Choose another file')));
    replace(body, parts);
  }

  function reportStep(r) {
    setMessage(status, r.refused ? 'warning' : 'success', `Imported ${state.file}: ${r.created} added, ${r.updated} updated, ${r.skipped} skipped, ${r.refused} refused${r.companies_created ? `; ${r.companies_created} companies added` : ''}.`);
    replace(
      body,
      h('dl', { class: 'facts', id: 'import-report' }, h('dt', {}, 'Added'), h('dd', {}, String(r.created)), h('dt', {}, 'Updated'), h('dd', {}, String(r.updated)), h('dt', {}, 'Skipped'), h('dd', {}, String(r.skipped)), h('dt', {}, 'Refused'), h('dd', {}, String(r.refused)), h('dt', {}, 'Companies added'), h('dd', {}, String(r.companies_created))),
      r.refusals.length ? table('Rows not imported, and why', 'import-report-refused', ['Where', 'Name', 'E-mail', 'Why'], r.refusals.map((x) => h('tr', {}, h('td', {}, where(x)), h('td', {}, x.contact.name || '—'), h('td', { class: 'addr' }, emails(x.contact)), h('td', {}, x.refusal?.message ?? '')))) : null,
      h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'secondary', id: 'import-again', on: { click: () => { status.hidden = true; chooseStep(); } } }, 'Import another file')),
    );
  }

  chooseStep();
}
