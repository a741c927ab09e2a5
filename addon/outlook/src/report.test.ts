/**
 * The Outlook add-in's real code under office-addin-mock (Office.js mocked with Microsoft's own
 * mocking package), reporting to a real Spamdesk server: exact bytes, Junk only after a 202, the
 * missing-Mailbox-1.14 refusal, and each hostile case (token refused, server down, too large).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OfficeMockObject } from 'office-addin-mock';
import { createToken, revokeToken } from '../../../src/db/tokens.ts';
import { needsCorpus } from '../../../src/core/test-env.ts';
import { bytesToBase64 } from '../../src/report-client.ts';
import { corpusMessages, sha256, startServer, storedReports } from '../../src/test-server.ts';
import { loadSettings, noteFromDialog, onSpamReport, reportCurrentMessage, saveSettings } from './report.ts';

interface MockOptions {
  lang: string;
  mailboxVersion: string;
  /** The message Outlook hands out as base64 EML (undefined: getAsFileAsync fails). */
  eml?: Buffer;
  settings?: Record<string, unknown>;
}

interface OutlookMock {
  roaming: Map<string, unknown>;
  saves: number;
  getAsFileCalls: number;
}

/** Installs a mocked `Office` global for Outlook, as office.js would be on a read message. */
function installOffice(o: MockOptions): OutlookMock {
  const state: OutlookMock = { roaming: new Map(Object.entries(o.settings ?? {})), saves: 0, getAsFileCalls: 0 };
  const supported = (name: string, v = '1.1'): boolean =>
    name === 'Mailbox' && compareVersions(v, o.mailboxVersion) <= 0;
  const item: Record<string, unknown> = { subject: 'a spam', internetMessageId: '<x@example.org>' };
  if (supported('Mailbox', '1.14')) {
    item.getAsFileAsync = (cb: (r: Office.AsyncResult<string>) => void) => {
      state.getAsFileCalls++;
      if (o.eml) cb({ status: 'succeeded', value: bytesToBase64(o.eml) });
      else
        cb({ status: 'failed', value: '', error: { name: 'GenericError', message: 'item not available', code: 9000 } });
    };
  }
  const mock = new OfficeMockObject(
    {
      AsyncResultStatus: { Succeeded: 'succeeded', Failed: 'failed' },
      MailboxEnums: {
        MoveSpamItemTo: {
          CustomFolder: 'customFolder',
          DeletedItemsFolder: 'deletedItemsFolder',
          JunkFolder: 'junkFolder',
          NoMove: 'noMove',
        },
      },
      context: {
        displayLanguage: o.lang,
        requirements: { isSetSupported: supported },
        roamingSettings: {
          get: (k: string) => state.roaming.get(k),
          set: (k: string, v: unknown) => state.roaming.set(k, v),
          remove: (k: string) => state.roaming.delete(k),
          saveAsync: (cb?: (r: Office.AsyncResult<void>) => void) => {
            state.saves++;
            cb?.({ status: 'succeeded', value: undefined });
          },
        },
        mailbox: { item },
      },
    },
    'outlook' as ConstructorParameters<typeof OfficeMockObject>[1],
  );
  (globalThis as { Office?: unknown }).Office = mock;
  return state;
}

function compareVersions(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}

/** A SpamReporting event that records what `completed` was given. */
function spamEvent(
  options: boolean[] = [],
  freeText = '',
): {
  event: Office.SpamReportingEvent;
  completed: Office.SpamReportingEventCompletedOptions[];
} {
  const completed: Office.SpamReportingEventCompletedOptions[] = [];
  return { event: { type: 'SpamReporting', options, freeText, completed: (c) => completed.push(c ?? {}) }, completed };
}

/** Real fetch, counting the calls. */
function countingFetch(): { fetch: typeof fetch; calls: () => number } {
  let n = 0;
  return {
    fetch: (input, init) => {
      n++;
      return fetch(input, init);
    },
    calls: () => n,
  };
}

const uuid = (): string => crypto.randomUUID();

test(
  'the spam-reporting button sends the exact EML, files it as an add-on report with the dialog note, then moves ' +
    'it to Junk',
  async (t) => {
    if (!needsCorpus(t, 'phishing_pot/email')) return;
    const s = await startServer(t);
    if (!s) return;
    const token = await createToken(s.ctx.db, { role: 'reporter', name: 'outlook' });
    // CRLF line ends and 8-bit bytes: what a re-encoding would change.
    const [message] = corpusMessages('phishing_pot/email', 1);
    const office = installOffice({
      lang: 'fr-FR',
      mailboxVersion: '1.14',
      eml: message.bytes,
      settings: { instanceUrl: s.url, token: token.secret, moveToJunk: true },
    });
    const { event, completed } = spamEvent([false, true, false], 'Se fait passer pour ma banque.');
    const result = await onSpamReport(event, { fetch, randomUUID: uuid });
    assert.equal(result.ok, true, result.text);
    assert.equal(office.getAsFileCalls, 1);
    const [stored] = await storedReports(s);
    assert.equal(stored.sha256, sha256(message.bytes), 'the bytes Outlook gave are the bytes stored');
    assert.equal(stored.channel, 'addon');
    assert.equal(stored.tokenId, token.id);
    assert.equal(stored.note, 'Reasons: Phishing or fraud.\nSe fait passer pour ma banque.');
    assert.deepEqual(completed, [
      {
        onErrorDeleteItem: false,
        moveItemTo: 'junkFolder',
        showPostProcessingDialog: { title: 'Spam signalé', description: 'Merci : le message a été signalé.' },
      },
    ]);
  },
);

test('without "move to Junk" the reported message stays where it is', async (t) => {
  if (!needsCorpus(t, 'phishing_pot/email')) return;
  const s = await startServer(t);
  if (!s) return;
  const token = await createToken(s.ctx.db, { role: 'reporter', name: 'outlook' });
  const [, message] = corpusMessages('phishing_pot/email', 2);
  installOffice({
    lang: 'en-US',
    mailboxVersion: '1.15',
    eml: message.bytes,
    settings: { instanceUrl: s.url, token: token.secret, moveToJunk: false },
  });
  const { event, completed } = spamEvent();
  assert.equal((await onSpamReport(event, { fetch, randomUUID: uuid })).ok, true);
  assert.equal(completed[0].moveItemTo, 'noMove');
  assert.equal(completed[0].showPostProcessingDialog?.title, 'Spam reported');
  assert.equal((await storedReports(s))[0].note, null);
});

test('an Outlook without Mailbox 1.14 says so and sends nothing (no rebuilt copy)', async (t) => {
  const s = await startServer(t);
  if (!s) return;
  const token = await createToken(s.ctx.db, { role: 'reporter', name: 'outlook' });
  for (const lang of ['en-GB', 'fr-CA']) {
    const office = installOffice({
      lang,
      mailboxVersion: '1.13',
      settings: { instanceUrl: s.url, token: token.secret, moveToJunk: true },
    });
    const counted = countingFetch();
    const r = await reportCurrentMessage({ fetch: counted.fetch, randomUUID: uuid });
    assert.equal(r.ok, false);
    assert.equal(counted.calls(), 0, 'nothing sent');
    assert.equal(office.getAsFileCalls, 0);
    assert.match(r.text, lang === 'en-GB' ? /Mailbox 1\.14/ : /Mailbox 1\.14 manquant/);
    assert.ok(r.text.includes(`${s.url}/report`), 'offers the web form');
  }
  assert.deepEqual(await storedReports(s), []);
});

test('hostile cases: token refused, server down, too large, no source — clear words, never Junk', async (t) => {
  if (!needsCorpus(t, 'phishing_pot/email')) return;
  const s = await startServer(t, { maxMessageBytes: 4096 });
  if (!s) return;
  const token = await createToken(s.ctx.db, { role: 'reporter', name: 'outlook' });
  const small = Buffer.from('From: a@example.org\r\nSubject: win\r\nMessage-ID: <1@example.org>\r\n\r\nhello\r\n');
  const [big] = corpusMessages('phishing_pot/email', 1);
  assert.ok(big.bytes.length > 4096);
  const settings = { instanceUrl: s.url, token: token.secret, moveToJunk: true };
  const run = async (eml: Buffer | undefined, lang: string, over: Record<string, unknown> = {}) => {
    installOffice({ lang, mailboxVersion: '1.14', eml, settings: { ...settings, ...over } });
    const { event, completed } = spamEvent();
    const r = await onSpamReport(event, { fetch, randomUUID: uuid });
    assert.equal(completed.length, 1);
    assert.equal(completed[0].moveItemTo, r.ok ? 'junkFolder' : 'noMove');
    assert.equal(completed[0].onErrorDeleteItem, false);
    return { r, dialog: completed[0].showPostProcessingDialog };
  };

  const tooLarge = await run(big.bytes, 'en-US');
  assert.equal(tooLarge.r.outcome?.kind, 'too-large', JSON.stringify(tooLarge.r.outcome));
  assert.deepEqual(tooLarge.dialog, {
    title: 'Message too large',
    description:
      'This message is larger than the service accepts (4.1 kB). It stays in your mailbox; nothing was sent.',
  });

  const noSource = await run(undefined, 'fr-FR');
  assert.equal(noSource.dialog?.title, 'Source indisponible');
  assert.match(noSource.r.text, /item not available/);

  const down = await run(small, 'fr-FR', { instanceUrl: 'http://127.0.0.1:9' });
  assert.equal(down.r.outcome?.kind, 'network');
  assert.equal(down.dialog?.title, 'Service injoignable');
  assert.match(down.r.text, /127\.0\.0\.1:9.*Rien n’est perdu/);

  await revokeToken(s.ctx.db, token.id);
  const refused = await run(small, 'en-US');
  assert.equal(refused.r.outcome?.kind, 'auth');
  assert.equal(refused.r.outcome?.status, 401);
  assert.equal(refused.dialog?.title, 'Token refused');
  assert.deepEqual(await storedReports(s), [], 'nothing stored by any failure');
});

test('settings are checked, then saved once in the roaming settings', async () => {
  const office = installOffice({ lang: 'fr-FR', mailboxVersion: '1.14' });
  const bad = await saveSettings({ instanceUrl: 'http://spamdesk.example.org', token: 'hunter2', moveToJunk: true });
  assert.deepEqual(bad, [
    'L’adresse du service doit commencer par https:// (http:// seulement pour un service de test local).',
    'Le jeton doit ressembler à sdk_… (créez-en un sur la page de votre compte).',
  ]);
  assert.equal(office.saves, 0);
  const token = `sdk_${'b'.repeat(43)}`;
  assert.deepEqual(
    await saveSettings({ instanceUrl: ' https://signal.example.fr/ ', token: ` ${token} `, moveToJunk: true }),
    [],
  );
  assert.equal(office.saves, 1);
  assert.deepEqual(loadSettings(), { instanceUrl: 'https://signal.example.fr', token, moveToJunk: true });
});

test('the dialog note lists the reasons ticked and the words typed', () => {
  assert.equal(noteFromDialog(undefined, undefined), undefined);
  assert.equal(noteFromDialog([true, false, true], '  '), 'Reasons: Spam or advertising; Scam (money, prize, parcel).');
  assert.equal(noteFromDialog([], 'bank'), 'bank');
});

test('an unexpected failure still completes the event, with words and without moving the message', async () => {
  installOffice({ lang: 'fr-FR', mailboxVersion: '1.14', eml: Buffer.from('From: a@b.c\r\n\r\nx\r\n') });
  const office = (
    globalThis as unknown as { Office: { context: { roamingSettings: { get: (k: string) => unknown } } } }
  ).Office;
  office.context.roamingSettings.get = () => {
    throw new Error('roaming settings unavailable');
  };
  const { event, completed } = spamEvent();
  const r = await onSpamReport(event, { fetch, randomUUID: uuid });
  assert.equal(r.ok, false);
  assert.deepEqual(completed, [
    {
      onErrorDeleteItem: false,
      moveItemTo: 'noMove',
      showPostProcessingDialog: { title: 'Échec du signalement', description: 'roaming settings unavailable' },
    },
  ]);
});
