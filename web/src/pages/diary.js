// Diary: day, week and month views of my appointments (FullCalendar's MIT
// standard views), every state told apart by class and label and explained
// in the legend; navigation by date; a click opens the appointment, a
// selected time range starts a new follow-up. The owner moves a follow-up of
// the CRM by dragging it to another time, or changes its length by dragging
// its end (asked first, since everyone invited gets the new time and
// answers again); the dialog's times do the same from the keyboard.

import * as api from '../api.js';
import { h } from '../dom.js';
import { openFollowup } from './followup.js';
import { STATES, changeable, stateOf } from '../states.js';

export async function render(main, app) {
  const FC = window.FullCalendar;
  const error = h('p', { class: 'message error', role: 'alert', hidden: true });
  const status = h('p', { class: 'message', role: 'status', id: 'diary-status', hidden: true });
  const goto = h('input', { type: 'date', id: 'diary-date', 'aria-label': 'Go to date' });
  const newButton = h('button', { type: 'button', class: 'primary', id: 'new-followup' }, 'New follow-up');
  const host = h('div', { id: 'calendar', class: 'calendar' });
  const legend = h(
    'section',
    { class: 'legend', 'aria-labelledby': 'legend-title' },
    h('h2', { id: 'legend-title' }, 'Legend'),
    h(
      'ul',
      {},
      Object.entries(STATES).map(([key, s]) =>
        h('li', {}, h('span', { class: `swatch st-${key}`, 'aria-hidden': 'true' }, key === 'conflict' ? '!' : ''), h('strong', {}, s.label), ' ', s.explain),
      ),
    ),
  );
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Diary'), h('div', { class: 'tools' }, h('label', { for: 'diary-date', class: 'inline' }, 'Go to'), goto, newButton)),
    error,
    status,
    host,
    legend,
  );
  if (!FC) {
    error.textContent = 'The calendar component is missing: run `cargo xtask run` to place the web client’s packages.';
    error.hidden = false;
    return;
  }
  const narrow = window.matchMedia('(max-width: 700px)').matches;
  const calendar = new FC.Calendar(host, {
    initialView: narrow ? 'timeGridDay' : 'timeGridWeek',
    headerToolbar: narrow
      ? { left: 'prev,next today', center: '', right: 'timeGridDay,timeGridWeek,dayGridMonth' }
      : { left: 'prev,next today', center: 'title', right: 'timeGridDay,timeGridWeek,dayGridMonth' },
    buttonText: { today: 'Today', day: 'Day', week: 'Week', month: 'Month' },
    buttonHints: { prev: 'Previous $0', next: 'Next $0', today: 'Go to $0' },
    // The browser's language orders dates and times (FullCalendar formats
    // with Intl; its button words stay the ones given here).
    locale: navigator.language,
    firstDay: 1,
    height: 'auto',
    nowIndicator: true,
    slotMinTime: '07:00:00',
    slotMaxTime: '20:00:00',
    allDaySlot: true,
    selectable: true,
    eventInteractive: true,
    dayMaxEvents: 4,
    eventTimeFormat: { hour: '2-digit', minute: '2-digit' },
    slotLabelFormat: { hour: '2-digit', minute: '2-digit' },
    // Entries at the same time stand side by side instead of covering each other.
    slotEventOverlap: false,
    views: { timeGridDay: { dayHeaderFormat: { weekday: 'long', day: 'numeric', month: 'long' } } },
    events: async (info, success, failure) => {
      try {
        const entries = await api.calendar(info.start.toISOString(), info.end.toISOString());
        error.hidden = true;
        success(
          entries.map((e) => {
            const state = stateOf(e);
            const label = STATES[state].label;
            return {
              id: `${e.appointment_id}:${e.recurrence_id ?? ''}:${e.invitation_id ?? ''}`,
              title: `${e.conflict ? '! ' : ''}${e.title} · ${label}${e.conflict ? ' · conflict' : ''}`,
              start: e.start,
              end: e.end,
              classNames: [`st-${state}`, e.conflict ? 'st-conflict' : ''].filter(Boolean),
              editable: movable(e),
              extendedProps: { entry: e, state },
            };
          }),
        );
      } catch (e) {
        error.textContent = `The diary could not be loaded: ${e.message}`;
        error.hidden = false;
        failure(e);
      }
    },
    eventDidMount: (info) => {
      info.el.setAttribute('data-state', info.event.extendedProps.state);
      info.el.setAttribute('data-appointment', info.event.extendedProps.entry.appointment_id);
    },
    eventClick: (info) => {
      info.jsEvent.preventDefault();
      const e = info.event.extendedProps.entry;
      openFollowup(app, { id: e.appointment_id, invitationId: e.invitation_id, onClose: () => calendar.refetchEvents() });
    },
    // A timed follow-up stays timed: never dropped on the all-day row.
    eventAllow: (drop) => !drop.allDay,
    eventDrop: (info) => move(info),
    eventResize: (info) => move(info),
    select: (info) => {
      calendar.unselect();
      const end = info.allDay ? new Date(info.start.getTime() + 60 * 60 * 1000) : info.end;
      const start = info.allDay ? new Date(info.start.getTime() + 9 * 60 * 60 * 1000) : info.start;
      openFollowup(app, { start, end: info.allDay ? new Date(start.getTime() + 60 * 60 * 1000) : end, onClose: () => calendar.refetchEvents() });
    },
    datesSet: (info) => {
      goto.value = toDateValue(info.view.currentStart);
      // The arrow icons are decoration: the buttons carry their own names.
      for (const icon of host.querySelectorAll('.fc-icon[role=img]')) icon.setAttribute('aria-hidden', 'true');
    },
  });
  /** Saves a dragged or resized follow-up once the owner agrees; else it goes back. */
  async function move(info) {
    const e = info.event.extendedProps.entry;
    const start = info.event.start;
    const end = info.event.end ?? new Date(start.getTime() + (Date.parse(e.end) - Date.parse(e.start)));
    error.hidden = true;
    status.hidden = true;
    const when = new Intl.DateTimeFormat(navigator.language, { weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' });
    const until = new Intl.DateTimeFormat(navigator.language, { hour: '2-digit', minute: '2-digit' });
    const range = `${when.format(start)}–${until.format(end)}`;
    if (!window.confirm(`Move “${e.title}” to ${range}? Everyone invited gets the new time and is asked to answer again.`)) {
      info.revert();
      return;
    }
    try {
      await api.reschedule(e.appointment_id, { start: start.toISOString(), end: end.toISOString() });
      status.textContent = `Moved: “${e.title}” is now ${range}; the new time is sent.`;
      status.hidden = false;
    } catch (err) {
      info.revert();
      error.textContent = `Not moved: ${err.message}`;
      error.hidden = false;
    }
    calendar.refetchEvents();
  }
  calendar.render();
  app.calendar = calendar;
  goto.addEventListener('change', () => {
    if (goto.value) calendar.gotoDate(goto.value);
  });
  newButton.addEventListener('click', () => {
    const start = new Date();
    start.setMinutes(0, 0, 0);
    start.setHours(start.getHours() + 1);
    openFollowup(app, { start, end: new Date(start.getTime() + 60 * 60 * 1000), onClose: () => calendar.refetchEvents() });
  });
}

/** The owner's own follow-up of the CRM ({@link changeable}), not one occurrence of a series. */
function movable(e) {
  return e.kind === 'appointment' && !e.recurrence_id && changeable(e);
}

function toDateValue(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
