/**
 * Background script: the "Report spam" buttons (on the displayed message, on the main toolbar for
 * the selected messages, and in the message-list context menu) report the messages with the
 * exact raw source, then notify success or the server's error, and optionally move them to Junk.
 */
import { reportMessages, settingsProblems, summarise, type ReportOutcome } from './send.ts';
import { loadSettings, originPattern } from './settings-store.ts';

const MENU_ID = 'spamdesk-report-spam';
const ICON = 'icons/report.svg';

async function notify(title: string, message: string): Promise<void> {
  await messenger.notifications.create({ type: 'basic', title, message, iconUrl: messenger.runtime.getURL(ICON) });
}

/** All messages of a (possibly paginated) message list. */
async function allMessages(list: messenger.MessageList): Promise<messenger.MessageHeader[]> {
  const out = [...list.messages];
  let id = list.id;
  while (id) {
    const next = await messenger.messages.continueList(id);
    out.push(...next.messages);
    id = next.id;
  }
  return out;
}

/** The raw source as a File when supported (Thunderbird 117+), else a binary string. */
async function getRaw(messageId: number): Promise<string | File> {
  try {
    return await messenger.messages.getRaw(messageId, { data_format: 'File' });
  } catch {
    return messenger.messages.getRaw(messageId);
  }
}

function findJunk(folders: messenger.MailFolder[] | undefined): messenger.MailFolder | null {
  for (const f of folders ?? []) {
    if (f.type === 'junk' || f.specialUse?.includes('junk')) return f;
    const sub = findJunk(f.subFolders);
    if (sub) return sub;
  }
  return null;
}

/** Marks reported messages as junk and moves them to their account's Junk folder. */
async function moveToJunk(messages: messenger.MessageHeader[], outcomes: ReportOutcome[]): Promise<void> {
  const done = new Set(outcomes.filter((o) => o.ok).map((o) => o.messageId));
  const byAccount = new Map<string, number[]>();
  for (const m of messages) {
    if (!done.has(m.id)) continue;
    await messenger.messages.update(m.id, { junk: true });
    const acc = m.folder?.accountId;
    if (!acc) continue;
    byAccount.set(acc, [...(byAccount.get(acc) ?? []), m.id]);
  }
  for (const [accountId, ids] of byAccount) {
    const account = await messenger.accounts.get(accountId, true);
    const junk = findJunk(account?.folders);
    if (junk) await messenger.messages.move(ids, junk);
  }
}

async function report(messages: messenger.MessageHeader[]): Promise<void> {
  if (messages.length === 0) {
    await notify('Nothing to report', 'Select or open the spam first.');
    return;
  }
  const settings = await loadSettings();
  const problems = settingsProblems(settings);
  if (problems.length > 0) {
    await notify('Spamdesk is not set up', `${problems.join(' ')} Open the add-on's options.`);
    return;
  }
  if (!(await messenger.permissions.contains({ origins: [originPattern(settings.instanceUrl)] }))) {
    await notify(
      'Permission needed',
      'Open the add-on options and save again to allow contacting your Spamdesk instance.',
    );
    return;
  }
  const outcomes = await reportMessages(
    messages.map((m) => m.id),
    { fetch: (input, init) => fetch(input, init), getRaw, settings, language: messenger.i18n.getUILanguage() },
  );
  const { title, message } = summarise(outcomes);
  await notify(title, message);
  if (settings.moveToJunk) await moveToJunk(messages, outcomes);
}

function onError(e: unknown): void {
  void notify('Report failed', e instanceof Error ? e.message : String(e));
}

messenger.messageDisplayAction.onClicked.addListener((tab) => {
  if (tab.id === undefined) return;
  messenger.messageDisplay
    .getDisplayedMessages(tab.id)
    .then((shown) => (Array.isArray(shown) ? shown : allMessages(shown)))
    .then(report)
    .catch(onError);
});

messenger.browserAction.onClicked.addListener((tab) => {
  messenger.mailTabs.getSelectedMessages(tab.id).then(allMessages).then(report).catch(onError);
});

messenger.menus.create({
  id: MENU_ID,
  title: messenger.i18n.getMessage('menuReport') || 'Report spam to Spamdesk',
  contexts: ['message_list'],
});
messenger.menus.onClicked.addListener((info) => {
  if (info.menuItemId !== MENU_ID || !info.selectedMessages) return;
  allMessages(info.selectedMessages).then(report).catch(onError);
});
