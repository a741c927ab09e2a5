/**
 * The administration pages, the password page and the monthly report in French: no string of the
 * English catalogue that differs from its French entry appears on them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { en } from '../locales/en.ts';
import { fr } from '../locales/fr.ts';
import { createAuthority } from '../../actions/cases/authorities.ts';
import { registerOperator } from '../../actions/isp/operators.ts';
import { registerSender } from '../../actions/fbl/sender-feedback.ts';
import { MONTHLY_LABELS_EN, MONTHLY_LABELS_FR } from '../../actions/monthly-report/labels.ts';
import { createTestApp, userWithSession } from '../test-helpers.ts';

/** English strings that would betray an untranslated text (long enough not to be a word both share). */
const ENGLISH = [
  // The language switcher names English in English ('lang.name'), whichever key shares that word.
  ...Object.entries(en).filter(([k, v]) => v !== en['lang.name'] && v !== fr[k as keyof typeof fr]),
  ...Object.entries(MONTHLY_LABELS_EN).filter(([k, v]) => v !== MONTHLY_LABELS_FR[k as keyof typeof MONTHLY_LABELS_FR]),
]
  .map(([, v]) => v)
  .filter((v) => v.length >= 6 && !v.includes('{'));

test('the admin pages and the monthly report speak French', async (t) => {
  const h = await createTestApp(t, 'sqlite');
  if (!h) return;
  const { app, ctx } = h;
  const { db, config } = ctx;
  const admin = await userWithSession(db, config, 'admin');
  const a = await createAuthority(db, {
    name: 'CNIL',
    country: 'FR',
    competence: 'data_protection',
    contactKind: 'email',
    contact: 'plaintes@cnil.example',
  });
  const op = await registerOperator(db, { name: 'Orange', abuseAddress: 'abuse@orange.example', asns: [3215] });
  const s = await registerSender(db, { name: 'News', feedbackAddress: 'fbl@news.example' });
  const pages = [
    '/admin',
    '/admin/users',
    `/admin/users/${admin.id}`,
    '/admin/tokens',
    '/admin/authorities',
    `/admin/authorities/${a.id}`,
    '/admin/operators',
    `/admin/operators/${op.id}`,
    '/admin/partners',
    '/admin/senders',
    `/admin/senders/${s.id}`,
    '/account/password',
    '/monthly-report?month=2026-11',
  ];
  for (const url of pages) {
    const res = await app.inject({
      method: 'GET',
      url: `${url}${url.includes('?') ? '&' : '?'}lang=fr`,
      headers: { cookie: admin.cookie },
    });
    assert.equal(res.statusCode, 200, url);
    const text = res.body
      .replace(/<[^>]+>/g, ' ')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&');
    // Whole words only: "active" is inside the French "désactiver".
    const found = ENGLISH.filter((e) =>
      new RegExp(`(?<![\\p{L}])${e.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}])`, 'u').test(text),
    );
    assert.deepEqual(found, [], `${url} shows English: ${found.join(' | ')}`);
  }
});
