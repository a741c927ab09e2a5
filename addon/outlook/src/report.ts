/**
 * The Outlook add-in's reporting: the exact MIME source from `item.getAsFileAsync` (Mailbox 1.14,
 * base64 EML, never a copy rebuilt from fields), submitted with the token from roaming settings.
 * Where Mailbox 1.14 is missing nothing is sent: the user is told why. Used by the integrated
 * spam-reporting button (`onSpamReport`, which can move the message to Junk after a 202) and by
 * the task pane's "Report this message" button.
 */
import {
  describeOutcome,
  langOf,
  settingsProblems,
  submitReport,
  webFormUrl,
  type Lang,
  type SubmitOutcome,
} from '../../src/report-client.ts';
import { SPAM_REASONS } from './manifest.ts';

/** Filled in by the build (`esbuild --define`) with the brand's instance; absent under node:test. */
declare const SPAMDESK_DEFAULT_INSTANCE_URL: string | undefined;

export interface OutlookSettings {
  instanceUrl: string;
  token: string;
  moveToJunk: boolean;
}

export function defaultInstanceUrl(): string {
  return typeof SPAMDESK_DEFAULT_INSTANCE_URL === 'string' ? SPAMDESK_DEFAULT_INSTANCE_URL : '';
}

/** The settings kept in the user's mailbox (roaming settings follow them to every Outlook). */
export function loadSettings(): OutlookSettings {
  const rs = Office.context.roamingSettings;
  const url = rs.get('instanceUrl');
  const token = rs.get('token');
  return {
    instanceUrl: typeof url === 'string' && url ? url : defaultInstanceUrl(),
    token: typeof token === 'string' ? token : '',
    moveToJunk: rs.get('moveToJunk') === true,
  };
}

/** Checks and saves the settings; answers the problems (in the user's language), empty when saved. */
export async function saveSettings(s: OutlookSettings): Promise<string[]> {
  const lang = currentLang();
  const instanceUrl = s.instanceUrl.trim().replace(/\/+$/, '');
  const token = s.token.trim();
  const problems = settingsProblems(instanceUrl, token, lang);
  if (problems.length > 0) return problems;
  const rs = Office.context.roamingSettings;
  rs.set('instanceUrl', instanceUrl);
  rs.set('token', token);
  rs.set('moveToJunk', s.moveToJunk);
  const saved = await new Promise<Office.AsyncResult<void>>((resolve) => rs.saveAsync(resolve));
  if (saved.status === Office.AsyncResultStatus.Failed)
    return [`${UI[lang].saveFailed} ${saved.error?.message ?? ''}`.trim()];
  return [];
}

/** The user's Office display language, reduced to the two the add-in speaks. */
export function currentLang(): Lang {
  return langOf(Office.context.displayLanguage);
}

function currentLangOrEnglish(): Lang {
  try {
    return currentLang();
  } catch {
    return 'en';
  }
}

/** True when this Outlook can hand out a message's exact source. */
export function canGetSource(): boolean {
  return Office.context.requirements.isSetSupported('Mailbox', '1.14');
}

/** What one attempt ended with, for the pane or the post-processing dialog. */
export interface ReportResult {
  ok: boolean;
  title: string;
  text: string;
  outcome?: SubmitOutcome;
}

/** The current message's EML as base64, or the reason Outlook gave. */
function messageSource(): Promise<{ base64: string } | { error: string }> {
  const item = Office.context.mailbox.item;
  const getAsFile = item?.getAsFileAsync;
  if (!item || typeof getAsFile !== 'function') return Promise.resolve({ error: 'no message is open' });
  return new Promise((resolve) => {
    getAsFile.call(item, (r) => {
      if (r.status === Office.AsyncResultStatus.Failed || typeof r.value !== 'string' || r.value.length === 0)
        resolve({ error: r.error?.message ?? 'empty source' });
      else resolve({ base64: r.value });
    });
  });
}

export interface ReportDeps {
  fetch: typeof fetch;
  randomUUID: () => string;
}

/** Reports the open message. Never throws. */
export async function reportCurrentMessage(deps: ReportDeps, note?: string): Promise<ReportResult> {
  const lang = currentLang();
  const ui = UI[lang];
  if (!canGetSource()) return { ok: false, title: ui.tooOldTitle, text: ui.tooOldText(loadSettings().instanceUrl) };
  const settings = loadSettings();
  const problems = settingsProblems(settings.instanceUrl, settings.token, lang);
  if (problems.length > 0) return { ok: false, title: ui.notSetUpTitle, text: `${problems.join(' ')} ${ui.openPane}` };
  const source = await messageSource();
  if ('error' in source) return { ok: false, title: ui.noSourceTitle, text: `${ui.noSourceText} (${source.error})` };
  const outcome = await submitReport({
    instanceUrl: settings.instanceUrl,
    token: settings.token,
    client: 'outlook',
    rawBase64: source.base64,
    note,
    idempotencyKey: deps.randomUUID(),
    fetch: deps.fetch,
  });
  const { title, text } = describeOutcome(outcome, lang, settings.instanceUrl);
  return { ok: outcome.kind === 'stored', title, text, outcome };
}

/** The note for a report from the preprocessing dialog: the reasons ticked and the user's words. */
export function noteFromDialog(options: boolean[] | undefined, freeText: string | undefined): string | undefined {
  const reasons = SPAM_REASONS.filter((_, i) => options?.[i] === true);
  const parts: string[] = [];
  if (reasons.length > 0) parts.push(`Reasons: ${reasons.join('; ')}.`);
  if (freeText?.trim()) parts.push(freeText.trim());
  return parts.length > 0 ? parts.join('\n') : undefined;
}

/**
 * The integrated spam-reporting button's handler (`SpamReporting` event). The message moves to
 * Junk only after a 202 and only when the user asked for it; on any failure it stays where it is
 * (`NoMove`, never deleted) and the dialog says what happened.
 */
export async function onSpamReport(event: Office.SpamReportingEvent, deps: ReportDeps): Promise<ReportResult> {
  let result: ReportResult;
  let moveToJunk = false;
  try {
    result = await reportCurrentMessage(deps, noteFromDialog(event.options, event.freeText));
    moveToJunk = loadSettings().moveToJunk;
  } catch (e) {
    // Outlook waits for `completed` whatever happens: an unexpected error still gets words.
    result = {
      ok: false,
      title: UI[currentLangOrEnglish()].failedTitle,
      text: e instanceof Error ? e.message : String(e),
    };
  }
  const move =
    result.ok && moveToJunk ? Office.MailboxEnums.MoveSpamItemTo.JunkFolder : Office.MailboxEnums.MoveSpamItemTo.NoMove;
  event.completed({
    onErrorDeleteItem: false,
    moveItemTo: move,
    showPostProcessingDialog: { title: result.title.slice(0, 128), description: result.text.slice(0, 500) },
  });
  return result;
}

interface PaneStrings {
  tooOldTitle: string;
  tooOldText: (instanceUrl: string) => string;
  notSetUpTitle: string;
  openPane: string;
  noSourceTitle: string;
  noSourceText: string;
  saveFailed: string;
  failedTitle: string;
}

/** Strings of the reporting path (the pane's own labels are in taskpane-strings.ts). */
export const UI: Record<Lang, PaneStrings> = {
  en: {
    tooOldTitle: 'This Outlook cannot report',
    tooOldText: (url) =>
      'This version of Outlook cannot give the exact source of a message (it lacks Mailbox 1.14), and a rebuilt ' +
      'copy is no evidence. Update Outlook, or forward the message as an attachment, or use the web form' +
      `${url ? `: ${webFormUrl(url)}` : '.'}`,
    notSetUpTitle: 'Not set up yet',
    openPane: 'Open the add-in’s settings pane to set your token.',
    noSourceTitle: 'Source not available',
    noSourceText: 'Outlook could not give the message’s source; nothing was sent.',
    saveFailed: 'Outlook could not save the settings:',
    failedTitle: 'Report failed',
  },
  fr: {
    tooOldTitle: 'Cet Outlook ne peut pas signaler',
    tooOldText: (url) =>
      'Cette version d’Outlook ne peut pas fournir la source exacte d’un message (Mailbox 1.14 manquant), et une ' +
      'copie reconstituée ne vaut pas preuve. Mettez Outlook à jour, ou transférez le message en pièce jointe, ou ' +
      `utilisez le formulaire en ligne${url ? ` : ${webFormUrl(url)}` : '.'}`,
    notSetUpTitle: 'Pas encore configuré',
    openPane: 'Ouvrez le volet de réglages du complément pour indiquer votre jeton.',
    noSourceTitle: 'Source indisponible',
    noSourceText: 'Outlook n’a pas pu fournir la source du message ; rien n’a été envoyé.',
    saveFailed: 'Outlook n’a pas pu enregistrer les réglages :',
    failedTitle: 'Échec du signalement',
  },
};
