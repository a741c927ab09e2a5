/**
 * What the HTML scanner extracts for the indicators stage: links, resources (every way HTML and CSS
 * make a client fetch something) and the document's base URL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cssUrls, htmlToText } from './html-text.ts';

const kinds = (html: string) => htmlToText(html, 10_000).links.map((l) => `${l.kind} ${l.url}`);

test('resources: img src and srcset, script, link stylesheet and icon, background=, video poster', () => {
  const got = kinds(
    `<html><head><link rel="stylesheet" href="https://cdn.example/s.css"><link rel="icon" href="/favicon.ico"><link \
rel="canonical" href="https://site.example/"></head>
     <body background="https://img.example/bg.jpg"><img src="https://img.example/a.png" \
srcset="https://img.example/a2.png 2x, https://img.example/a3.png 3x">
     <script src="https://js.example/t.js"></script><video poster="https://img.example/p.jpg"></video><table><td \
background="https://img.example/td.gif">x</td></table></body></html>`,
  );
  for (const want of [
    'src https://cdn.example/s.css',
    'src /favicon.ico',
    'src https://img.example/bg.jpg',
    'src https://img.example/a.png',
    'src https://img.example/a2.png',
    'src https://img.example/a3.png',
    'src https://js.example/t.js',
    'src https://img.example/p.jpg',
    'src https://img.example/td.gif',
  ]) {
    assert.ok(got.includes(want), `${want} in ${got.join(' | ')}`);
  }
  assert.ok(!got.some((g) => g.includes('site.example')), 'a canonical link is not fetched');
});

test('CSS: url() in style attributes and <style>, @import with and without url()', () => {
  const got = kinds(
    `<style>@import "https://css.example/a.css"; @import url('https://css.example/b.css'); body { background: URL( \
"https://img.example/c.png" ) }</style>
     <div style="background-image:url(https://px.example/open?id=1)">hi</div>`,
  );
  assert.deepEqual(
    got.sort(),
    [
      'css https://css.example/a.css',
      'css https://css.example/b.css',
      'css https://img.example/c.png',
      'css https://px.example/open?id=1',
    ].sort(),
  );
});

test('the first <base href> is returned and is not a resource; head text is not visible text', () => {
  const r = htmlToText(
    '<head><title>t</title><base href="http://www.rebackee.com/cursos2/">stray</head><body><img ' +
      'src="../img/a.jpg">Hello</body>',
    10_000,
  );
  assert.equal(r.base, 'http://www.rebackee.com/cursos2/');
  assert.deepEqual(r.links, [{ kind: 'src', url: '../img/a.jpg', text: '' }]);
  assert.equal(r.text.trim(), 'Hello');
});

test('cssUrls is linear and bounded on hostile input', () => {
  assert.equal(cssUrls('url('.repeat(100_000)).length, 1);
  assert.equal(cssUrls('url(a)'.repeat(10_000)).length, 200);
  assert.deepEqual(cssUrls('@import'), []);
});
