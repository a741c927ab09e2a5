/** The options page: instance URL, API token, move to Junk, reporting note. */
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

async function init(): Promise<void> {
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
  const problems = settingsProblems(s);
  if (problems.length > 0) {
    show(problems.join(' '), 'error');
    return;
  }
  // Host permission for exactly this instance, asked while the user is clicking Save.
  const granted = await messenger.permissions.request({ origins: [originPattern(s.instanceUrl)] });
  if (!granted) {
    show('Without permission to contact the instance, reports cannot be sent.', 'error');
    return;
  }
  await saveSettings(s);
  show('Saved.', 'ok');
}

init().catch((e: unknown) => show(e instanceof Error ? e.message : String(e), 'error'));
