// The unified manifest (JSON, for the Microsoft 365 app model) made from
// manifest.xml by Microsoft's converter (npm: office-addin-manifest-converter).
// `addin/manifest.json` is its output, kept in the repository beside the XML
// manifest; manifest.test.mjs converts again and compares, so the two cannot
// drift apart. After a change to manifest.xml, write it again (in tests/):
//
//     node support/unified.mjs
//
// One change is made to the converter's output: the two app icons, which it
// names by their URL's path (`addin/assets/icon-64.png`), are named relative
// to addin/ (`assets/icon-64.png`), where the files are, so that manifest.json
// and assets/ zip together as the app package.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convert } from 'office-addin-manifest-converter';
import { root } from './backend.mjs';

export const ADDIN = path.join(root, 'addin');
export const XML_MANIFEST = path.join(ADDIN, 'manifest.xml');
export const UNIFIED_MANIFEST = path.join(ADDIN, 'manifest.json');

/** The converter's JSON manifest for manifest.xml, with the icon paths made relative to addin/. */
export async function convertManifest() {
  const out = mkdtempSync(path.join(os.tmpdir(), 'invitelink-manifest-'));
  const log = console.log;
  try {
    // The converter reports each step on the console; only its result matters here.
    console.log = () => {};
    await convert(XML_MANIFEST, out, false, null, null, false);
  } finally {
    console.log = log;
  }
  try {
    const json = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    for (const kind of ['outline', 'color']) {
      const icon = json.icons?.[kind];
      if (typeof icon === 'string' && icon.startsWith('addin/')) json.icons[kind] = icon.slice('addin/'.length);
    }
    return json;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The text of addin/manifest.json for this manifest (two-space indent, final newline). */
export function format(json) {
  return `${JSON.stringify(json, null, 2)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(UNIFIED_MANIFEST, format(await convertManifest()));
  console.log(`wrote ${path.relative(process.cwd(), UNIFIED_MANIFEST)}`);
}
