// Real meeting e-mails from tests/fixtures/, readdressed to the demo CRM's
// people (the fixtures speak of other companies), with a UID and Message-ID
// of their own per test so that tests never see each other's appointments.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { root } from './backend.mjs';

const FIXTURES = path.join(root, 'tests', 'fixtures');
const MESSAGES = path.join(FIXTURES, 'decide', 'messages');

/** The fixtures' people, as the demo data has them. */
export const DEMO_ADDRESSES = {
  'bob.berg@customer.no': 'bob@acme.example',
  'bob.berg@customer.example': 'bob@acme.example',
  'carla@acme-corp.com': 'alice@acme.example',
  'per.olsen@nordlys.no': 'dan@ourcompany.example',
  'anna.dahl@nordlys.no': 'ben@ourcompany.example',
  'anna@ourcrm.example': 'ben@ourcompany.example',
  'carl@ourcrm.example': 'dan@ourcompany.example',
};

/** Names that follow the addresses. */
const DEMO_NAMES = {
  'Anna Dahl': 'Ben Holm',
  'Anna Ask': 'Ben Holm',
  'Per Olsen': 'Dan Moe',
  'Carla Diaz': 'Alice Ash',
  'Carl Dahl': 'Dan Moe',
};

function unfold(text) {
  return text.replace(/\r?\n[ \t]/g, '');
}

function readdress(text, { map, uidSuffix }) {
  let out = text;
  for (const [from, to] of Object.entries(map)) out = out.split(from).join(to);
  if (uidSuffix) out = out.replace(/^UID:(.*?)(\r?)$/gm, (_, uid, cr) => `UID:${uid}-${uidSuffix}${cr}`);
  return out;
}

function decodeQuotedPrintable(text) {
  const bytes = [];
  const soft = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < soft.length; i += 1) {
    const c = soft[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function wrap76(b64) {
  return b64.match(/.{1,76}/g)?.join('\r\n') ?? '';
}

/**
 * Readdresses a whole e-mail: headers and plain parts as they are, calendar
 * parts decoded (base64, quoted-printable), unfolded, readdressed and
 * written back (base64 stays base64; quoted-printable becomes 8bit).
 */
export function readdressEmail(eml, options) {
  const lines = eml.split(/\r?\n/);
  const out = [];
  let inHeaders = true;
  let encoding = null;
  let calendar = false;
  let encodingLine = -1;
  let body = [];
  const flush = () => {
    if (!body.length) return;
    const raw = body.join('\r\n');
    if (calendar && encoding === 'base64') {
      const text = readdress(unfold(Buffer.from(raw.replace(/\s+/g, ''), 'base64').toString('utf8')), options);
      out.push(wrap76(Buffer.from(text, 'utf8').toString('base64')));
    } else if (calendar && encoding === 'quoted-printable') {
      out.push(readdress(unfold(decodeQuotedPrintable(raw)), options));
      if (encodingLine >= 0) out[encodingLine] = 'Content-Transfer-Encoding: 8bit';
    } else if (calendar) {
      out.push(readdress(unfold(raw), options));
    } else {
      out.push(readdress(raw, options));
    }
    body = [];
  };
  for (const line of lines) {
    if (inHeaders) {
      if (line === '') {
        inHeaders = false;
        out.push(line);
        continue;
      }
      const cte = line.match(/^content-transfer-encoding:\s*([^\s;]+)/i);
      if (cte) {
        encoding = cte[1].toLowerCase();
        encodingLine = out.length;
      }
      if (/^content-type:\s*(text\/calendar|application\/ics)/i.test(line)) calendar = true;
      out.push(readdress(line, options));
      continue;
    }
    if (line.startsWith('--')) {
      flush();
      out.push(line);
      inHeaders = !line.trimEnd().endsWith('--');
      encoding = null;
      calendar = false;
      encodingLine = -1;
      continue;
    }
    body.push(line);
  }
  flush();
  let text = out.join('\r\n');
  if (options.uidSuffix) {
    text = text.replace(/^(Message-ID:\s*<)/im, `$1${options.uidSuffix}.`);
  }
  return text;
}

/**
 * A fixture e-mail or .ics (tests/fixtures/decide/messages/NAME, or
 * tests/fixtures/DIR/NAME), readdressed to the demo CRM. `extra` adds or
 * overrides address rewrites (e.g. an unknown sender).
 */
export function fixture(name, { uidSuffix, extra = {} } = {}) {
  const text = readFileSync(name.includes('/') ? path.join(FIXTURES, name) : path.join(MESSAGES, name), 'utf8');
  const map = { ...DEMO_ADDRESSES, ...DEMO_NAMES, ...extra };
  if (name.endsWith('.ics')) return readdress(unfold(text), { map, uidSuffix });
  return readdressEmail(text, { map, uidSuffix });
}

/** base64 of a text (as getAsFileAsync gives the message). */
export function base64(text) {
  return Buffer.from(text, 'utf8').toString('base64');
}
