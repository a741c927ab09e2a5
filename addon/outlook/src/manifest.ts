/**
 * The Outlook add-in's manifest: the unified manifest for Microsoft 365 (JSON, schema 1.24), built
 * from the brand. Why this one and not the XML add-in-only manifest: `office-addin-manifest
 * validate` checks a JSON manifest offline against the schema it ships, while it can only check an
 * XML manifest by posting it to Microsoft's validation service, which CI cannot reach (and the
 * Microsoft 365 admin centre deploys both).
 *
 * Two ribbons:
 * - the integrated spam-reporting button (`spamReportingOverride`, Mailbox 1.14): Outlook's own
 *   "Report" place, its preprocessing dialog, and the one way Office.js moves a message to Junk
 *   (`event.completed({ moveItemTo })`);
 * - a "Spamdesk" button on every read message (Mailbox 1.3) opening the task pane: the token is set
 *   once there, and where Mailbox 1.14 is missing the pane says why reporting is not possible.
 */
import type { Brand } from '../../src/brand.ts';

export const MANIFEST_SCHEMA_VERSION = '1.24';
const SCHEMA_BASE = 'https://developer.microsoft.com/json-schemas/teams';
/** Reasons offered in Outlook's preprocessing dialog, sent as the report's note. */
export const SPAM_REASONS = ['Spam or advertising', 'Phishing or fraud', 'Scam (money, prize, parcel)'] as const;
export const REPORT_FUNCTION = 'onSpamReport';
export const OPEN_PANE_ACTION = 'openSpamdeskPane';

/** Icon files the manifest refers to (built beside it). */
export const OUTLOOK_ICON_SIZES = [16, 32, 64, 80] as const;

export function outlookManifest(brand: Brand): Record<string, unknown> {
  const base = brand.outlook.baseUrl;
  const icons = (sizes: readonly number[]) => sizes.map((size) => ({ size, url: `${base}icon-${size}.png` }));
  const ribbonIcons = icons([16, 32, 80]);
  return {
    $schema: `${SCHEMA_BASE}/v${MANIFEST_SCHEMA_VERSION}/MicrosoftTeams.schema.json`,
    manifestVersion: MANIFEST_SCHEMA_VERSION,
    version: brand.version,
    id: brand.outlook.appId,
    localizationInfo: {
      defaultLanguageTag: 'en-us',
    },
    developer: {
      name: brand.developer,
      websiteUrl: brand.websiteUrl,
      privacyUrl: brand.privacyUrl,
      termsOfUseUrl: brand.termsUrl,
    },
    name: { short: brand.shortName, full: brand.name },
    description: {
      short: brand.description,
      full:
        `${brand.description} The add-in sends the message's exact source (headers and body, unchanged) to ` +
        `${brand.instanceUrl} with your personal token, and can move it to Junk once the report is stored.`,
    },
    icons: { color: 'color.png', outline: 'outline.png' },
    accentColor: brand.accentColor.toUpperCase(),
    validDomains: [new URL(base).host],
    authorization: {
      permissions: { resourceSpecific: [{ name: 'MailboxItem.Read.User', type: 'Delegated' }] },
    },
    extensions: [
      {
        requirements: { scopes: ['mail'], capabilities: [{ name: 'Mailbox', minVersion: '1.3' }] },
        runtimes: [
          {
            id: 'PaneRuntime',
            type: 'general',
            code: { page: `${base}taskpane.html` },
            lifetime: 'short',
            actions: [{ id: OPEN_PANE_ACTION, type: 'openPage', pinnable: false }],
          },
          {
            id: 'ReportRuntime',
            requirements: { capabilities: [{ name: 'Mailbox', minVersion: '1.14' }] },
            type: 'general',
            code: { page: `${base}commands.html`, script: `${base}commands.js` },
            lifetime: 'short',
            actions: [{ id: REPORT_FUNCTION, type: 'executeFunction' }],
          },
        ],
        ribbons: [
          {
            contexts: ['mailRead'],
            tabs: [
              {
                builtInTabId: 'TabDefault',
                groups: [
                  {
                    id: 'SpamdeskGroup',
                    label: brand.shortName,
                    icons: ribbonIcons,
                    controls: [
                      {
                        id: 'SpamdeskPaneButton',
                        type: 'button',
                        label: `${brand.shortName}: settings`,
                        icons: ribbonIcons,
                        supertip: {
                          title: brand.shortName,
                          description: 'Set your token once, see whether this Outlook can report, report this message.',
                        },
                        actionId: OPEN_PANE_ACTION,
                      },
                    ],
                  },
                ],
              },
            ],
          },
          {
            contexts: ['spamReportingOverride'],
            requirements: { capabilities: [{ name: 'Mailbox', minVersion: '1.14' }] },
            tabs: [
              {
                builtInTabId: 'TabDefault',
                groups: [
                  {
                    id: 'SpamdeskReportGroup',
                    label: brand.shortName,
                    icons: ribbonIcons,
                    controls: [
                      {
                        id: 'SpamdeskReportButton',
                        type: 'button',
                        label: brand.shortName,
                        icons: ribbonIcons,
                        supertip: {
                          title: brand.shortName,
                          description: `Sends this message, unchanged, to ${new URL(brand.instanceUrl).host}.`,
                        },
                        actionId: REPORT_FUNCTION,
                      },
                    ],
                  },
                ],
              },
            ],
            spamPreProcessingDialog: {
              title: brand.shortName,
              description:
                'The exact message (headers and body) will be sent to the national anti-spam service with your ' +
                'token. / Le message exact (en-têtes et corps) sera envoyé au service national anti-spam.',
              spamNeverShowAgainOption: true,
              spamReportingOptions: { title: 'Why? / Pourquoi ?', options: [...SPAM_REASONS], type: 'checkbox' },
              spamFreeTextSectionTitle: 'Anything to add? (optional) / Un commentaire ? (facultatif)',
              spamMoreInfo: {
                text: 'How reports are used / Ce que deviennent les signalements',
                url: brand.websiteUrl,
              },
            },
          },
        ],
      },
    ],
  };
}
