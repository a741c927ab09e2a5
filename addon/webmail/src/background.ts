/**
 * The extension's background (a service worker in Chromium, an event page in Firefox): the
 * content scripts of Gmail and Outlook.com ask it to report the opened message; it fetches the raw
 * source through the provider's API with the national body's OAuth client, submits it byte-exact,
 * and keeps what could not be delivered in the retry queue (retried by alarm with backoff).
 */
import type { OAuthProvider } from '../../src/brand.ts';
import {
  bytesToBase64,
  describeOutcome,
  isRetryable,
  langOf,
  settingsProblems,
  submitReport,
  webFormUrl,
} from '../../src/report-client.ts';
import { accessToken, forgetToken, SignInError } from './oauth.ts';
import { fetchRaw } from './providers.ts';
import { enqueue, nextDue, processQueue, readQueue, removeItem, type KeyValueStore, type Provider } from './queue.ts';
import type { BackgroundRequest, QueueSummary, ReportReply } from './messages.ts';

interface WebmailConfig {
  instanceUrl: string;
  gmail: OAuthProvider;
  graph: OAuthProvider;
}
/** The brand's settings, put in by the build (`esbuild --define`). */
declare const SPAMDESK_WEBMAIL_CONFIG: WebmailConfig;

const ALARM = 'spamdesk-retry';
const doFetch: typeof fetch = (input, init) => fetch(input, init);

const store: KeyValueStore = {
  async get(key) {
    return (await chrome.storage.local.get(key))[key];
  },
  async set(key, value) {
    await chrome.storage.local.set({ [key]: value });
  },
};

function msg(name: string, subs?: string[]): string {
  return chrome.i18n.getMessage(name, subs) || name;
}

async function settings(): Promise<{ instanceUrl: string; token: string }> {
  const s = await chrome.storage.local.get(['instanceUrl', 'token']);
  return {
    instanceUrl:
      typeof s.instanceUrl === 'string' && s.instanceUrl ? s.instanceUrl : SPAMDESK_WEBMAIL_CONFIG.instanceUrl,
    token: typeof s.token === 'string' ? s.token : '',
  };
}

/** One queue run at a time (alarm, "retry now", a new token). */
let running: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const next = running.then(fn, fn);
  running = next.catch(() => undefined);
  return next;
}

async function scheduleNext(): Promise<void> {
  const due = nextDue(await readQueue(store));
  if (due === null) await chrome.alarms.clear(ALARM);
  else await chrome.alarms.create(ALARM, { when: Math.max(due, Date.now() + 1000) });
}

async function runQueue(force: boolean): Promise<QueueSummary> {
  return serial(async () => {
    const s = await settings();
    if (settingsProblems(s.instanceUrl, s.token, 'en').length === 0)
      await processQueue(store, { ...s, fetch: doFetch }, Date.now(), { force });
    await scheduleNext();
    return summary();
  });
}

async function summary(): Promise<QueueSummary> {
  const items = await readQueue(store);
  return {
    items: items.map(({ rawBase64: _raw, ...rest }) => rest),
    alarmAt: (await chrome.alarms.get(ALARM))?.scheduledTime ?? null,
  };
}

async function rawSource(provider: Provider, messageId: string): Promise<{ bytes: Uint8Array } | { error: string }> {
  const cfg = provider === 'gmail' ? SPAMDESK_WEBMAIL_CONFIG.gmail : SPAMDESK_WEBMAIL_CONFIG.graph;
  for (let attempt = 0; attempt < 2; attempt++) {
    let token: string;
    try {
      token = await accessToken(provider, cfg, doFetch);
    } catch (e) {
      return { error: e instanceof SignInError ? e.message : String(e) };
    }
    const r = await fetchRaw(provider, cfg.apiBase, messageId, token, doFetch);
    if (r.ok) return { bytes: r.bytes };
    // An access token refused once is forgotten and the user signs in again, once.
    if (r.reason === 'expired' && attempt === 0) {
      await forgetToken(provider);
      continue;
    }
    return { error: r.detail };
  }
  return { error: 'sign-in refused twice' };
}

async function report(provider: Provider, messageId: string): Promise<ReportReply> {
  const s = await settings();
  const lang = langOf(chrome.i18n.getUILanguage());
  const problems = settingsProblems(s.instanceUrl, s.token, lang);
  if (problems.length > 0) {
    await chrome.runtime.openOptionsPage();
    return { ok: false, queued: false, title: msg('notSetUpTitle'), text: problems.join(' ') };
  }
  const source = await rawSource(provider, messageId);
  if ('error' in source) {
    return {
      ok: false,
      queued: false,
      title: msg('noSourceTitle'),
      text: msg('noSourceText', [source.error]),
      webFormUrl: webFormUrl(s.instanceUrl),
    };
  }
  const rawBase64 = bytesToBase64(source.bytes);
  const id = crypto.randomUUID();
  const outcome = await submitReport({
    instanceUrl: s.instanceUrl,
    token: s.token,
    client: 'webmail',
    rawBase64,
    idempotencyKey: id,
    fetch: doFetch,
  });
  const told = describeOutcome(outcome, lang, s.instanceUrl);
  if (outcome.kind === 'stored') return { ok: true, queued: false, ...told, trackingUrl: outcome.trackingUrl };
  if (isRetryable(outcome.kind) || outcome.kind === 'auth') {
    await serial(async () => {
      await enqueue(
        store,
        { id, provider, messageId, rawBase64, size: source.bytes.length, createdAt: Date.now() },
        outcome,
        Date.now(),
      );
      await scheduleNext();
    });
    const then = outcome.kind === 'auth' ? msg('queuedUntilToken') : msg('queuedRetry');
    return { ok: false, queued: true, title: told.title, text: `${told.text} ${then}` };
  }
  return { ok: false, queued: false, ...told };
}

async function handle(req: BackgroundRequest): Promise<unknown> {
  switch (req.type) {
    case 'report':
      return report(req.provider, req.messageId);
    case 'queue':
      return summary();
    case 'retryNow':
    case 'settingsSaved':
      return runQueue(true);
    case 'removeQueued':
      await serial(() => removeItem(store, req.id));
      await scheduleNext();
      return summary();
  }
}

chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
  const req = message as BackgroundRequest;
  handle(req).then(sendResponse, (e: unknown) =>
    sendResponse({ ok: false, queued: false, title: msg('failedTitle'), text: String(e) }),
  );
  return true;
});

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === ALARM) void runQueue(false);
});
chrome.runtime.onStartup.addListener(() => void runQueue(false));
chrome.action.onClicked.addListener(() => void chrome.runtime.openOptionsPage());
