/**
 * The task pane: the token and instance set once (roaming settings), whether this Outlook can
 * report (Mailbox 1.14), and a "Report this message" button.
 */
import { canGetSource, currentLang, loadSettings, reportCurrentMessage, saveSettings, UI } from './report.ts';
import { PANE_STRINGS, type PaneKey } from './taskpane-strings.ts';
import { newIdempotencyKey } from '../../src/report-client.ts';

function el<T extends HTMLElement>(id: string, type: new () => T): T {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`task pane: #${id} missing`);
  return e;
}

function show(id: string, title: string, text: string, kind: 'ok' | 'error' | 'info'): void {
  const box = el(id, HTMLElement);
  box.className = kind;
  box.replaceChildren();
  const strong = document.createElement('strong');
  strong.textContent = title;
  box.append(strong, document.createElement('br'), document.createTextNode(text));
}

function init(): void {
  const lang = currentLang();
  document.documentElement.lang = lang;
  const t = PANE_STRINGS[lang];
  for (const node of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    const key = node.dataset.i18n as PaneKey;
    if (key in t) node.textContent = t[key];
  }
  const s = loadSettings();
  el('instanceUrl', HTMLInputElement).value = s.instanceUrl;
  el('token', HTMLInputElement).value = s.token;
  el('moveToJunk', HTMLInputElement).checked = s.moveToJunk;
  const reportButton = el('report', HTMLButtonElement);
  if (canGetSource()) {
    show('capability', t.canReport, '', 'info');
  } else {
    reportButton.disabled = true;
    for (const help of document.querySelectorAll<HTMLElement>('[data-i18n="reportHelp"]')) help.hidden = true;
    show('capability', UI[lang].tooOldTitle, UI[lang].tooOldText(s.instanceUrl), 'error');
  }
  el('settings', HTMLFormElement).addEventListener('submit', (ev) => {
    ev.preventDefault();
    void saveSettings({
      instanceUrl: el('instanceUrl', HTMLInputElement).value,
      token: el('token', HTMLInputElement).value,
      moveToJunk: el('moveToJunk', HTMLInputElement).checked,
    }).then((problems) =>
      problems.length > 0 ? show('status', '', problems.join(' '), 'error') : show('status', t.saved, '', 'ok'),
    );
  });
  reportButton.addEventListener('click', () => {
    reportButton.disabled = true;
    show('result', t.reporting, '', 'info');
    void reportCurrentMessage({ fetch: (i, o) => fetch(i, o), randomUUID: newIdempotencyKey })
      .then((r) => show('result', r.title, r.text, r.ok ? 'ok' : 'error'))
      .finally(() => {
        reportButton.disabled = !canGetSource();
      });
  });
  document.body.dataset.ready = '1';
}

Office.onReady(() => init());
