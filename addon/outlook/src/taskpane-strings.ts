/** The task pane's labels, English and French (chosen from Office's display language). */
import type { Lang } from '../../src/report-client.ts';

export type PaneKey =
  | 'title'
  | 'intro'
  | 'instanceUrl'
  | 'token'
  | 'tokenHelp'
  | 'moveToJunk'
  | 'save'
  | 'saved'
  | 'report'
  | 'reportHelp'
  | 'canReport'
  | 'reporting';

export const PANE_STRINGS: Record<Lang, Record<PaneKey, string>> = {
  en: {
    title: 'Report spam',
    intro: 'Reports go to the national anti-spam service with the exact message, unchanged.',
    instanceUrl: 'Service address',
    token: 'Your personal token',
    tokenHelp: 'Create it once on your account page of the service (it looks like sdk_…).',
    moveToJunk: 'Move the message to Junk once it is reported',
    save: 'Save',
    saved: 'Saved.',
    report: 'Report this message',
    reportHelp: 'Or use the “Report” button of Outlook’s ribbon, which can also move the message to Junk.',
    canReport: 'This Outlook can send a message’s exact source.',
    reporting: 'Sending…',
  },
  fr: {
    title: 'Signaler un spam',
    intro: 'Les signalements partent au service national anti-spam avec le message exact, inchangé.',
    instanceUrl: 'Adresse du service',
    token: 'Votre jeton personnel',
    tokenHelp: 'Créez-le une fois sur la page de votre compte du service (il ressemble à sdk_…).',
    moveToJunk: 'Déplacer le message dans les courriers indésirables une fois signalé',
    save: 'Enregistrer',
    saved: 'Enregistré.',
    report: 'Signaler ce message',
    reportHelp: 'Ou utilisez le bouton « Signaler » du ruban d’Outlook, qui peut aussi le déplacer en indésirables.',
    canReport: 'Cet Outlook peut envoyer la source exacte d’un message.',
    reporting: 'Envoi…',
  },
};
