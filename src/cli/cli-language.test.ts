/** The CLI speaks the language of the messages locale (LC_ALL > LC_MESSAGES > LANG), English by default. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../core/errors.ts';
import { cliErrorLine, cliLanguage } from './cli-language.ts';

test('the CLI language follows LC_ALL, then LC_MESSAGES, then LANG; fr_* is French, anything else English', () => {
  assert.equal(cliLanguage({}), 'en');
  assert.equal(cliLanguage({ LANG: 'fr_FR.UTF-8' }), 'fr');
  assert.equal(cliLanguage({ LANG: 'fr' }), 'fr');
  assert.equal(cliLanguage({ LANG: 'fr_BE@euro' }), 'fr');
  assert.equal(cliLanguage({ LANG: 'fy_NL.UTF-8' }), 'en', 'Frisian is not French');
  assert.equal(cliLanguage({ LANG: 'fr_FR.UTF-8', LC_MESSAGES: 'C' }), 'en');
  assert.equal(cliLanguage({ LANG: 'en_GB.UTF-8', LC_ALL: 'fr_CA.UTF-8' }), 'fr');
  assert.equal(cliLanguage({ LANG: 'fr_FR.UTF-8', LC_ALL: '' }), 'fr', 'an empty variable does not count');
});

test('a failed command prints its error in French under a French locale and as thrown otherwise', () => {
  const e = new AppError('NOT_FOUND', 'No such report.');
  assert.equal(cliErrorLine(e, { LANG: 'fr_FR.UTF-8' }), 'spamdesk: Ce signalement n’existe pas.\n');
  assert.equal(cliErrorLine(e, { LANG: 'C.UTF-8' }), 'spamdesk: No such report.\n');
  assert.equal(cliErrorLine(new Error('unknown text'), { LANG: 'fr_FR' }), 'spamdesk: unknown text\n');
});
