/**
 * What a national body changes to ship the report buttons under its own name: the instance URL,
 * names, where the Outlook add-in's files are hosted, its OAuth clients for Gmail and Microsoft
 * Graph, icons. `npm run addon:build -- --brand my-brand.json` merges a JSON file over these
 * defaults (docs/addons.md lists every field); problems are all reported before anything is built.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface OAuthProvider {
  /** The national body's own OAuth client id at the provider. */
  clientId: string;
  /** Authorization endpoint (RFC 6749 §3.1). */
  authUrl: string;
  /** Token endpoint, for the authorization-code flow with PKCE (RFC 7636); unused by `token`. */
  tokenUrl: string;
  /** `token`: implicit grant (Google "Web application" clients); `code`: code + PKCE (Microsoft SPA). */
  flow: 'token' | 'code';
  scope: string;
  /** Base of the mail API: Gmail `https://gmail.googleapis.com`, Graph `https://graph.microsoft.com/v1.0`. */
  apiBase: string;
}

export interface Brand {
  /** Full name, shown in stores and the admin centre (≤ 45 characters). */
  name: string;
  /** Short name, on buttons and in the ribbon (≤ 30 characters). */
  shortName: string;
  /** One line, ≤ 80 characters. */
  description: string;
  developer: string;
  websiteUrl: string;
  privacyUrl: string;
  termsUrl: string;
  /** The Spamdesk instance reports go to; users may change it in the settings. */
  instanceUrl: string;
  version: string;
  /** `#rrggbb`, the Outlook manifest's accent colour and the icons' colour. */
  accentColor: string;
  /** A folder holding icon-16.png … icon-192.png to use instead of the generated ones. */
  iconsDir: string | null;
  outlook: {
    /** A GUID of the national body's own (a new one per distributed add-in). */
    appId: string;
    /** HTTPS folder where `addon/dist/outlook/` is served; same origin as the instance is simplest. */
    baseUrl: string;
  };
  webmail: {
    /** Firefox add-on id (AMO), e.g. `report-spam@example.org`. */
    geckoId: string;
    gmail: OAuthProvider;
    graph: OAuthProvider;
    /** Extra host permissions (a test API server, a second instance). */
    extraHostPermissions: string[];
  };
}

export const DEFAULT_BRAND: Brand = {
  name: 'Spamdesk — Report spam',
  shortName: 'Report spam',
  description: 'Report spam in one click: sends the exact message to the anti-spam service.',
  developer: 'Spamdesk',
  websiteUrl: 'https://spamdesk.example.org/',
  privacyUrl: 'https://spamdesk.example.org/privacy',
  termsUrl: 'https://spamdesk.example.org/terms',
  instanceUrl: 'https://spamdesk.example.org',
  version: '1.0.0',
  accentColor: '#b71c1c',
  iconsDir: null,
  outlook: {
    appId: '4f1c2a6e-8d3b-4e5f-9a7c-2b6d8e0f1a3c',
    baseUrl: 'https://spamdesk.example.org/addins/outlook/',
  },
  webmail: {
    geckoId: 'webmail-report-spam@spamdesk.org',
    gmail: {
      clientId: '',
      authUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      flow: 'token',
      scope: 'https://www.googleapis.com/auth/gmail.readonly',
      apiBase: 'https://gmail.googleapis.com',
    },
    graph: {
      clientId: '',
      authUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
      tokenUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
      flow: 'code',
      scope: 'https://graph.microsoft.com/Mail.Read offline_access',
      apiBase: 'https://graph.microsoft.com/v1.0',
    },
    extraHostPermissions: [],
  },
};

/** Deep-merges a brand file's fields over the defaults. */
export function mergeBrand(base: Brand, over: unknown): Brand {
  return mergeObjects(base, over) as Brand;
}

function mergeObjects(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeObjects(base[k], v) : v;
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every problem with a brand, in words; empty when it can be built. */
export function brandProblems(b: Brand): string[] {
  const p: string[] = [];
  const https = (what: string, v: string): void => {
    try {
      if (new URL(v).protocol !== 'https:') p.push(`${what} must be an https:// URL (${v}).`);
    } catch {
      p.push(`${what} is not a URL (${v}).`);
    }
  };
  if (!b.name || b.name.length > 45) p.push('name must be 1–45 characters.');
  if (!b.shortName || b.shortName.length > 30) p.push('shortName must be 1–30 characters.');
  if (!b.description || b.description.length > 80) p.push('description must be 1–80 characters.');
  if (!b.developer || b.developer.length > 32) p.push('developer must be 1–32 characters.');
  https('websiteUrl', b.websiteUrl);
  https('privacyUrl', b.privacyUrl);
  https('termsUrl', b.termsUrl);
  https('outlook.baseUrl', b.outlook.baseUrl);
  if (!b.outlook.baseUrl.endsWith('/')) p.push('outlook.baseUrl must end with /.');
  try {
    new URL(b.instanceUrl);
  } catch {
    p.push(`instanceUrl is not a URL (${b.instanceUrl}).`);
  }
  if (!/^\d+\.\d+\.\d+$/.test(b.version)) p.push('version must be MAJOR.MINOR.PATCH.');
  if (!/^#[0-9a-fA-F]{6}$/.test(b.accentColor)) p.push('accentColor must be #rrggbb.');
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(b.outlook.appId))
    p.push('outlook.appId must be a GUID.');
  for (const [name, prov] of [
    ['gmail', b.webmail.gmail],
    ['graph', b.webmail.graph],
  ] as const) {
    if (prov.flow !== 'token' && prov.flow !== 'code') p.push(`webmail.${name}.flow must be "token" or "code".`);
    for (const k of ['authUrl', 'tokenUrl', 'apiBase'] as const) {
      try {
        new URL(prov[k]);
      } catch {
        p.push(`webmail.${name}.${k} is not a URL.`);
      }
    }
  }
  if (b.iconsDir && !fs.existsSync(b.iconsDir)) p.push(`iconsDir ${b.iconsDir} does not exist.`);
  return p;
}

/**
 * Things that build but deserve a word: the Outlook add-in calls the instance from the origin it
 * is served from, and Spamdesk's API sends no CORS headers, so another origin needs a reverse
 * proxy that adds them (docs/addons.md).
 */
export function brandWarnings(b: Brand): string[] {
  const origin = (u: string): string => {
    try {
      return new URL(u).origin;
    } catch {
      return u;
    }
  };
  if (origin(b.outlook.baseUrl) === origin(b.instanceUrl)) return [];
  return [
    `outlook.baseUrl (${origin(b.outlook.baseUrl)}) is not on the instance's origin (${origin(b.instanceUrl)}): ` +
      'serve the Outlook add-in from the instance, or have your reverse proxy answer CORS for /api/v1/reports.',
  ];
}

/** Reads a brand file (JSON) over the defaults; throws with every problem listed. */
export function loadBrand(file: string | null): Brand {
  let brand = DEFAULT_BRAND;
  if (file) {
    const over: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    brand = mergeBrand(DEFAULT_BRAND, over);
    if (brand.iconsDir) brand = { ...brand, iconsDir: path.resolve(path.dirname(file), brand.iconsDir) };
  }
  const problems = brandProblems(brand);
  if (problems.length > 0) throw new Error(`brand${file ? ` ${file}` : ''}: ${problems.join(' ')}`);
  return brand;
}
