/**
 * The report button both content scripts put on the page (a fixed button while a message is
 * open, so webmail layout changes do not hide it) and the result panel under it. Built with DOM
 * calls only: nothing from the page or the server is ever parsed as HTML.
 */
import type { ReportReply } from './messages.ts';
import type { Provider } from './queue.ts';

const ROOT_ID = 'spamdesk-report-root';

function t(name: string): string {
  return chrome.i18n.getMessage(name) || name;
}

/** Shows the button while `currentMessageId()` finds an open message; hides it otherwise. */
export function installReportButton(provider: Provider, currentMessageId: () => string | null): void {
  const root = document.createElement('div');
  root.id = ROOT_ID;
  root.setAttribute(
    'style',
    'position:fixed;right:24px;bottom:24px;z-index:2147483647;font:14px system-ui,sans-serif;max-width:360px;' +
      'display:none;flex-direction:column;align-items:flex-end;gap:8px',
  );
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = t('reportButton');
  button.title = t('reportButtonTitle');
  button.setAttribute(
    'style',
    'background:#b71c1c;color:#fff;border:0;border-radius:20px;padding:10px 18px;font-weight:600;cursor:pointer;' +
      'box-shadow:0 2px 6px rgba(0,0,0,.3)',
  );
  const panel = document.createElement('div');
  panel.setAttribute('role', 'status');
  panel.setAttribute('aria-live', 'polite');
  panel.dataset.testid = 'spamdesk-result';
  root.append(panel, button);
  document.body.append(root);

  button.addEventListener('click', () => {
    const id = currentMessageId();
    if (!id) {
      show(panel, { ok: false, queued: false, title: t('noMessageTitle'), text: t('noMessageText') });
      return;
    }
    button.disabled = true;
    show(panel, { ok: true, queued: false, title: t('sending'), text: '' });
    chrome.runtime
      .sendMessage<ReportReply>({ type: 'report', provider, messageId: id })
      .then(
        (reply) => show(panel, reply),
        (e: unknown) => show(panel, { ok: false, queued: false, title: t('failedTitle'), text: String(e) }),
      )
      .finally(() => {
        button.disabled = false;
      });
  });

  const refresh = (): void => {
    root.style.display = currentMessageId() ? 'flex' : 'none';
  };
  refresh();
  new MutationObserver(refresh).observe(document.body, { childList: true, subtree: true });
  window.addEventListener('popstate', refresh);
  window.addEventListener('hashchange', refresh);
}

function show(panel: HTMLElement, r: ReportReply): void {
  const colour = r.ok ? '#1b5e20' : r.queued ? '#8d6e00' : '#b71c1c';
  panel.setAttribute(
    'style',
    `background:#fff;border:2px solid ${colour};border-radius:8px;padding:10px 12px;color:#222;` +
      'box-shadow:0 2px 6px rgba(0,0,0,.2)',
  );
  panel.dataset.state = r.ok ? 'ok' : r.queued ? 'queued' : 'error';
  const title = document.createElement('strong');
  title.textContent = r.title;
  const parts: Node[] = [title];
  if (r.text) parts.push(document.createElement('br'), document.createTextNode(r.text));
  if (r.webFormUrl) {
    const a = document.createElement('a');
    a.href = r.webFormUrl;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.textContent = t('openWebForm');
    parts.push(document.createElement('br'), a);
  }
  panel.replaceChildren(...parts);
}
