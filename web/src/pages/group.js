// Group view: free/busy of several associates and resources over a day or a
// week. Busy blocks carry no titles (the API gives none for anybody); a
// click on a free part of a row, or "First free time for all", starts a
// follow-up with the people and rooms shown.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { openFollowup } from './followup.js';
import { day, time } from '../states.js';

const DAY_START = 7;
const DAY_END = 19;

export async function render(main, app) {
  const [people, rooms] = await Promise.all([api.associates(), api.resources()]);
  const date = h('input', { type: 'date', id: 'group-date', value: new Date().toISOString().slice(0, 10) });
  const span = h('select', { id: 'group-span' }, h('option', { value: 'day' }, 'Day'), h('option', { value: 'week', selected: true }, 'Week'));
  const checks = (items, kind) =>
    items.map((x) =>
      h('span', { class: 'check' }, h('input', { type: 'checkbox', id: `g-${kind}-${x.id}`, value: x.id, 'data-kind': kind, checked: kind === 'associate' ? true : x.kind === 'room' }), h('label', { for: `g-${kind}-${x.id}` }, x.name)),
    );
  const grid = h('div', { id: 'group-grid', class: 'group-grid', tabindex: '0', role: 'region', 'aria-label': 'Free and busy times' });
  const first = h('button', { type: 'button', class: 'primary', id: 'group-first' }, 'First free time for all');
  const status = h('p', { role: 'status', class: 'message', hidden: true });
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Group view'), h('div', { class: 'tools' }, h('label', { for: 'group-date', class: 'inline' }, 'From'), date, h('label', { for: 'group-span', class: 'inline' }, 'Show'), span, first)),
    h('fieldset', { class: 'card chooser' }, h('legend', {}, 'Associates'), checks(people, 'associate')),
    h('fieldset', { class: 'card chooser' }, h('legend', {}, 'Resources'), checks(rooms, 'resource')),
    status,
    grid,
    h(
      'section',
      { class: 'legend', id: 'group-legend', 'aria-labelledby': 'group-legend-title' },
      h('h2', { id: 'group-legend-title' }, 'Legend'),
      h(
        'ul',
        {},
        h('li', {}, h('span', { class: 'swatch g-swatch g-busy-swatch', 'aria-hidden': 'true' }), h('strong', {}, 'Busy'), ' An appointment, or an invitation accepted. No titles: other people’s appointments stay private.'),
        h('li', {}, h('span', { class: 'swatch g-swatch g-tentative-swatch', 'aria-hidden': 'true' }, 'T'), h('strong', {}, 'Tentative'), ' Not answered yet: an invitation, or an appointment taken in as tentative.'),
        h('li', {}, h('span', { class: 'swatch g-swatch g-free-swatch', 'aria-hidden': 'true' }), h('strong', {}, 'Free'), ` Each day runs from ${DAY_START}:00 to ${DAY_END}:00, a thin line every hour. Click a free time in a row to plan a follow-up with everyone shown.`),
      ),
    ),
  );
  const chosen = (kind) => [...main.querySelectorAll(`input[data-kind=${kind}]:checked`)].map((i) => i.value);
  const range = () => {
    const from = new Date(`${date.value}T00:00:00`);
    if (span.value === 'week') from.setDate(from.getDate() - ((from.getDay() + 6) % 7));
    const days = span.value === 'week' ? 5 : 1;
    return { from, days };
  };
  const participants = () => [
    ...chosen('associate').filter((id) => id !== app.user.id).map((id) => ({ kind: 'associate', id, name: people.find((p) => p.id === id)?.name })),
    ...chosen('resource').map((id) => ({ kind: 'resource', id, name: rooms.find((r) => r.id === id)?.name })),
  ];
  /** Each drawing; an answer that comes back after a newer request (another box ticked) is dropped. */
  let asked = 0;
  async function draw() {
    const mine = ++asked;
    const { from, days } = range();
    const until = new Date(from);
    until.setDate(until.getDate() + days);
    const fb = await api.freebusy({ associates: chosen('associate').join(','), resources: chosen('resource').join(','), from: from.toISOString(), until: until.toISOString() });
    if (mine !== asked) return;
    const rows = [...fb.associates.map((s) => ({ ...s, kind: 'associate' })), ...fb.resources.map((s) => ({ ...s, kind: 'resource' }))];
    const dayList = Array.from({ length: days }, (_, i) => {
      const d = new Date(from);
      d.setDate(d.getDate() + i);
      return d;
    });
    const head = h(
      'div',
      { class: 'g-row g-head', 'aria-hidden': 'true' },
      h('div', { class: 'g-name' }, ''),
      dayList.map((d) => h('div', { class: 'g-day' }, day(d), h('div', { class: 'g-hours' }, [9, 12, 15, 18].map((hr) => h('span', { style: `left:${((hr - DAY_START) / (DAY_END - DAY_START)) * 100}%` }, `${hr}`))))),
    );
    replace(
      grid,
      head,
      rows.length
        ? rows.map((s) =>
            h(
              'div',
              { class: 'g-row', 'data-id': s.id },
              h('div', { class: 'g-name' }, s.name, h('span', { class: 'muted' }, s.kind === 'resource' ? ' (resource)' : '')),
              dayList.map((d) => {
                const cell = h('div', { class: 'g-day g-track', title: 'Click a free time to plan a follow-up' });
                const dayStart = new Date(d);
                dayStart.setHours(DAY_START, 0, 0, 0);
                const total = (DAY_END - DAY_START) * 3600_000;
                const blocks = s.busy.filter((b) => new Date(b.end) > dayStart && new Date(b.start) < new Date(dayStart.getTime() + total));
                for (const b of blocks) {
                  const left = Math.max(0, (new Date(b.start) - dayStart) / total);
                  const right = Math.min(1, (new Date(b.end) - dayStart) / total);
                  const label = `${b.status === 'tentative' ? 'Tentative' : 'Busy'} ${time(b.start)}–${time(b.end)}`;
                  cell.append(h('span', { class: `g-busy g-${b.status}`, style: `left:${left * 100}%;width:${Math.max(0.5, (right - left) * 100)}%`, role: 'img', 'aria-label': `${s.name}: ${label}` }, b.status === 'tentative' ? 'T' : ''));
                }
                cell.addEventListener('click', (e) => {
                  if (e.target !== cell) return;
                  const x = (e.clientX - cell.getBoundingClientRect().left) / cell.clientWidth;
                  const start = new Date(dayStart.getTime() + Math.round((x * total) / 1800_000) * 1800_000);
                  openFollowup(app, { start, end: new Date(start.getTime() + 3600_000), participants: participants(), onClose: draw });
                });
                return cell;
              }),
            ),
          )
        : h('p', { class: 'muted' }, 'Choose associates or resources above.'),
    );
  }
  first.addEventListener('click', async () => {
    try {
      const slot = await api.firstAvailable({ associates: chosen('associate').join(','), resources: chosen('resource').join(','), after: new Date().toISOString(), duration: 60 });
      openFollowup(app, { start: new Date(slot.start), end: new Date(slot.end), participants: participants(), onClose: draw });
    } catch (e) {
      status.className = 'message error';
      status.textContent = `No free time found: ${e.message}`;
      status.hidden = false;
    }
  });
  for (const el of [date, span]) el.addEventListener('change', draw);
  main.addEventListener('change', (e) => {
    if (e.target.matches('input[data-kind]')) draw();
  });
  await draw();
}
