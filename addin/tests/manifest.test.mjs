// The add-in manifest and what the backend serves for it: well-formed XML,
// the elements Outlook requires in schema order, ids and versions, every
// resource id resolved, every URL HTTPS on localhost:3443 and served by the
// running backend (rewritten to the test server), icons at their sizes;
// and the page's Content-Security-Policy and the engine's MIME type. The
// unified JSON manifest (manifest.json, Microsoft's converter's output for
// manifest.xml, see support/unified.mjs) is what the converter makes today
// and names the same URLs, permission, surfaces and requirements.
//
// The published XSDs (Office add-in manifest 1.1, VersionOverrides 1.0/1.1)
// ship in no npm package, and Microsoft's validator posts the manifest to an
// online service, so the schema rules that matter here are checked directly.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { root, startBackend } from './support/backend.mjs';
import { launch } from './support/browser.mjs';
import { UNIFIED_MANIFEST, convertManifest, format } from './support/unified.mjs';

const ADDIN = path.join(root, 'addin');
const MANIFEST = readFileSync(path.join(ADDIN, 'manifest.xml'), 'utf8');
/** The port the manifest's URLs use; `invitelink serve --tls` serves HTTPS there. */
const MANIFEST_ORIGIN = 'https://localhost:3443';

let backend;
let browser;
let page;
let manifest;

before(async () => {
  backend = await startBackend();
  browser = await launch();
  page = await browser.newPage();
  await page.setContent('<!doctype html><title>manifest</title>');
  manifest = await page.evaluate(readManifest, MANIFEST);
});

after(async () => {
  await browser?.close();
  await backend?.stop();
});

/** Runs in the browser: parses the manifest with the XML parser and summarizes it. */
function readManifest(xml) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const error = doc.getElementsByTagName('parsererror')[0];
  if (error) return { error: error.textContent };
  const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
  const BT = 'http://schemas.microsoft.com/office/officeappbasictypes/1.0';
  const rootEl = doc.documentElement;
  const kids = (el) => Array.from(el.children);
  const child = (el, name) => kids(el).find((c) => c.localName === name);
  const type = (el) => el.getAttributeNS(XSI, 'type');
  const overrides = [];
  let vo = child(rootEl, 'VersionOverrides');
  while (vo) {
    const resources = child(vo, 'Resources');
    const table = {};
    for (const group of resources ? kids(resources) : []) {
      table[group.localName] = kids(group).map((r) => ({ id: r.getAttribute('id'), value: r.getAttribute('DefaultValue') }));
    }
    const refs = Array.from(vo.querySelectorAll('[resid]'))
      .filter((el) => el.closest('VersionOverrides') === vo)
      .map((el) => ({
        element: el.localName,
        ns: el.namespaceURI,
        parent: el.parentElement.localName,
        resid: el.getAttribute('resid'),
        size: el.getAttribute('size'),
      }));
    const points = Array.from(vo.getElementsByTagName('ExtensionPoint'))
      .filter((el) => el.closest('VersionOverrides') === vo)
      .map((el) => ({
        type: type(el),
        controls: Array.from(el.getElementsByTagName('Control')).map((c) => ({
          id: c.getAttribute('id'),
          type: type(c),
          action: type(c.getElementsByTagName('Action')[0]),
          pinning: c.getElementsByTagName('SupportsPinning')[0]?.textContent ?? null,
          sizes: Array.from(c.getElementsByTagName('Icon')[0]?.children ?? []).map((i) => i.getAttribute('size')),
        })),
        groups: Array.from(el.getElementsByTagName('Group')).map((g) => g.getAttribute('id')),
      }));
    const sets = Array.from(vo.getElementsByTagNameNS(BT, 'Sets')).filter((el) => el.closest('VersionOverrides') === vo);
    overrides.push({
      ns: vo.namespaceURI,
      type: type(vo),
      children: kids(vo).map((c) => c.localName),
      hostType: type(child(child(vo, 'Hosts'), 'Host')),
      points,
      table,
      refs,
      requirement: sets.map((s) => ({ min: s.getAttribute('DefaultMinVersion'), names: kids(s).map((x) => x.getAttribute('Name')) })),
    });
    vo = child(vo, 'VersionOverrides');
  }
  const text = (name) => child(rootEl, name)?.textContent?.trim() ?? null;
  const value = (name) => child(rootEl, name)?.getAttribute('DefaultValue') ?? null;
  const sets = Array.from(child(child(rootEl, 'Requirements'), 'Sets').children).map((s) => ({
    name: s.getAttribute('Name'),
    min: s.getAttribute('MinVersion'),
  }));
  const form = child(child(rootEl, 'FormSettings'), 'Form');
  const rules = Array.from(child(rootEl, 'Rule').children).map((r) => ({ type: type(r), item: r.getAttribute('ItemType'), form: r.getAttribute('FormType') }));
  const urls = Array.from(doc.querySelectorAll('[DefaultValue]'))
    .map((el) => el.getAttribute('DefaultValue'))
    .filter((v) => /^[a-z]+:\/\//i.test(v));
  for (const el of doc.getElementsByTagName('AppDomain')) urls.push(el.textContent.trim());
  return {
    ns: rootEl.namespaceURI,
    name: rootEl.localName,
    type: type(rootEl),
    children: kids(rootEl).map((c) => c.localName),
    id: text('Id'),
    version: text('Version'),
    provider: text('ProviderName'),
    locale: text('DefaultLocale'),
    displayName: value('DisplayName'),
    description: value('Description'),
    iconUrl: value('IconUrl'),
    highResolutionIconUrl: value('HighResolutionIconUrl'),
    supportUrl: value('SupportUrl'),
    appDomains: Array.from(doc.getElementsByTagName('AppDomain'), (d) => d.textContent.trim()),
    hosts: Array.from(child(rootEl, 'Hosts').children, (h) => h.getAttribute('Name')),
    sets,
    formType: type(form),
    formSource: form.getElementsByTagName('SourceLocation')[0]?.getAttribute('DefaultValue'),
    formHeight: form.getElementsByTagName('RequestedHeight')[0]?.textContent,
    permissions: text('Permissions'),
    rules,
    overrides,
    urls,
  };
}

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'not a PNG');
  assert.equal(bytes.subarray(12, 16).toString('latin1'), 'IHDR');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

/** The test server's address for a manifest URL. */
function served(url) {
  assert.ok(url.startsWith(`${MANIFEST_ORIGIN}/`), `${url} is not on ${MANIFEST_ORIGIN}`);
  return backend.origin + url.slice(MANIFEST_ORIGIN.length);
}

test('the manifest is well-formed XML: an Outlook mail add-in, schema 1.1', () => {
  assert.equal(manifest.error, undefined, `the manifest is not well-formed: ${manifest.error}`);
  assert.equal(manifest.name, 'OfficeApp');
  assert.equal(manifest.ns, 'http://schemas.microsoft.com/office/appforoffice/1.1');
  assert.equal(manifest.type, 'MailApp');
  assert.ok(MANIFEST.startsWith('<?xml version="1.0" encoding="UTF-8"?>'));
});

test('the top-level elements come in the order of the schema', () => {
  const order = [
    'Id', 'AlternateId', 'Version', 'ProviderName', 'DefaultLocale', 'DisplayName', 'Description', 'IconUrl',
    'HighResolutionIconUrl', 'SupportUrl', 'AppDomains', 'Hosts', 'Requirements', 'FormSettings', 'Permissions',
    'Rule', 'DisableEntityHighlighting', 'VersionOverrides',
  ];
  const positions = manifest.children.map((c) => order.indexOf(c));
  assert.ok(!positions.includes(-1), `unknown element among ${manifest.children}`);
  assert.deepEqual(positions, [...positions].sort((a, b) => a - b), `out of order: ${manifest.children}`);
  for (const required of ['Id', 'Version', 'ProviderName', 'DefaultLocale', 'DisplayName', 'Description', 'IconUrl', 'FormSettings', 'Permissions', 'Rule']) {
    assert.ok(manifest.children.includes(required), `${required} is missing`);
  }
});

test('id, version, names and requirements are valid', () => {
  assert.match(manifest.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i, 'Id is a GUID');
  assert.match(manifest.version, /^(0|[1-9]\d{0,4})(\.(0|[1-9]\d{0,4})){0,3}$/, 'Version is n[.n[.n[.n]]]');
  assert.equal(manifest.locale, 'en-US');
  assert.ok(manifest.provider && manifest.provider.length <= 125);
  assert.ok(manifest.displayName && manifest.displayName.length <= 125);
  assert.ok(manifest.description && manifest.description.length <= 250);
  assert.deepEqual(manifest.hosts, ['Mailbox']);
  assert.deepEqual(manifest.sets, [{ name: 'Mailbox', min: '1.5' }]);
  assert.equal(manifest.permissions, 'ReadItem', 'getAsFileAsync needs read item; nothing more is asked');
  assert.equal(manifest.formType, 'ItemRead');
  assert.ok(Number(manifest.formHeight) >= 32 && Number(manifest.formHeight) <= 450);
  assert.deepEqual(
    manifest.rules.map((r) => `${r.type}:${r.item}:${r.form}`).sort(),
    ['ItemIs:Appointment:Read', 'ItemIs:Message:Read'],
  );
});

test('VersionOverrides 1.0 with 1.1 inside: buttons on message and appointment surfaces, a pinnable pane', () => {
  assert.equal(manifest.overrides.length, 2);
  const [v10, v11] = manifest.overrides;
  assert.equal(v10.ns, 'http://schemas.microsoft.com/office/mailappversionoverrides');
  assert.equal(v10.type, 'VersionOverridesV1_0');
  assert.equal(v11.ns, 'http://schemas.microsoft.com/office/mailappversionoverrides/1.1');
  assert.equal(v11.type, 'VersionOverridesV1_1');
  assert.deepEqual(v10.children, ['Requirements', 'Hosts', 'Resources', 'VersionOverrides'], 'the nested 1.1 comes last');
  assert.deepEqual(v11.children, ['Requirements', 'Hosts', 'Resources']);
  for (const vo of [v10, v11]) {
    assert.equal(vo.hostType, 'MailHost');
    assert.deepEqual(vo.requirement, [{ min: '1.5', names: ['Mailbox'] }]);
    assert.deepEqual(
      vo.points.map((p) => p.type),
      ['MessageReadCommandSurface', 'AppointmentAttendeeCommandSurface', 'AppointmentOrganizerCommandSurface'],
    );
    const ids = vo.points.flatMap((p) => [...p.groups, ...p.controls.map((c) => c.id)]);
    assert.equal(new Set(ids).size, ids.length, 'group and control ids are unique');
    for (const p of vo.points) {
      assert.equal(p.controls.length, 1);
      const [control] = p.controls;
      assert.equal(control.type, 'Button');
      assert.equal(control.action, 'ShowTaskpane');
      assert.deepEqual(control.sizes, ['16', '32', '80'], 'button icons at 16, 32 and 80 px');
      assert.equal(control.pinning, vo === v11 ? 'true' : null, 'SupportsPinning exists only in 1.1, and is on there');
    }
  }
});

test('every resource id resolves to a resource of the right kind and length', () => {
  for (const vo of manifest.overrides) {
    const kindOf = {
      Image: 'Images',
      SourceLocation: 'Urls',
      Label: 'ShortStrings',
      Title: 'ShortStrings',
      Description: 'LongStrings',
    };
    for (const ref of vo.refs) {
      const group = kindOf[ref.element];
      assert.ok(group, `unexpected resid on <${ref.element}>`);
      const found = (vo.table[group] ?? []).find((r) => r.id === ref.resid);
      assert.ok(found, `resid ${ref.resid} (${ref.element}) is not among ${group} of ${vo.type}`);
    }
    for (const [group, resources] of Object.entries(vo.table)) {
      for (const r of resources) {
        assert.ok(r.id.length >= 1 && r.id.length <= 32, `resource id ${r.id} is 1 to 32 characters`);
        assert.ok(r.value, `resource ${r.id} has a DefaultValue`);
        if (group === 'ShortStrings') assert.ok(r.value.length <= 125, `${r.id} is at most 125 characters`);
        if (group === 'LongStrings') assert.ok(r.value.length <= 250, `${r.id} is at most 250 characters`);
      }
      const ids = resources.map((r) => r.id);
      assert.equal(new Set(ids).size, ids.length, `ids in ${group} are unique`);
    }
  }
});

test('every URL is HTTPS on localhost:3443 and inside the app domains', () => {
  assert.ok(manifest.urls.length >= 8);
  for (const url of manifest.urls) {
    assert.ok(url.startsWith(`${MANIFEST_ORIGIN}/`) || url === MANIFEST_ORIGIN, `${url} must be on ${MANIFEST_ORIGIN}`);
  }
  assert.deepEqual(manifest.appDomains, [MANIFEST_ORIGIN]);
});

test('every URL of the manifest is served by the backend; icons are PNGs of the size named', async () => {
  const sizes = new Map([
    [manifest.iconUrl, 64],
    [manifest.highResolutionIconUrl, 128],
  ]);
  for (const vo of manifest.overrides) {
    for (const ref of vo.refs.filter((r) => r.element === 'Image')) {
      const url = vo.table.Images.find((r) => r.id === ref.resid).value;
      sizes.set(url, Number(ref.size));
    }
  }
  for (const url of new Set(manifest.urls.filter((u) => u !== MANIFEST_ORIGIN))) {
    const res = await fetch(served(url));
    assert.equal(res.status, 200, `${url} is served`);
    const body = Buffer.from(await res.arrayBuffer());
    if (sizes.has(url)) {
      assert.match(res.headers.get('content-type') ?? '', /^image\/png/, `${url} is a PNG`);
      const [w, h] = pngSize(body);
      assert.deepEqual([w, h], [sizes.get(url), sizes.get(url)], `${url} is ${sizes.get(url)} px square`);
    } else {
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/, `${url} is a page`);
    }
  }
});

test('the committed icons exist at every size the manifest asks for', () => {
  const files = readdirSync(path.join(ADDIN, 'assets')).filter((f) => f.endsWith('.png')).sort();
  assert.deepEqual(files, ['icon-128.png', 'icon-16.png', 'icon-32.png', 'icon-64.png', 'icon-80.png']);
  for (const f of files) {
    const size = Number(f.match(/\d+/)[0]);
    assert.deepEqual(pngSize(readFileSync(path.join(ADDIN, 'assets', f))), [size, size]);
  }
});

test('the engine module and its WebAssembly are served, the .wasm as application/wasm', async () => {
  const js = await fetch(`${backend.origin}/pkg/invitelink.js`);
  assert.equal(js.status, 200, 'pkg/ is built (cargo xtask pkg) and served at /pkg/');
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  const wasm = await fetch(`${backend.origin}/pkg/invitelink_bg.wasm`);
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
});

test('the pane has a Content-Security-Policy for WebAssembly and the Office CDN alone', async () => {
  const html = await (await fetch(served(manifest.formSource))).text();
  const csp = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/)?.[1];
  assert.ok(csp, 'the page has a CSP meta element');
  const directives = Object.fromEntries(
    csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]),
  );
  assert.deepEqual(directives['default-src'], ["'self'"]);
  assert.deepEqual(directives['script-src'].sort(), ["'self'", "'wasm-unsafe-eval'", 'https://appsforoffice.microsoft.com'].sort());
  assert.deepEqual(directives['object-src'], ["'none'"]);
  assert.ok(!csp.includes("'unsafe-inline'") && !csp.includes("'unsafe-eval'"), 'no inline scripts, no eval');
  assert.ok(html.includes('<script src="https://appsforoffice.microsoft.com/lib/1/hosted/office.js"></script>'), 'Office.js from the CDN');
});

test('the pane never writes markup from data: no innerHTML, outerHTML, insertAdjacentHTML, document.write or eval', () => {
  const dir = path.join(ADDIN, 'src');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
    const code = readFileSync(path.join(dir, f), 'utf8').replace(/\/\/.*$/gm, '');
    for (const sink of ['.innerHTML', '.outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function']) {
      assert.ok(!code.includes(sink), `${f} uses ${sink}`);
    }
  }
});

// The unified manifest beside the XML one.

/** The XML manifest's permission, as the unified manifest names it (Microsoft's table for Outlook). */
const PERMISSIONS = {
  Restricted: 'MailboxItem.Restricted.User',
  ReadItem: 'MailboxItem.Read.User',
  ReadWriteItem: 'MailboxItem.ReadWrite.User',
  ReadWriteMailbox: 'Mailbox.ReadWrite.User',
};

/** The XML manifest's command surfaces, as the unified manifest's ribbon contexts. */
const SURFACES = {
  MessageReadCommandSurface: 'mailRead',
  MessageComposeCommandSurface: 'mailCompose',
  AppointmentAttendeeCommandSurface: 'meetingDetailsAttendee',
  AppointmentOrganizerCommandSurface: 'meetingDetailsOrganizer',
};

function unified() {
  return JSON.parse(readFileSync(UNIFIED_MANIFEST, 'utf8'));
}

/** Every string in a JSON value that is an absolute URL (but `$schema`, which names the manifest's schema). */
function jsonUrls(value, out = []) {
  if (typeof value === 'string') {
    if (/^[a-z]+:\/\//i.test(value)) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) jsonUrls(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k !== '$schema') jsonUrls(v, out);
  }
  return out;
}

const sorted = (list) => [...new Set(list)].sort();

test('manifest.json is what the converter makes of manifest.xml today (write it again with `node support/unified.mjs`)', async () => {
  const fresh = format(await convertManifest());
  assert.equal(readFileSync(UNIFIED_MANIFEST, 'utf8'), fresh, 'manifest.json is out of date: run `node support/unified.mjs` in addin/tests');
});

test('both manifests name the same URLs, the app icons as files of addin/', () => {
  const json = unified();
  for (const kind of ['outline', 'color']) {
    const icon = json.icons[kind];
    assert.match(icon, /^assets\/icon-\d+\.png$/, `icons.${kind} is a file of the package`);
    assert.ok(readFileSync(path.join(ADDIN, icon)).length > 0);
  }
  assert.match(json.$schema, new RegExp(`/v${json.manifestVersion.replace('.', '\\.')}/MicrosoftTeams\\.schema\\.json#?$`));
  const named = [...jsonUrls(json), ...['outline', 'color'].map((k) => `${MANIFEST_ORIGIN}/addin/${json.icons[k]}`)];
  assert.deepEqual(sorted(named), sorted(manifest.urls));
  assert.deepEqual(json.validDomains, manifest.appDomains);
  assert.equal(json.developer.websiteUrl, manifest.supportUrl);
  assert.equal(`${MANIFEST_ORIGIN}/addin/${json.icons.outline}`, manifest.iconUrl);
  assert.equal(`${MANIFEST_ORIGIN}/addin/${json.icons.color}`, manifest.highResolutionIconUrl);
  const pages = json.extensions.flatMap((e) => e.runtimes.map((r) => r.code.page));
  assert.deepEqual(sorted(pages), [manifest.formSource]);
});

test('both manifests ask for the same permission, the same add-in id and version, and the same name', () => {
  const json = unified();
  assert.ok(PERMISSIONS[manifest.permissions], `a known permission: ${manifest.permissions}`);
  assert.deepEqual(
    json.authorization.permissions.resourceSpecific.map((p) => [p.name, p.type]),
    [[PERMISSIONS[manifest.permissions], 'Delegated']],
  );
  assert.equal(json.id, manifest.id);
  assert.equal(json.version, manifest.version.split('.').slice(0, 3).join('.'), 'the unified version is the XML one without its fourth part');
  assert.equal(json.name.short, manifest.displayName);
  assert.equal(json.description.full, manifest.description);
  assert.ok(!JSON.stringify(json).includes('<TRUNCATED>'), 'nothing was cut short (description.short is 80 characters at most)');
});

test('both manifests put the pane on the same surfaces, for the same requirement set, pinnable where the XML says so', () => {
  const json = unified();
  const [extension, ...others] = json.extensions;
  assert.equal(others.length, 0, 'one extension');
  assert.deepEqual(manifest.hosts, ['Mailbox']);
  assert.deepEqual(extension.requirements.scopes, ['mail']);
  assert.deepEqual(
    extension.requirements.capabilities.map((c) => [c.name, c.minVersion]),
    manifest.sets.map((s) => [s.name, s.min]),
  );
  const xmlSurfaces = manifest.overrides.flatMap((vo) => vo.points.map((p) => SURFACES[p.type] ?? `unknown ${p.type}`));
  const jsonSurfaces = extension.ribbons.flatMap((r) => r.contexts);
  assert.deepEqual(sorted(jsonSurfaces), sorted(xmlSurfaces));
  assert.equal(sorted(xmlSurfaces).length, 3);
  for (const ribbon of extension.ribbons) {
    assert.deepEqual(ribbon.requirements.scopes, ['mail']);
    assert.deepEqual(
      ribbon.requirements.capabilities.map((c) => [c.name, c.minVersion]),
      manifest.sets.map((s) => [s.name, s.min]),
    );
  }
  // Every button opens the pane; the controls and their pinning match the XML's, surface by surface.
  const actions = new Map(extension.runtimes.flatMap((r) => r.actions.map((a) => [a.id, a])));
  const jsonControls = extension.ribbons.flatMap((r) =>
    r.tabs.flatMap((t) => t.groups.flatMap((g) => g.controls.map((c) => ({ surface: r.contexts.join(), id: c.id, action: actions.get(c.actionId) })))),
  );
  for (const c of jsonControls) {
    assert.equal(c.action?.type, 'openPage', `${c.id} opens the pane`);
  }
  const xmlControls = manifest.overrides.flatMap((vo) =>
    vo.points.flatMap((p) => p.controls.map((c) => `${SURFACES[p.type]} ${c.id} ${c.action} ${c.pinning === 'true'}`)),
  );
  const jsonShown = jsonControls.map((c) => `${c.surface} ${c.id} ShowTaskpane ${c.action.pinnable}`);
  assert.deepEqual(jsonShown.sort(), xmlControls.sort());
});
