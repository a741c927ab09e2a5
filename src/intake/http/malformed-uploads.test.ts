/**
 * Malformed intake requests are the client's fault: a truncated or boundary-less multipart upload
 * gets a 4xx with a JSON reason on every intake route that reads parts, and nothing is stored.
 * The channel of a report is the server's decision, whatever the body says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { DIALECTS } from '../../db/test-databases.ts';
import { createToken } from '../../db/tokens.ts';
import { anonymousCsrf, createTestApp, multipart, sampleSpam } from '../../web/test-helpers.ts';

for (const dialect of DIALECTS) {
  test(`a truncated or malformed multipart upload is a 400 with a JSON reason on every intake route, and stores \
nothing (${dialect})`, async (t) => {
    const s = await createTestApp(t, dialect);
    if (!s) return;
    const anon = anonymousCsrf();
    const routes: { url: string; upload: { body: Buffer; contentType: string }; cookie: Record<string, string> }[] = [
      {
        url: '/api/v1/reports',
        upload: multipart([['note', 'n']], [{ name: 'file', filename: 'a.eml', content: sampleSpam() }]),
        cookie: {},
      },
      {
        url: '/report',
        upload: multipart([['_csrf', anon.csrf]], [{ name: 'files', filename: 'a.eml', content: sampleSpam() }]),
        cookie: { cookie: anon.cookie },
      },
    ];
    for (const r of routes) {
      const whole = r.upload.body;
      // Cut inside the closing boundary, inside the file, inside the part headers.
      for (const cut of [
        whole.length - 4,
        whole.length - 30,
        Math.floor(whole.length / 2),
        whole.length - sampleSpam().length - 60,
      ]) {
        const res: LightMyRequestResponse = await s.app.inject({
          method: 'POST',
          url: r.url,
          headers: { 'content-type': r.upload.contentType, 'accept-language': 'en', ...r.cookie },
          payload: whole.subarray(0, cut),
        });
        assert.equal(res.statusCode, 400, `${r.url} cut at ${cut}/${whole.length}: ${res.body}`);
        // The API answers JSON; the web form a page (the browser's view) carrying the same reason.
        if (r.url.startsWith('/api/'))
          assert.equal(res.json<{ error: string }>().error, 'BAD_REQUEST', `${r.url} cut at ${cut}: ${res.body}`);
        assert.match(
          res.body,
          /malformed or cut short|holds no file|choose at least one file/,
          `${r.url} cut at ${cut}: ${res.body}`,
        );
      }
      const noBoundary: LightMyRequestResponse = await s.app.inject({
        method: 'POST',
        url: r.url,
        headers: { 'content-type': 'multipart/form-data', 'accept-language': 'en', ...r.cookie },
        payload: whole,
      });
      assert.equal(noBoundary.statusCode, 400, `${r.url} without boundary: ${noBoundary.body}`);
      assert.match(noBoundary.body, /multipart\/form-data body is malformed/);
      const ok: LightMyRequestResponse = await s.app.inject({
        method: 'POST',
        url: r.url,
        headers: { 'content-type': r.upload.contentType, 'accept-language': 'en', ...r.cookie },
        payload: whole,
      });
      assert.ok(ok.statusCode === 201 || ok.statusCode === 202, `${r.url} whole: ${ok.statusCode} ${ok.body}`);
    }
    const n = await s.ctx.db
      .selectFrom('reports')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 2, 'only the two whole uploads were stored');
  });

  test(`the channel is set by the server from the route and the token, never by the JSON field \
(${dialect})`, async (t) => {
    const s = await createTestApp(t, dialect);
    if (!s) return;
    const token = (await createToken(s.ctx.db, { role: 'reporter', name: 'addon' })).secret;
    const send = (channel: string, headers: Record<string, string> = {}) =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        headers: { 'content-type': 'application/json', ...headers },
        payload: { raw: sampleSpam().toString('base64'), channel },
      });
    const sent = [
      await send('web'),
      await send('addon'),
      await send('sms', { authorization: `Bearer ${token}` }),
      await send('web', { authorization: `Bearer ${token}`, 'x-spamdesk-client': 'thunderbird' }),
      await send('web', { 'x-spamdesk-client': 'thunderbird' }),
    ];
    for (const r of sent) assert.equal(r.statusCode, 202, r.body);
    const ids = sent.map((r) => r.json<{ reports: { id: string }[] }>().reports[0].id);
    const rows = await s.ctx.db.selectFrom('reports').select(['id', 'channel']).execute();
    const channelOf = new Map(rows.map((r) => [r.id, r.channel]));
    assert.deepEqual(
      ids.map((id) => channelOf.get(id)),
      ['api', 'api', 'api', 'addon', 'api'],
    );
  });
}
