/**
 * The options page: the instance and the reporter's token (host permission for exactly that
 * instance is asked while the user clicks Save), and the retry queue with "Retry now".
 */
import { settingsProblems, langOf } from '../../src/report-client.ts';
import type { QueueSummary } from './messages.ts';

declare const SPAMDESK_WEBMAIL_CONFIG: { instanceUrl: string };

function t(name: string, subs?: string[]): string {
  return chrome.i18n.getMessage(name, subs) || name;
}

function input(id: string): HTMLInputElement {
  const el = document.getElementById(id);
  if (!(el instanceof HTMLInputElement)) throw new Error(`options page: #${id} missing`);
  return el;
}

function status(text: string, kind: 'ok' | 'error'): void {
  const el = document.getElementById('status');
  if (!el) return;
  el.textContent = text;
  el.className = kind;
}

/** The match pattern for an instance's origin (ports are not part of match patterns). */
export function originPattern(instanceUrl: string): string {
  const u = new URL(instanceUrl);
  return `${u.protocol}//${u.hostname}/*`;
}

function renderQueue(q: QueueSummary): void {
  const list = document.getElementById('queue');
  const empty = document.getElementById('queueEmpty');
  if (!list || !empty) return;
  empty.hidden = q.items.length > 0;
  list.replaceChildren(
    ...q.items.map((item) => {
      const li = document.createElement('li');
      li.dataset.state = item.state;
      const when =
        item.state === 'waiting'
          ? t('queueNext', [new Date(item.nextAttemptAt).toLocaleTimeString()])
          : t(`queue_${item.state.replace('-', '_')}`);
      const where = item.provider === 'gmail' ? 'Gmail' : 'Outlook';
      li.textContent = `${where} · ${Math.ceil(item.size / 1024)} KiB · ${when} `;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = t('remove');
      remove.addEventListener('click', () => {
        void chrome.runtime.sendMessage<QueueSummary>({ type: 'removeQueued', id: item.id }).then(renderQueue);
      });
      li.append(remove);
      return li;
    }),
  );
}

async function init(): Promise<void> {
  document.documentElement.lang = langOf(chrome.i18n.getUILanguage());
  for (const node of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    const text = chrome.i18n.getMessage(node.dataset.i18n ?? '');
    if (text) node.textContent = text;
  }
  // The form is taken over before anything is awaited: a Save clicked while the stored settings
  // are still being read must not submit the page natively, and what the user typed meanwhile is
  // kept rather than overwritten by the stored values.
  document.getElementById('settings')?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void save();
  });
  const typed = new Set<string>();
  for (const id of ['instanceUrl', 'token']) input(id).addEventListener('input', () => typed.add(id), { once: true });
  const s = await chrome.storage.local.get(['instanceUrl', 'token']);
  if (!typed.has('instanceUrl')) {
    input('instanceUrl').value =
      typeof s.instanceUrl === 'string' ? s.instanceUrl : SPAMDESK_WEBMAIL_CONFIG.instanceUrl;
  }
  if (!typed.has('token')) input('token').value = typeof s.token === 'string' ? s.token : '';
  document.getElementById('retryNow')?.addEventListener('click', () => {
    void chrome.runtime.sendMessage<QueueSummary>({ type: 'retryNow' }).then(renderQueue);
  });
  renderQueue(await chrome.runtime.sendMessage<QueueSummary>({ type: 'queue' }));
  document.body.dataset.ready = 'true';
}

async function save(): Promise<void> {
  const instanceUrl = input('instanceUrl').value.trim().replace(/\/+$/, '');
  const token = input('token').value.trim();
  const problems = settingsProblems(instanceUrl, token, langOf(chrome.i18n.getUILanguage()));
  if (problems.length > 0) {
    status(problems.join(' '), 'error');
    return;
  }
  const origins = [originPattern(instanceUrl)];
  const granted = (await chrome.permissions.contains({ origins })) || (await chrome.permissions.request({ origins }));
  if (!granted) {
    status(t('permissionRefused'), 'error');
    return;
  }
  await chrome.storage.local.set({ instanceUrl, token });
  status(t('saved'), 'ok');
  // A new token or instance: what waited for it is tried at once.
  renderQueue(await chrome.runtime.sendMessage<QueueSummary>({ type: 'settingsSaved' }));
}

init().catch((e: unknown) => status(String(e), 'error'));
