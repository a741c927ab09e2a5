/** The sanitiser of the safe view: nothing that runs, submits or loads from elsewhere survives. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SAFE_VIEW_CSP, renderSafeView, sanitiseMessageHtml } from './safe-view.ts';
import { sampleSpam } from './test-helpers.ts';

const REMOTE = 'http://tracker.example';

test('scripts, event handlers, forms, frames, objects and meta refreshes are removed', () => {
  const { html } = sanitiseMessageHtml(
    `<script>alert(1)</script><p onclick="alert(2)" onmouseover="x()">hi</p><form action="${REMOTE}/s"><input name="p">\
<button>go</button></form>` +
      `<iframe src="${REMOTE}/f"></iframe><object data="${REMOTE}/o"></object><embed src="${REMOTE}/e"><meta \
http-equiv="refresh" content="0;url=${REMOTE}">` +
      `<svg onload="alert(3)"><image href="${REMOTE}/i"/></svg><math><mi xlink:href="javascript:alert(4)">x</mi></math>\
<base href="${REMOTE}/">`,
  );
  assert.doesNotMatch(
    html,
    /<script|onclick|onmouseover|<form|<input|<button|<iframe|<object|<embed|<meta|<svg|<math|<base|javascript:/i,
  );
  assert.match(html, /<p>hi<\/p>/);
});

test('remote images become local placeholders and CSS url() beacons are dropped', () => {
  const { html, removedRemote } = sanitiseMessageHtml(
    `<img src="${REMOTE}/pixel.gif" alt="logo"><img src="//tracker.example/p2.gif"><div \
style="background-image:url(${REMOTE}/bg.png);color:red">x</div>` +
      `<p style="background: url('${REMOTE}/b2.png')">y</p><table background="${REMOTE}/t.png"><tr><td \
style="color:blue">z</td></tr></table><style>@import url(${REMOTE}/s.css)</style>`,
  );
  assert.doesNotMatch(html, /src="(?:https?:)?\/\//);
  assert.doesNotMatch(html, /url\(|@import|background=/i);
  assert.match(html, /alt="\[remote image removed: logo\]"/);
  assert.match(html, /style="color:red"/);
  assert.match(html, /style="color:blue"/);
  assert.ok(removedRemote >= 5, String(removedRemote));
});

test('links are shown but cannot be followed', () => {
  const { html } = sanitiseMessageHtml(
    `<a href="${REMOTE}/phish" target="_top">Click</a><a href="javascript:alert(1)">j</a>`,
  );
  assert.doesNotMatch(html, /\shref=|target=/);
  assert.match(html, /title="http:\/\/tracker\.example\/phish"/);
});

test('inline cid: images are kept as data: URIs', async () => {
  const png = Buffer.from(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d5' +
      'b6e60000000049454e44ae426082',
    'hex',
  );
  const raw = Buffer.from(
    [
      'From: a@example.org',
      'To: b@example.org',
      'Subject: cid',
      'MIME-Version: 1.0',
      'Content-Type: multipart/related; boundary="b"',
      '',
      '--b',
      'Content-Type: text/html',
      '',
      '<p>logo <img src="cid:logo@x"></p>',
      '--b',
      'Content-Type: image/png',
      'Content-ID: <logo@x>',
      'Content-Transfer-Encoding: base64',
      '',
      png.toString('base64'),
      '--b--',
      '',
    ].join('\r\n'),
  );
  const r = await renderSafeView(raw);
  assert.match(r.document, /<img src="data:image\/png;base64,iVBOR/);
});

test('a text-only message is shown as escaped text', async () => {
  const r = await renderSafeView(sampleSpam({ subject: 'plain' }));
  assert.equal(r.hadHtml, false);
  assert.match(r.document, /<pre>Claim your prize at https:\/\/claim\.lottery\.example\//);
  const evil = await renderSafeView(
    Buffer.from('From: a@example.org\r\nSubject: x\r\n\r\n</pre><script>alert(1)</script>\r\n'),
  );
  assert.doesNotMatch(evil.document, /<script>/);
});

test('the view policy forbids every remote load', () => {
  assert.match(SAFE_VIEW_CSP, /default-src 'none'/);
  assert.match(SAFE_VIEW_CSP, /img-src data:(;|$)/);
  assert.match(SAFE_VIEW_CSP, /form-action 'none'/);
  assert.match(SAFE_VIEW_CSP, /sandbox/);
  assert.doesNotMatch(SAFE_VIEW_CSP, /script-src|https?:/);
});
