/**
 * Validates STIX 2.1 objects and bundles against the project's copy of the OASIS STIX 2.1 JSON
 * schemas (`stix21-schemas/`, BSD-3-Clause, from github.com/oasis-open/cti-stix2-json-schemas).
 * The tests validate everything the feeds publish; `spamdesk intel stix --validate` does the same
 * for an exported bundle.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { FormatsPlugin } from 'ajv-formats';

const SCHEMA_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'stix21-schemas');
const BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/';
const BUNDLE_ID = `${BASE}common/bundle.json`;

let ajvInstance: Ajv2020 | undefined;

function schemaFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...schemaFiles(p));
    else if (e.name.endsWith('.json')) out.push(p);
  }
  return out.sort();
}

/** One Ajv instance with every schema of the tree (draft 2020-12, formats checked). */
function ajvOf(): Ajv2020 {
  if (ajvInstance) return ajvInstance;
  // The OASIS patterns escape '-' outside classes, which Unicode-mode regular expressions refuse.
  const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false });
  // ajv-formats is CommonJS with `module.exports = plugin`; require() gives the function itself.
  const addFormats: FormatsPlugin = createRequire(import.meta.url)('ajv-formats');
  addFormats(ajv);
  // ajv-formats has no internationalised host names (RFC 5890): labels of any script, no spaces.
  ajv.addFormat('idn-hostname', /^(?=.{1,253}\.?$)[^\s./\\@:]{1,63}(?:\.[^\s./\\@:]{1,63})*\.?$/u);
  for (const f of schemaFiles(SCHEMA_DIR)) ajv.addSchema(JSON.parse(fs.readFileSync(f, 'utf8')));
  ajvInstance = ajv;
  return ajv;
}

function schema(id: string): ValidateFunction {
  const v = ajvOf().getSchema(id);
  if (!v) throw new Error(`STIX schema ${id} not found in ${SCHEMA_DIR}`);
  return v;
}

/**
 * Problems of a bundle against the STIX 2.1 schemas; empty when valid. The bundle schema accepts
 * any object as a custom object when no standard schema matches (its `anyOf`), so each standard
 * object is also checked against its own type's schema, which names the property at fault.
 */
export function stixProblems(bundle: unknown): string[] {
  const v = schema(BUNDLE_ID);
  const problems: string[] = [];
  if (!v(bundle))
    problems.push(...(v.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'invalid'}`));
  const objects = (bundle as { objects?: unknown }).objects;
  if (Array.isArray(objects)) {
    objects.forEach((o, i) => {
      for (const p of stixObjectProblems(o)) problems.push(`/objects/${i} ${p}`);
    });
  }
  return problems;
}

const FOLDERS: Record<string, string> = {
  campaign: 'sdos',
  identity: 'sdos',
  indicator: 'sdos',
  relationship: 'sros',
  sighting: 'sros',
  'marking-definition': 'common',
};

/** Problems of one object against the schema of its type (only the types the feeds publish). */
export function stixObjectProblems(o: unknown): string[] {
  const type = typeof o === 'object' && o !== null ? (o as { type?: unknown }).type : undefined;
  if (typeof type !== 'string' || !FOLDERS[type]) return [`unexpected object type ${String(type)}`];
  const v = schema(`${BASE}${FOLDERS[type]}/${type}.json`);
  if (v(o)) return [];
  return (v.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'invalid'}`);
}
