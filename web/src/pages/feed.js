// My calendar feed, a section of My settings (docs/administration.md,
// "Calendar feed"): make a private URL that serves my CRM diary as an
// iCalendar feed, copy it, make a new one or revoke it. The URL is shown
// once, when it is made: the server keeps only a hash of its secret.

import * as api from '../api.js';
import { h, replace, setMessage } from '../dom.js';

const when = (iso) => (iso ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : 'never');

/** The section element; it loads and redraws itself. */
export async function feedSection() {
  const box = h('p', { id: 'feed-status', class: 'message', role: 'status', hidden: true });
  const body = h('div', { id: 'feed-body' });
  const section = h(
    'section',
    { class: 'card', 'aria-labelledby': 'settings-feed' },
    h('h2', { id: 'settings-feed' }, 'Calendar feed'),
    h(
      'p',
      { class: 'hint' },
      'A private address that shows your CRM diary in Outlook, Google Calendar or Apple Calendar ("subscribe from the web" / "add calendar from URL"). They read it every 30 minutes or so; nothing you change there comes back to the CRM. Anyone with the address can read your diary: keep it to yourself, and revoke it if it leaks.',
    ),
    body,
    box,
  );

  const draw = (state, url) => {
    const make = h('button', { type: 'button', class: state.active ? 'secondary' : 'primary', id: 'feed-create' }, state.active ? 'Make a new address' : 'Make my feed address');
    make.addEventListener('click', async () => {
      make.disabled = true;
      try {
        const made = await api.createFeed();
        const full = new URL(made.path, window.location.origin).href;
        setMessage(box, 'success', state.active ? 'A new address is made; the old one no longer works.' : 'Your feed address is made.');
        draw({ active: true, created_at: made.created_at, last_fetched_at: null }, full);
      } catch (e) {
        setMessage(box, 'error', `Not done: ${e.message}`);
        make.disabled = false;
      }
    });
    const revoke = h('button', { type: 'button', class: 'danger', id: 'feed-revoke' }, 'Revoke');
    revoke.addEventListener('click', async () => {
      revoke.disabled = true;
      try {
        await api.revokeFeed();
        setMessage(box, 'success', 'Revoked: the address no longer works.');
        draw({ active: false }, null);
      } catch (e) {
        setMessage(box, 'error', `Not done: ${e.message}`);
        revoke.disabled = false;
      }
    });
    const parts = [];
    if (url) {
      const input = h('input', { type: 'text', id: 'feed-url', readonly: true, value: url, 'aria-describedby': 'feed-url-help' });
      const copy = h('button', { type: 'button', class: 'secondary', id: 'feed-copy' }, 'Copy');
      copy.addEventListener('click', async () => {
        input.select();
        try {
          await navigator.clipboard.writeText(url);
          copy.textContent = 'Copied';
        } catch {
          copy.textContent = 'Selected: press Ctrl+C';
        }
      });
      parts.push(
        h('label', { for: 'feed-url' }, 'Your feed address'),
        h('div', { class: 'copy-row' }, input, copy),
        h('p', { class: 'hint warning', id: 'feed-url-help' }, 'Shown only now: copy it into your calendar. To see an address again, make a new one.'),
      );
    } else if (state.active) {
      parts.push(h('p', {}, `You have a feed address, made ${when(state.created_at)}; last read by a calendar: ${when(state.last_fetched_at)}.`), h('p', { class: 'hint' }, 'Its address was shown when it was made. Make a new one to see an address again (the old one stops working).'));
    } else {
      parts.push(h('p', {}, 'You have no feed address.'));
    }
    parts.push(h('div', { class: 'buttons' }, make, state.active ? revoke : null));
    replace(body, parts);
  };

  draw(await api.feedStatus(), null);
  return section;
}
