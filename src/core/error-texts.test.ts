/**
 * Error messages in French: every template is well formed, every code of the registry has its
 * French default, and the messages people meet at intake read in French with their details.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERRORS } from './errors.ts';
import { ERROR_TEXTS, errorMessageIn } from './error-texts.ts';
import { templateProblems } from './text-templates.ts';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Every message a module under `dir` throws as `new AppError('CODE', '…' or `…`)`, with each
 * `${…}` replaced by a sample value, and where it is thrown.
 */
function thrownMessages(dir: string): { message: string; where: string }[] {
  const out: { message: string; where: string }[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        const text = fs.readFileSync(p, 'utf8');
        const re = /new AppError\(\s*'[A-Z_]+',\s*(`(?:[^`\\]|\\.)*`|'(?:[^'\\]|\\.)*')/g;
        for (const m of text.matchAll(re)) {
          const body = m[1].slice(1, -1).replace(/\\\n/g, '').replace(/\\'/g, "'");
          const line = text.slice(0, m.index).split('\n').length;
          out.push({ message: body.replace(/\$\{[^}]*\}\}?/g, '7'), where: `${path.relative(SRC, p)}:${line}` });
        }
      }
    }
  };
  walk(dir);
  return out;
}

test('every error template has the same parameters in both languages, every code a French default', () => {
  assert.deepEqual(templateProblems(ERROR_TEXTS), []);
  for (const def of Object.values(ERRORS)) assert.notEqual(errorMessageIn(def.message, 'fr'), def.message);
});

test('intake messages read in French with their details; an unknown one stays as written', () => {
  assert.equal(
    errorMessageIn('The bytes are not an e-mail message: the header block holds 12 binary control characters.', 'fr'),
    'Ces octets ne forment pas un courriel\u00a0: le bloc d’en-têtes contient 12 caractères de contrôle binaires.',
  );
  assert.equal(
    errorMessageIn('spam.eml: The message is larger than the configured limit of 1048576 bytes.', 'fr'),
    'spam.eml\u00a0: Le message dépasse la taille maximale configurée de 1\u202f048\u202f576 octets.',
  );
  assert.equal(errorMessageIn('The bytes are not an e-mail message.', 'en'), 'The bytes are not an e-mail message.');
  assert.equal(errorMessageIn('body.raw: Required', 'fr'), 'body.raw\u00a0: Required');
  assert.equal(errorMessageIn('Something else entirely.', 'fr'), 'Something else entirely.');
});

test('every message the actions API throws reads in French (not only its punctuation)', () => {
  const thrown = thrownMessages(path.join(SRC, 'actions'));
  assert.ok(thrown.length >= 50, `found ${thrown.length} messages`);
  const bare = (x: string) => x.replace(/[\s\u00a0\u202f]/g, '');
  // `field: ${problem}` carries a message translated by its own template (checked below).
  const nested = /^[\w.]+: 7$/;
  const untranslated = thrown.filter(
    (m) => !nested.test(m.message) && bare(errorMessageIn(m.message, 'fr')) === bare(m.message),
  );
  assert.deepEqual(
    untranslated.map((m) => `${m.where}: ${m.message}`),
    [],
  );
});

test("a field's problem reads in French inside its message", () => {
  assert.equal(errorMessageIn('url: not a URL', 'fr'), 'url\u00a0: ce n’est pas une URL');
  assert.equal(
    errorMessageIn('url: plain http:// is allowed only to a loopback address', 'fr'),
    'url\u00a0: http:// en clair n’est permis que vers une adresse de bouclage',
  );
});
