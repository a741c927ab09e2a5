/**
 * The keys URLs are told apart by: the site (registrable domain, else the address literal) and one
 * user's directory on a shared web server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { siteOfUrl, userDirectoryOf } from './urls.ts';

test('a user directory is the host and the ~name, whatever the case and the encoding of the tilde', () => {
  assert.equal(userDirectoryOf('http://home.attbi.com/~johnsonhomestor1/pro.htm'), 'home.attbi.com/~johnsonhomestor1');
  assert.equal(userDirectoryOf('http://Home.Earthlink.NET./~Jo'), 'home.earthlink.net/~jo');
  assert.equal(userDirectoryOf('https://www.example.edu/%7Eann/cv.html?x=1'), 'www.example.edu/~ann');
  assert.equal(userDirectoryOf('http://67.15.112.179/~shop/index.php'), '67.15.112.179/~shop');
});

test('any other URL has no user directory: a tilde deeper in the path, a bare tilde, no path, not the web', () => {
  for (const url of [
    'http://www.attbi.com/',
    'http://home.attbi.com/pages/~jo/',
    'http://home.attbi.com/~',
    'http://home.attbi.com/~/x',
    'ftp://ftp.example.org/~jo/file',
    'mailto:jo@example.org',
    'not a url',
  ])
    assert.equal(userDirectoryOf(url), null, url);
});

test('the site of a URL is its registrable domain, or the address literal', () => {
  assert.equal(siteOfUrl('http://home.attbi.com/~jo/'), 'attbi.com');
  assert.equal(siteOfUrl('http://203.0.113.9/x'), '203.0.113.9');
  assert.equal(siteOfUrl('::'), null);
});
