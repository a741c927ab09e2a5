/**
 * The options page: instance URL, API token, move to Junk, reporting note. Its words come from
 * `_locales/<language>/messages.json` (Thunderbird picks the user's language, English otherwise);
 * the English written in options.html is what shows if a message is missing.
 */
import { settingsProblems, type AddonSettings } from './send.ts';
import { loadSettings, originPattern, saveSettings } from './settings-store.ts';

function input(id: string): HTMLInputElement | HTMLTextAreaElement {
  const el = document.getElementById(id);
  if (!(el instanceof HTMLInputElement) && !(el instanceof HTMLTextAreaElement))
    throw new Error(`options page: #${id} missing`);
  return el;
}

function show(text: string, kind: 'ok' | 'error'): void {
  const status = document.getElementById('status');
  if (!status) return;
  status.textContent = text;
  status.className = kind;
}

/** The message of a key in Thunderbird's language, or null when the catalogue lacks it. */
function msg(key: string, substitutions?: string[]): string | null {
  const m = messenger.i18n.getMessage(key, substitutions);
  return m === '' ? null : m;
}

/** Puts every `data-i18n` element's text in the user's language and says which language the page is in. */
function localise(): void {
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    const m = msg(el.dataset.i18n ?? '');
    if (m !== null) el.textContent = m;
  }
  const lang = msg('@@ui_locale');
  if (lang) document.documentElement.lang = lang.replace('_', '-');
}

async function init(): Promise<void> {
  localise();
  const s = await loadSettings();
  input('instanceUrl').value = s.instanceUrl;
  input('token').value = s.token;
  const junk = input('moveToJunk');
  if (junk instanceof HTMLInputElement) junk.checked = s.moveToJunk;
  input('note').value = s.note;
  document.getElementById('options')?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void save();
  });
}

async function save(): Promise<void> {
  const junk = input('moveToJunk');
  const s: AddonSettings = {
    instanceUrl: input('instanceUrl').value.trim(),
    token: input('token').value.trim(),
    moveToJunk: junk instanceof HTMLInputElement && junk.checked,
    note: input('note').value,
  };
  const problems = settingsProblems(s, msg);
  if (problems.length > 0) {
    show(problems.join(' '), 'error');
    return;
  }
  // Host permission for exactly this instance, asked while the user is clicking Save.
  const granted = await messenger.permissions.request({ origins: [originPattern(s.instanceUrl)] });
  if (!granted) {
    show(msg('optionsNoPermission') ?? 'Without permission to contact the instance, reports cannot be sent.', 'error');
    return;
  }
  await saveSettings(s);
  show(msg('optionsSaved') ?? 'Saved.', 'ok');
}

init().catch((e: unknown) => show(e instanceof Error ? e.message : String(e), 'error'));
