/**
 * The extension's manifest (Manifest V3) for Chromium and for Firefox, from one source. They
 * differ only where the browsers do: Chromium runs the background as a `service_worker`, Firefox
 * as an event page (`scripts`), and only Firefox takes `browser_specific_settings` (add-on id,
 * data-collection declaration). A single manifest carrying both would load in both, but each
 * browser would then warn about the other's keys; two exact ones lint clean.
 */
import type { Brand } from '../../src/brand.ts';

export type WebmailTarget = 'chromium' | 'firefox';

export const WEBMAIL_ICON_SIZES = [16, 32, 48, 128] as const;

const GMAIL_PAGES = ['https://mail.google.com/*'];
const OUTLOOK_PAGES = ['https://outlook.live.com/*', 'https://outlook.office.com/*', 'https://outlook.office365.com/*'];

/** Match pattern of a URL's origin (match patterns have no port). */
function originPattern(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}/*`;
}

export function webmailManifest(brand: Brand, target: WebmailTarget): Record<string, unknown> {
  const w = brand.webmail;
  const apiHosts = [w.gmail.apiBase, w.gmail.tokenUrl, w.graph.apiBase, w.graph.tokenUrl].map(originPattern);
  const hostPermissions = [...new Set([...apiHosts, originPattern(brand.instanceUrl), ...w.extraHostPermissions])];
  const icons = Object.fromEntries(WEBMAIL_ICON_SIZES.map((s) => [String(s), `icons/icon-${s}.png`]));
  const manifest: Record<string, unknown> = {
    manifest_version: 3,
    name: '__MSG_extName__',
    description: '__MSG_extDescription__',
    default_locale: 'en',
    version: brand.version,
    author: brand.developer,
    homepage_url: brand.websiteUrl,
    icons,
    permissions: ['storage', 'identity', 'alarms', 'unlimitedStorage'],
    host_permissions: hostPermissions,
    // Another instance than the brand's: asked for when the user saves it.
    optional_host_permissions: ['https://*/*'],
    background: target === 'chromium' ? { service_worker: 'background.js' } : { scripts: ['background.js'] },
    content_scripts: [
      { matches: GMAIL_PAGES, js: ['content-gmail.js'], run_at: 'document_idle' },
      { matches: OUTLOOK_PAGES, js: ['content-outlook.js'], run_at: 'document_idle' },
    ],
    options_ui: { page: 'options.html', open_in_tab: true },
    action: { default_title: '__MSG_extName__', default_icon: icons },
  };
  if (target === 'chromium') return manifest;
  return {
    ...manifest,
    browser_specific_settings: {
      gecko: {
        id: w.geckoId,
        // 140 (ESR): the first with the data-collection declaration below.
        strict_min_version: '140.0',
        // The extension sends the message a user chose to report to the service the user set up;
        // nothing is collected by the extension's authors (Firefox's data-collection declaration).
        data_collection_permissions: { required: ['personalCommunications', 'authenticationInfo'] },
      },
      gecko_android: { strict_min_version: '142.0' },
    },
  };
}
