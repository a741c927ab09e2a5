/**
 * Error messages in French: every template is well formed, every code of the registry has its
 * French default, and the messages people meet at intake read in French with their details.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERRORS } from './errors.ts';
import { ERROR_TEXTS, errorMessageIn } from './error-texts.ts';
import { templateProblems } from './text-templates.ts';

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
