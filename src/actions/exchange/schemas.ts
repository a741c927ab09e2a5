/**
 * The exchange format's JSON schemas, validated from the very files the documentation publishes
 * (`docs/schemas/exchange/*.schema.json`, see docs/exchange.md): what a non-Spamdesk authority
 * implements is what this instance checks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import type { FormatsPlugin } from 'ajv-formats';

export const EXCHANGE_SCHEMA_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../docs/schemas/exchange',
);
export const EXCHANGE_SCHEMAS = ['status-v1', 'referral-v1'] as const;
export type ExchangeSchema = (typeof EXCHANGE_SCHEMAS)[number];

const compiled = new Map<ExchangeSchema, ValidateFunction>();

function validator(name: ExchangeSchema): ValidateFunction {
  const known = compiled.get(name);
  if (known) return known;
  const ajv = new Ajv({ strict: false, allErrors: true });
  const addFormats: FormatsPlugin = createRequire(import.meta.url)('ajv-formats');
  addFormats(ajv);
  const schema = JSON.parse(fs.readFileSync(path.join(EXCHANGE_SCHEMA_DIR, `${name}.schema.json`), 'utf8'));
  const v = ajv.compile(schema);
  compiled.set(name, v);
  return v;
}

/** Problems of a document against one of the exchange schemas; empty when valid. */
export function exchangeSchemaProblems(name: ExchangeSchema, doc: unknown): string[] {
  const v = validator(name);
  if (v(doc)) return [];
  return (v.errors ?? []).slice(0, 20).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'invalid'}`);
}
