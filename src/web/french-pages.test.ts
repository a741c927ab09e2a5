/**
 * French throughout (issue 18): both catalogues have the same keys; no French entry is left in
 * English (except those listed with the reason they are the same in both languages); French
 * typography; and every page, rendered in French with each role that can see it, over real corpus
 * messages analysed by the real pipeline (so the trace-back narrative and the findings appear),
 * shows no string of the English catalogue and no English sentence that the English rendering of
 * the same page also shows (a string written into a page instead of the catalogue).
 * The page checks live in `test-french.ts`, shared with the end-to-end tests in Chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { en } from './locales/en.ts';
import { fr } from './locales/fr.ts';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { ROLES, type Role } from '../core/roles.ts';
import { DIALECTS } from '../db/test-databases.ts';
import { drainPipeline } from '../app/test-pipeline.ts';
import { openCase } from '../actions/cases/cases.ts';
import { registerOperator } from '../actions/isp/operators.ts';
import { newId, nowIso } from '../core/ids.ts';
import { indexAll } from './indexer.ts';
import { SAME_IN_BOTH, englishCatalogueIn, readableText, sameEnglishTexts } from './test-french.ts';
import { anonymousCsrf, createTestApp, multipart, sampleSpam, userWithSession } from './test-helpers.ts';
import { createToken } from '../db/tokens.ts';
import { SMS_REPLIES } from '../intake/sms/sms-intake.ts';
import { renderAck } from '../intake/smtp/ack.ts';
import { regionLanguage, smsReplyLanguage } from '../core/languages.ts';

test('both catalogues have exactly the same keys and the same parameters', () => {
  const enKeys = Object.keys(en).sort();
  const frKeys = Object.keys(fr).sort();
  assert.deepEqual(
    frKeys.filter((k) => !Object.hasOwn(en, k)),
    [],
    'keys in fr.ts and not in en.ts',
  );
  assert.deepEqual(
    enKeys.filter((k) => !Object.hasOwn(fr, k)),
    [],
    'keys in en.ts and not in fr.ts',
  );
  const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  const differ = enKeys.filter(
    (k) => params(en[k as keyof typeof en]).join() !== params(fr[k as keyof typeof fr]).join(),
  );
  assert.deepEqual(differ, [], 'entries whose parameters differ between the languages');
});

test('no French entry is left in English, except the listed ones', () => {
  const same = Object.keys(en).filter((k) => en[k as keyof typeof en] === fr[k as keyof typeof fr]);
  assert.deepEqual(
    same.filter((k) => !Object.hasOwn(SAME_IN_BOTH, k)),
    [],
    'untranslated entries (translate them, or list them in SAME_IN_BOTH with the reason)',
  );
  assert.deepEqual(
    Object.keys(SAME_IN_BOTH).filter((k) => !same.includes(k)),
    [],
    'SAME_IN_BOTH lists entries that are now translated',
  );
});

/** French typography: the problems of one French text. */
export function typographyProblems(s: string): string[] {
  const out: string[] = [];
  if (/'/.test(s)) out.push('straight apostrophe (use ’)');
  if (/[^\u202f]([;?!])(\s|$)/.test(s)) out.push('no narrow no-break space (U+202F) before ; ? !');
  if (/[^\u00a0\s]:(\s|$)/.test(s.replace(/« [\w-]+: »|«\u00a0[\w-]+:\u00a0»/g, ''))) {
    out.push('no no-break space (U+00A0) before :');
  }
  if (/ :/.test(s)) out.push('ordinary space before : (use U+00A0)');
  if (/«(?!\u00a0)|(?<!\u00a0)»/.test(s)) out.push('« » without no-break spaces inside');
  if (/"/.test(s)) out.push('English quotation marks (use « »)');
  return out;
}

test('French entries follow French typography', () => {
  const bad = Object.entries(fr).flatMap(([k, v]) => typographyProblems(v).map((p) => `${k}: ${p}`));
  assert.deepEqual(bad, []);
});

// ── the pages ───────────────────────────────────────────────────────────────────────────────

test('the page checks catch English and leave data, names and the language switcher alone', () => {
  const page = (lang: string, body: string) =>
    `<html lang="${lang}"><head><title>T</title></head><body><nav><a lang="en" href="?lang=en">English</a>\
<strong lang="fr">Français</strong></nav>${body}</body></html>`;
  const frDoc = page(
    'fr',
    `<h1>${fr['detail.summary']}</h1><p>Received</p><p>Hop 3 sits below the origin</p>\
<td translate="no">Received: from mx.example.org</td><p>Spamdesk · SMTP · Canada</p>\
<span lang="en" data-untranslated="">Something</span><button title="Sign in">x</button>`,
  );
  const enDoc = page(
    'en',
    `<h1>${en['detail.summary']}</h1><p>Received</p><p>Hop 3 sits below the origin</p>\
<td translate="no">Received: from mx.example.org</td><p>Spamdesk · SMTP · Canada</p>`,
  );
  const f = readableText(frDoc);
  assert.deepEqual(f.untranslated, ['span']);
  assert.ok(!f.texts.includes('English'), 'the switcher’s other language is skipped');
  assert.ok(!f.texts.some((x) => x.includes('mx.example.org')), 'data is skipped');
  const caught = englishCatalogueIn(f.texts);
  assert.ok(
    caught.some((c) => c.startsWith('track.received:')),
    caught.join(),
  );
  assert.ok(
    caught.some((c) => c.startsWith('nav.login:')),
    'attributes people read are checked',
  );
  assert.deepEqual(sameEnglishTexts(f.texts, readableText(enDoc).texts), ['Received', 'Hop 3 sits below the origin']);
});

/** A few corpus messages of each kind: spam, phishing, an SMS. */
function corpusMessages(): Buffer[] {
  const pick = (dir: string, re: RegExp, n: number) =>
    fs
      .readdirSync(dir)
      .filter((f) => re.test(f))
      .sort()
      .slice(0, n)
      .map((f) => fs.readFileSync(path.join(dir, f)));
  return [
    ...pick(path.join(CORPUS_DIR, 'spamassassin', 'spam'), /^\d{5}\./, 6),
    ...pick(path.join(CORPUS_DIR, 'phishing_pot', 'email'), /^sample-\d+\.eml$/, 6),
  ];
}

function smsSpam(): string[] {
  return fs
    .readFileSync(path.join(CORPUS_DIR, 'sms_spam_collection', 'SMSSpamCollection'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('spam\t'))
    .slice(0, 2)
    .map((l) => l.slice(5));
}

function getRoutes(app: FastifyInstance): string[] {
  const urls = new Set<string>();
  for (const r of app.routeTable)
    if (r.method === 'GET' && !r.url.includes('*') && !r.url.startsWith('/api/') && !r.url.startsWith('/static/'))
      urls.add(r.url);
  return [...urls].sort();
}

for (const dialect of DIALECTS) {
  test(`every page in French shows no English (${dialect})`, async (t) => {
    if (!needsCorpus(t, 'spamassassin/spam') || !needsCorpus(t, 'phishing_pot/email')) return;
    const h = await createTestApp(t, dialect, { anonRateLimit: 100_000, dnsMode: 'offline' });
    if (!h) return;
    const { ctx, app } = h;
    const { db, config } = ctx;
    await app.ready();
    const users = new Map<Role | 'anonymous', string>([['anonymous', '']]);
    for (const role of ROLES) {
      const u = await userWithSession(
        db,
        config,
        role,
        role === 'network_operator' ? { networks: [64500] } : role === 'authority' ? { authorityId: 'a-1' } : {},
      );
      users.set(role, u.cookie);
    }
    const stored = await ctx.writer.submit([
      ...corpusMessages().map((raw) => ({ raw, channel: 'web' as const })),
      { raw: sampleSpam(), channel: 'web' as const },
    ]);
    const sms = [];
    for (const text of smsSpam()) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/sms-reports',
        headers: { 'content-type': 'application/json', cookie: users.get('reporter') ?? '' },
        payload: JSON.stringify({ sender: '+33612345678', text }),
      });
      sms.push(res.statusCode);
    }
    await drainPipeline(ctx, 'french-test');
    await indexAll(db);
    const campaign = await db.selectFrom('campaigns').select('id').executeTakeFirst();
    await openCase(db, {
      targetKind: 'campaign',
      targetValue: campaign?.id ?? 'none',
      title: `phishing campaign ${campaign?.id ?? 'none'}`,
      category: 'phishing',
      openedBy: 'system',
    });
    const op = await registerOperator(db, { name: 'Example NOC', abuseAddress: 'abuse@isp.example', asns: [64500] });
    await db
      .insertInto('action_isp_alerts')
      .values({
        id: newId(),
        operator_id: op.id,
        asn: 64500,
        ip: '203.0.113.7',
        first_seen: nowIso(),
        last_seen: nowIso(),
        report_count: 3,
        campaign_count: 2,
        evidence: '{}',
        digest_id: null,
        state: 'open',
        handled_at: null,
        handled_by: null,
        created_at: nowIso(),
      })
      .execute();
    await db.updateTable('web_report_index').set({ origin_asn: 64500 }).where('report_id', '=', stored[0].id).execute();

    const ids: Record<string, string[]> = {
      '/workbench/reports/:id': stored.map((s) => s.id),
      '/network/reports/:id': [stored[0].id],
      '/track/:token': [stored[0].trackingToken, 'no-such-token'],
      '/workbench/campaigns/:id': campaign ? [campaign.id] : [],
    };
    const failures: string[] = [];
    let pages = 0;
    for (const route of getRoutes(app)) {
      const params = route.includes(':') ? (ids[route] ?? [`unknown-${newId()}`]) : [''];
      for (const p of params) {
        const url = route.replace(/:\w+/, p);
        for (const [who, cookie] of users) {
          const get = (lang: string) =>
            app.inject({
              method: 'GET',
              url: `${url}${url.includes('?') ? '&' : '?'}lang=${lang}`,
              headers: { cookie },
            });
          const resFr = await get('fr');
          if (!String(resFr.headers['content-type'] ?? '').startsWith('text/html')) continue;
          if (resFr.statusCode >= 500) failures.push(`${url} as ${who}: ${resFr.statusCode}`);
          pages++;
          const resEn = await get('en');
          const frPage = readableText(resFr.body);
          const frText = frPage.texts;
          const enText = readableText(resEn.body).texts;
          if (frPage.untranslated.length > 0)
            failures.push(`${route} as ${who}: ${frPage.untranslated.length} sentence(s) no template translates`);
          for (const s of englishCatalogueIn(frText)) failures.push(`${route} as ${who}: catalogue ${s}`);
          for (const s of sameEnglishTexts(frText, enText)) failures.push(`${route} as ${who}: same "${s}"`);
        }
      }
    }
    assert.ok(pages > 40, `only ${pages} pages rendered`);
    const unique = [...new Set(failures.map((f) => f.replace(/ as \w+:/, ':')))];
    fs.mkdirSync('test-artifacts', { recursive: true });
    fs.writeFileSync(`test-artifacts/french-pages-${dialect}.txt`, unique.join('\n'));
    assert.deepEqual(unique, [], unique.join('\n'));
  });
}

// ── what reaches people outside the pages ───────────────────────────────────────────────────

test('intake errors in French for a browser and for an API client with Accept-Language: fr', async (t) => {
  const h = await createTestApp(t, 'sqlite', {}, { acceptLanguage: null });
  if (!h) return;
  const { app } = h;
  const garbage = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 9, 10, 0x7f, 0, 0]);
  const api = await app.inject({
    method: 'POST',
    url: '/api/v1/reports',
    headers: { 'content-type': 'message/rfc822', 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.5' },
    payload: Buffer.concat([Buffer.from('hello world\r\n\r\n'), garbage]),
  });
  assert.equal(api.statusCode, 400);
  assert.equal(api.headers['content-language'], 'fr');
  const body = api.json() as { error: string; message: string };
  assert.equal(body.error, 'NOT_AN_EMAIL', 'the machine code stays the same');
  assert.match(body.message, /^Ces octets ne forment pas un courriel\u00a0: /);
  const english = await app.inject({
    method: 'POST',
    url: '/api/v1/reports',
    headers: { 'content-type': 'message/rfc822', 'accept-language': 'en-GB' },
    payload: Buffer.from('hello world\r\n\r\nno headers'),
  });
  assert.equal(english.headers['content-language'], 'en');
  assert.match((english.json() as { message: string }).message, /^The bytes are not an e-mail message: /);
  // No Accept-Language: the instance region's language (the test instance's region is FR).
  const unasked = await app.inject({
    method: 'POST',
    url: '/api/v1/reports',
    headers: { 'content-type': 'message/rfc822' },
    payload: Buffer.from('hello world\r\n\r\nno headers'),
  });
  assert.equal(unasked.headers['content-language'], 'fr');
  assert.match((unasked.json() as { message: string }).message, /^Ces octets ne forment pas un courriel\u00a0: /);
  const notFound = await app.inject({ method: 'GET', url: '/api/v1/no-such-route' });
  assert.equal(notFound.headers['content-language'], 'fr');
  assert.match((notFound.json() as { message: string }).message, /^Aucune route GET \/api\/v1\/no-such-route\.$/);
  const anon = anonymousCsrf();
  const form = multipart([
    ['_csrf', anon.csrf],
    ['source', 'hello world, this is no message'],
  ]);
  const page = await app.inject({
    method: 'POST',
    url: '/report?lang=fr',
    headers: { 'content-type': form.contentType, cookie: anon.cookie },
    payload: form.body,
  });
  assert.equal(page.statusCode, 400);
  const text = readableText(page.body).texts.join('\n');
  assert.match(text, /Ces octets ne forment pas un courriel/);
  assert.deepEqual(englishCatalogueIn(readableText(page.body).texts), []);
  assert.doesNotMatch(text, /The bytes/);
});

test('the SMS gateway answers a French number in French, a British one in English', async (t) => {
  const h = await createTestApp(t, 'sqlite');
  if (!h) return;
  const { app, ctx } = h;
  const gw = await createToken(ctx.db, { role: 'partner', name: 'sms-gateway' });
  const send = (from: string, sid: string) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/sms-gateway?token=${encodeURIComponent(gw.secret)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        From: from,
        To: '33700',
        Body: 'Votre colis est bloqué',
        MessageSid: sid,
      }).toString(),
    });
  const fr = await send('+33612345678', 'SM-fr');
  assert.equal(fr.statusCode, 200, fr.body);
  assert.equal((fr.json() as { reply: string }).reply, SMS_REPLIES.fr.askSender);
  const gb = await send('+447911123456', 'SM-gb');
  assert.equal((gb.json() as { reply: string }).reply, SMS_REPLIES.en.askSender);
  assert.equal(smsReplyLanguage('+3225551234', 'FR'), 'fr', 'a Belgian number on a French instance: the instance');
  assert.equal(smsReplyLanguage('+221771234567', 'GB'), 'fr', 'a Senegalese number');
  assert.equal(smsReplyLanguage('7726', 'GB'), 'en', 'a short code: the instance’s region');
  for (const s of Object.values(SMS_REPLIES.fr)) assert.deepEqual(typographyProblems(s), [], s);
});

test('the acknowledgement e-mail in French', () => {
  const ack = renderAck(
    {
      to: 'reporter@example.org',
      reports: [
        { id: 'a', trackingUrl: 'https://spamdesk.example/track/aaa', quality: 'full' },
        { id: 'b', trackingUrl: 'https://spamdesk.example/track/bbb', quality: 'inline' },
      ],
      inReplyTo: null,
      subject: 'Fwd: Votre colis',
    },
    regionLanguage('FR'),
  );
  assert.equal(ack.subject, 'Signalement reçu\u00a0: Fwd: Votre colis');
  assert.match(ack.text, /^Merci\u00a0: vos 2\u00a0signalements ont été reçus et conservés comme preuves\./);
  assert.match(ack.text, /transféré dans le corps du message/);
  assert.match(ack.text, /https:\/\/spamdesk\.example\/track\/bbb/);
  for (const line of ack.text.split('\n').filter((l) => l.trim() !== '' && !l.includes('https://')))
    assert.deepEqual(typographyProblems(line), [], line);
  assert.doesNotMatch(ack.text, /Thank you|report/);
});

test("a page asked for in no language is in the instance region's; a header, cookie or ?lang= decide", async (t) => {
  const fr = await createTestApp(t, 'sqlite', {}, { acceptLanguage: null });
  const gb = await createTestApp(t, 'sqlite', { region: 'GB' }, { acceptLanguage: null });
  if (!fr || !gb) return;
  const lang = async (app: typeof fr.app, headers: Record<string, string> = {}, url = '/report') => {
    const r = await app.inject({ method: 'GET', url, headers });
    assert.equal(r.statusCode, 200, r.body.slice(0, 200));
    return /<html lang="([a-z]+)"/.exec(r.body)?.[1];
  };
  assert.equal(await lang(fr.app), 'fr', 'a French instance, no header: French');
  assert.equal(await lang(gb.app), 'en', 'a British instance, no header: English');
  assert.equal(await lang(fr.app, { 'accept-language': 'en-GB,en;q=0.8' }), 'en', 'the header beats the region');
  assert.equal(await lang(gb.app, { 'accept-language': 'fr-BE' }), 'fr');
  assert.equal(await lang(fr.app, { cookie: 'sd_lang=en', 'accept-language': 'fr' }), 'en', 'the cookie beats both');
  assert.equal(await lang(gb.app, {}, '/report?lang=fr'), 'fr', '?lang= beats the region');
  assert.equal(await lang(fr.app, { 'accept-language': 'de, es;q=0.5' }), 'fr', 'languages it has not: the region');
});
