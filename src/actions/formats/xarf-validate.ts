/**
 * Validates X-ARF v4 reports against the project's copy of the official schemas
 * (`xarf-v4-schemas/`, MIT, from github.com/xarf/xarf-spec). Digests are validated before they
 * are queued, so an operator never receives a report its tooling would reject.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { createRequire } from 'node:module';
import type { FormatsPlugin } from 'ajv-formats';

const SCHEMA_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'xarf-v4-schemas');
const MASTER_ID = 'https://xarf.org/schemas/v4/xarf-v4-master.json';

let compiled: ValidateFunction | undefined;

function schemaFiles(): string[] {
  const types = fs
    .readdirSync(path.join(SCHEMA_DIR, 'types'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => path.join(SCHEMA_DIR, 'types', f));
  return [path.join(SCHEMA_DIR, 'xarf-core.json'), path.join(SCHEMA_DIR, 'xarf-v4-master.json'), ...types];
}

/** The compiled master schema (draft 2020-12, formats checked). */
export function xarfValidator(): ValidateFunction {
  if (compiled) return compiled;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  // ajv-formats is CommonJS with `module.exports = plugin`; require() gives the function itself.
  const addFormats: FormatsPlugin = createRequire(import.meta.url)('ajv-formats');
  addFormats(ajv);
  for (const f of schemaFiles()) ajv.addSchema(JSON.parse(fs.readFileSync(f, 'utf8')));
  const v = ajv.getSchema(MASTER_ID);
  if (!v) throw new Error(`X-ARF master schema ${MASTER_ID} not found in ${SCHEMA_DIR}`);
  compiled = v;
  return v;
}

/** Problems of one report against the X-ARF v4 master schema; empty when valid. */
export function xarfProblems(report: unknown): string[] {
  const v = xarfValidator();
  if (v(report)) return [];
  return (v.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'invalid'}`);
}
