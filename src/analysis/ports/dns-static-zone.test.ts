/** The static zone behaves like node:dns: NOTFOUND vs NODATA, simulated failures, counted lookups. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BudgetedResolver, isNotFound } from './dns-budget.ts';
import { MAX_COUNTED_NAMES, StaticZoneResolver, zoneFromText } from './dns-static-zone.ts';

test('answers, ENOTFOUND, ENODATA and simulated failures, with lookup counts', async () => {
  const z = new StaticZoneResolver({ 'Example.COM.': { TXT: [['v=spf1 -all']], A: 'SERVFAIL' } });
  assert.deepEqual(await z.resolveTxt('example.com'), [['v=spf1 -all']]);
  await assert.rejects(
    z.resolveMx('example.com'),
    (e: unknown) => isNotFound(e) && e instanceof Error && /ENODATA/.test(e.message),
  );
  await assert.rejects(z.resolveTxt('nope.example'), (e: unknown) => isNotFound(e));
  await assert.rejects(z.resolve4('example.com'), { code: 'ESERVFAIL' });
  assert.equal(z.count, 4);
  assert.equal(z.lookups.get('TXT example.com'), 1);
});

test(
  'a long-running offline resolver keeps per-name counts for a bounded number of names, and the total for ' + 'all',
  async () => {
    const z = new StaticZoneResolver({});
    const n = MAX_COUNTED_NAMES + 500;
    for (let i = 0; i < n; i++) await z.resolve4(`host${i}.example`).catch(() => undefined);
    await z.resolve4('host0.example').catch(() => undefined);
    assert.equal(z.count, n + 1);
    assert.equal(z.lookups.size, MAX_COUNTED_NAMES);
    assert.equal(z.lookups.get('A host0.example'), 2, 'names already counted go on being counted');
    assert.equal(z.lookups.get(`A host${n - 1}.example`), undefined);
  },
);

test('zoneFromText splits long TXT values into 255-byte strings', async () => {
  const z = new StaticZoneResolver(zoneFromText(`k._domainkey.example.com v=DKIM1; p=${'A'.repeat(400)}\n# comment\n`));
  const txt = await z.resolveTxt('k._domainkey.example.com');
  assert.equal(txt[0]?.length, 2);
  assert.equal(txt[0]?.join(''), `v=DKIM1; p=${'A'.repeat(400)}`);
});

test('the budget refuses lookups beyond it and records failures but not not-found answers', async () => {
  const b = new BudgetedResolver(new StaticZoneResolver({ 'a.example': { A: 'TIMEOUT' } }), 2);
  await assert.rejects(b.resolveTxt('missing.example'));
  await assert.rejects(b.resolve4('a.example'), { code: 'ETIMEOUT' });
  await assert.rejects(b.resolve4('a.example'), { code: 'EBUDGET' });
  assert.deepEqual(
    b.failures.map((f) => f.code),
    ['ETIMEOUT', 'EBUDGET'],
  );
});
