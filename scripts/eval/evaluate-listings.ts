/**
 * `npm run eval -- listings`: what the DNS blocklist and plain lists would publish on real, mixed
 * data. The shared corpora (SpamAssassin ham and spam, TREC 2007, phishing_pot, Nazario, the
 * 2023–2025 spam archive) as one seeded-shuffled stream of live reports — users report newsletters
 * and mailing lists by mistake, so ham is reported too — go through the real pipeline: analysis
 * (static DNS, the real ASN data, the reverse DNS the receiving MTA recorded), classification,
 * clustering, the actions area's per-report facts, then the listing pass under each policy.
 *
 * Each corpus mailbox the trace-back labels name (`stream-reporters.ts`) reports its own messages,
 * and its mail hosts are learned as a live instance learns them; every other message comes in
 * through one intake channel. The reports are spread over six days ending at the pass; the
 * corpora's own dates are years old, so each message's times are moved with its report (it arrived
 * when reported, and its origin sent it as long before as its headers say): what an old corpus
 * date would otherwise hide from the infected-machines window.
 *
 * Every listed value is then checked against independent knowledge, none of it the listing code's
 * own tables: big mailbox providers and ESP relays (the trace-back's trusted-relay table, and the
 * origin's AS by name), origins of ham, domains seen in ham (sender or link), URL shorteners,
 * brands' own domains and networks (an origin AS registered under a brand's name), image/CDN hosts,
 * legitimate ESPs' tracking hosts, and the reporting
 * mailboxes' own delivering hosts (the `by` host of a message's topmost Received field — the
 * reporter's side writes that line — named in at least {@link MIN_DELIVERED} messages of the stream).
 * A sample of each list is printed for reading by hand. Then the intel feeds' sources and the ISP alerts'
 * judge (one digest period after another, default and one-report policies) run on the same stream, and
 * what they would publish or alert is put to the same checks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getDomain, getDomainWithoutSuffix } from 'tldts';
import { analyse } from '../../src/analysis/analyse.ts';
import { indicatorRows } from '../../src/analysis/repository.ts';
import { siteOfUrl } from '../../src/analysis/indicators/urls.ts';
import { staticPorts } from '../../src/analysis/ports/index.ts';
import { defaultAnalysisSettings } from '../../src/analysis/settings.ts';
import { corpusMessages, type LabelledMessage } from '../train/corpus.ts';
import { createClassifier } from '../../src/analysis/classify/classify.ts';
import { DEFAULT_MODEL_FILE, loadModel } from '../../src/analysis/classify/model.ts';
import { loadScores } from '../../src/analysis/classify/scores.ts';
import { testConfig } from '../../src/core/config.ts';
import { newId } from '../../src/core/ids.ts';
import { openDatabase } from '../../src/db/dialect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { fingerprintOf } from '../../src/campaigns/fingerprint.ts';
import { ingestFingerprint } from '../../src/campaigns/cluster.ts';
import { saveClassification } from '../../src/campaigns/service.ts';
import { seededRng } from '../../src/campaigns/personalise.ts';
import { parseActionPolicy, type ActionPolicy } from '../../src/actions/action-policy.ts';
import { factsFrom, saveFacts } from '../../src/actions/report-facts.ts';
import { trustTableFor } from '../../src/analysis/stages/traceback/trust.ts';
import { headerFields } from '../../src/analysis/stages/traceback/header-block.ts';
import { parseReceived } from '../../src/analysis/stages/traceback/received-parser.ts';
import { runListingPass } from '../../src/feeds/lists/pass.ts';
import { snapshotFor } from '../../src/feeds/intel/build.ts';
import { judgeOrigins } from '../../src/actions/isp/isp-digests.ts';
import { loadAddressRefusals } from '../../src/actions/address-refusals.ts';
import { STREAM_SOURCES } from './campaign-stream.ts';
import { StreamReporters } from './stream-reporters.ts';
import { learnedOrigin } from '../../src/analysis/mailhost-store.ts';
import { loadChains } from './evaluate-traceback.ts';
import { isListMail } from '../../src/analysis/list-mail.ts';
import {
  FREQUENT_ORIGIN_SENDERS,
  FREQUENT_ORIGIN_WINDOW,
  frequentCandidates,
  frequentOriginsOf,
  type OriginOfReport,
} from '../../src/web/pages/account-mailhosts.ts';

const SEED = 20261202;
const DAY_MS = 86_400_000;
/** The reports are spread over this many days before the pass. */
const SPREAD_DAYS = 6;

/** Mailbox providers, relays and ESPs, by the AS name of the origin (ip-location-db). */
const PROVIDER_AS: [string, RegExp][] = [
  ['Google', /\bgoogle\b/i],
  ['Microsoft', /microsoft/i],
  ['Yahoo', /yahoo|oath\b/i],
  ['Amazon (SES)', /amazon/i],
  ['SendGrid/Twilio', /sendgrid|twilio/i],
  ['Mailchimp', /rocket science|mailchimp|intuit/i],
  ['Mailgun', /mailgun/i],
  ['SparkPost', /sparkpost|message ?systems/i],
  ['Salesforce/ExactTarget', /salesforce|exacttarget/i],
  ['Constant Contact', /constant ?contact|roving/i],
  ['Apple', /\bapple\b/i],
  ['Meta', /facebook|meta platforms/i],
  ['Zoho', /zoho/i],
  ['Mailjet/Brevo', /mailjet|sendinblue|brevo/i],
  ['Postmark', /wildbit|postmark/i],
  ['Proofpoint/Mimecast', /proofpoint|mimecast/i],
];

/** URL shorteners: a listing lists every link behind them. */
const SHORTENERS = new Set(
  (
    'bit.ly bitly.com tinyurl.com goo.gl t.co ow.ly is.gd buff.ly rebrand.ly cutt.ly shorturl.at tiny.cc bit.do ' +
    'lnkd.in rb.gy t.ly s.id v.gd x.co po.st su.pr qr.net tr.im snipurl.com shorte.st adf.ly linktr.ee t.me ' +
    'urlz.fr me.sv 2no.co ity.im clck.ru'
  ).split(' '),
);

/** Brands' own domains: phishing links them for images, legal footers and the real login page. */
const BRANDS = new Set(
  (
    'paypal.com apple.com icloud.com microsoft.com office.com office365.com live.com outlook.com hotmail.com ' +
    'microsoftonline.com windows.com amazon.com amazon.co.uk amazon.de amazon.fr google.com gmail.com youtube.com ' +
    'facebook.com instagram.com whatsapp.com linkedin.com twitter.com x.com netflix.com ebay.com chase.com ' +
    'wellsfargo.com bankofamerica.com citi.com citibank.com americanexpress.com capitalone.com usbank.com hsbc.com ' +
    'barclays.co.uk natwest.com santander.com dhl.com dhl.de fedex.com ups.com usps.com royalmail.com laposte.fr ' +
    'adobe.com docusign.com docusign.net dropbox.com irs.gov gov.uk yahoo.com aol.com wetransfer.com spotify.com ' +
    'steampowered.com steamcommunity.com coinbase.com binance.com blockchain.com metamask.io walmart.com ' +
    'costco.com target.com bestbuy.com att.com verizon.com t-mobile.com comcast.net xfinity.com orange.fr sfr.fr ' +
    'free.fr bouyguestelecom.fr ameli.fr impots.gouv.fr service-public.fr credit-agricole.fr societegenerale.fr ' +
    'bnpparibas.com labanquepostale.fr visa.com mastercard.com norton.com mcafee.com zoom.us skype.com'
  ).split(' '),
);

/** Image, file and CDN hosts shared by everyone. */
const CDN = new Set(
  (
    'googleusercontent.com gstatic.com googleapis.com cloudfront.net akamaihd.net akamaized.net akamai.net ' +
    'edgesuite.net edgekey.net fbcdn.net imgur.com cloudflare.com cloudflare-ipfs.com jsdelivr.net amazonaws.com ' +
    'azureedge.net windows.net blob.core.windows.net appspot.com firebaseapp.com firebasestorage.googleapis.com ' +
    'ibb.co imgbb.com postimg.cc postimages.org wp.com wordpress.com githubusercontent.com github.io ' +
    'photobucket.com tinypic.com flickr.com staticflickr.com twimg.com ytimg.com sharepoint.com 1drv.ms ' +
    'fastly.net b-cdn.net cdninstagram.com digitaloceanspaces.com backblazeb2.com wixstatic.com squarespace.com ' +
    'shopify.com myshopify.com weebly.com blogspot.com blogger.com sites.google.com'
  ).split(' '),
);

/** Tracking and click hosts of legitimate ESPs. */
const ESP_TRACKING = new Set(
  (
    'list-manage.com mailchimp.com mcusercontent.com mcsv.net mcdlv.net rsgsv.net sendgrid.net sendgrid.com ' +
    'mailgun.org mailgun.net mandrillapp.com sparkpostmail.com exacttarget.com exct.net rs6.net ' +
    'constantcontact.com hubspot.com hubspotlinks.com hs-sites.com hsforms.com klaviyo.com klclick.com ' +
    'sendinblue.com brevo.com mailjet.com mjt.lu createsend.com cmail19.com cmail20.com campaign-archive.com ' +
    'emarsys.net doubleclick.net google-analytics.com mktoweb.com marketo.com pardot.com salesforce.com ' +
    'ymlp.com icontact.com aweber.com getresponse.com mailerlite.com convertkit.com ck.page substack.com ' +
    'sailthru.com responsys.net bronto.com msgfocus.com returnpath.net email-od.com'
  ).split(' '),
);

/** Messages of the stream a host must have delivered (topmost Received) to count as a reporting mailbox's own. */
const MIN_DELIVERED = 5;

/** The host that wrote a message's topmost Received field (the delivering side: the reporter's own), lower case. */
function deliveringHost(raw: Buffer): string | null {
  const top = headerFields(raw).find((f) => f.name === 'received');
  const by = top === undefined ? undefined : (parseReceived(top.value).byHost ?? undefined);
  return by?.includes('.') ? by.toLowerCase().replace(/\.$/, '') : null;
}

interface Seen {
  label: 'legitimate' | 'abusive';
  source: string;
  id: string;
  asn: number | null;
  asName: string | null;
}

interface Corpus {
  /** sha256 → labelled message, for reading the reports behind a listing. */
  bySha: Map<string, Seen>;
  hamOrigins: Set<string>;
  hamDomains: Set<string>;
  /** Origin IP → AS number and name as analysed. */
  asOf: Map<string, { asn: number | null; asName: string | null }>;
  /** Delivering host (topmost Received `by`) → messages of the stream it delivered. */
  delivered: Map<string, number>;
  /** Per ISP policy: the addresses its digests alerted as the stream went, each digest at its period's end. */
  liveAlerts: Map<string, LiveAlert[]>;
  /** Report id → its reporter's key (`user:ID`), for the reports of the corpus mailboxes (not the anonymous ones). */
  reporterOf: Map<string, string>;
  /** Reporter key → the mail hosts learned for it at the end of the stream. */
  learned: Map<string, string[]>;
  /** The messages that came through a mailing list (`isListMail`), by sha256. */
  listMail: Set<string>;
}

/** An address an ISP digest alerted, as the evaluation keeps it. */
interface LiveAlert {
  ip: string;
  asn: number | null;
  asName: string | null;
  rdns: string | null;
  reportCount: number;
  /** The end of the digest period that alerted it. */
  at: string;
}

export interface ListingFigures {
  policy: string;
  ips: number;
  infected: number;
  infrastructure: number;
  domains: number;
  innocentIps: number;
  innocentDomains: number;
  held: number;
}

function shuffled(corpusDir: string, seed: number, out: (s: string) => void): LabelledMessage[] {
  const present = STREAM_SOURCES.filter((s) => fs.existsSync(path.join(corpusDir, s)));
  const missing = STREAM_SOURCES.filter((s) => !present.includes(s));
  if (missing.length) out(`(corpora missing, left out: ${missing.join(', ')})\n`);
  const all: LabelledMessage[] = [...corpusMessages(corpusDir, present)];
  const rng = seededRng(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all;
}

/** The `listing` JSON block of docs/feeds.md (the documented example), parsed as a policy. */
export function docsExamplePolicy(docsFile = path.join(import.meta.dirname, '../../docs/feeds.md')): ActionPolicy {
  const text = fs.readFileSync(docsFile, 'utf8');
  const m = /```json\n(\{\s*"listing"[\s\S]*?)\n```/.exec(text);
  if (!m) throw new Error(`no listing example in ${docsFile}`);
  return parseActionPolicy(JSON.parse(m[1]) as Record<string, unknown>);
}

const pct = (a: number, b: number) => (b ? ((a / b) * 100).toFixed(1) : '0.0');

/** Imports the stream, then runs and checks the listing pass under each policy. */
export async function evaluateListings(
  corpusDir: string,
  out: (s: string) => void,
  opts: { limit?: number; seed?: number; sample?: number; keepDir?: string } = {},
): Promise<ListingFigures[]> {
  const seed = opts.seed ?? SEED;
  const all = shuffled(corpusDir, seed, out);
  const stream = opts.limit ? all.slice(0, opts.limit) : all;
  const end = new Date('2026-11-20T12:00:00.000Z');
  const start = end.getTime() - SPREAD_DAYS * DAY_MS;
  const step = (SPREAD_DAYS * DAY_MS - 60_000) / Math.max(1, stream.length);
  const ports = staticPorts({}, end);
  const settings = defaultAnalysisSettings();
  const classifier = createClassifier({ model: loadModel(DEFAULT_MODEL_FILE), scores: loadScores(null) });
  const defaults = parseActionPolicy({});
  const policies: [string, ActionPolicy][] = [
    ['default', defaults],
    ['docs example (docs/feeds.md)', docsExamplePolicy()],
    [
      'one report (the bench policy)',
      parseActionPolicy({
        listing: {
          infected: { enabled: true, minReports: 1, minCampaigns: 1, minSignals: 1, windowDays: 7, expiryDays: 7 },
          infrastructure: { enabled: true, minReports: 1, minCampaigns: 1, windowDays: 30, expiryDays: 30 },
          domains: {
            enabled: true,
            minReports: 1,
            minCampaigns: 1,
            windowDays: 30,
            expiryDays: 30,
            categories: ['phishing', 'malware', 'scam', 'commercial', 'other'],
          },
        },
      }),
    ],
  ];

  // --keep=DIR: the imported stream (database and references) is kept there and reused by the next
  // run with the same stream, so a change to the listing code is measured in seconds, not an hour.
  const keep = opts.keepDir ? path.resolve(opts.keepDir) : null;
  if (keep) fs.mkdirSync(keep, { recursive: true });
  const dir = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-listings-eval-'));
  // v7: which messages came through a mailing list; v6: each report's reporter and the hosts learned for each (the
  // account page's suggestions); v5: each message's indicators stored, as the analysis job stores them (the intel
  // build reads their URLs); v4: the ISP digests as the stream went; v3: reports traced again after a learning pass;
  // v2: reporters and the delivering-host reference.
  const cacheFile = path.join(dir, `corpus-v7-${seed}-${stream.length}.json`);
  const cached = keep !== null && fs.existsSync(cacheFile);
  const config = testConfig({ dataDir: dir });
  // A kept directory without this stream's references starts afresh.
  if (keep && !cached && config.database.dialect === 'sqlite')
    for (const f of [config.database.path, `${config.database.path}-wal`, `${config.database.path}-shm`])
      fs.rmSync(f, { force: true });
  const db = openDatabase(config.database, { synchronous: 'OFF' });
  const corpus: Corpus = cached
    ? readCorpus(cacheFile)
    : {
        bySha: new Map(),
        hamOrigins: new Set(),
        hamDomains: new Set(),
        asOf: new Map(),
        delivered: new Map(),
        liveAlerts: new Map(),
        reporterOf: new Map(),
        learned: new Map(),
        listMail: new Set(),
      };
  const figures: ListingFigures[] = [];
  try {
    await migrateToLatest(db);
    const t0 = performance.now();
    if (cached) out(`(reusing the stream imported in ${dir})\n`);
    // Each corpus mailbox the trace-back labels name reports its own mail; the rest come in anonymously.
    const reporters = new StreamReporters();
    /** Each report of the stream as stored, by its place in the stream (what a trace again keeps). */
    const stored = new Map<
      number,
      {
        reportId: string;
        receivedAt: string;
        campaignId: string;
        category: string | null;
        verdict: string;
        origin: string | null;
      }
    >();
    const storeFacts = async (i: number, a: Awaited<ReturnType<typeof analyse>>) => {
      const r = stored.get(i);
      if (r === undefined) return null;
      const row = factsFrom(
        {
          reportId: r.reportId,
          sha256: a.sha256,
          receivedAt: r.receivedAt,
          campaignId: r.campaignId,
          category: r.category,
          messageCategory: r.verdict,
          analysis: a,
        },
        defaults,
      );
      // The message arrived when it was reported; its origin sent it as long before as its headers say.
      const shift = Date.parse(r.receivedAt) - Date.parse(row.arrived_at ?? r.receivedAt);
      row.arrived_at = r.receivedAt;
      if (row.origin_sent_at)
        row.origin_sent_at = new Date(
          Math.min(Date.parse(row.origin_sent_at) + shift, Date.parse(r.receivedAt)),
        ).toISOString();
      await saveFacts(db, row);
      await storeIndicators(db, a, r.receivedAt);
      const enr = a.enrichment.origin;
      if (row.origin_ip) corpus.asOf.set(row.origin_ip, { asn: enr?.asn ?? null, asName: enr?.asName ?? null });
      r.origin = row.origin_ip;
      return row;
    };
    let retraced = 0;
    let moved = 0;
    // The ISP digests as the service runs them: each at the end of its period, on the facts stored by then.
    const ispPolicies: [string, ActionPolicy][] = [
      ['default', defaults],
      ['one report', oneReportAlerts(defaults)],
    ];
    const period = defaults.isp.digestIntervalMinutes * 60_000;
    let digestAt = start + period;
    const digest = async (to: number) => {
      for (const [name, policy] of ispPolicies) {
        const refusals = await loadAddressRefusals(db, config, policy);
        const seen = corpus.liveAlerts.get(name) ?? [];
        const at = new Date(to).toISOString();
        for (const j of await judgeOrigins(db, policy, refusals, new Date(to - period).toISOString(), at))
          if (!seen.some((a) => a.ip === j.ip))
            seen.push({ ip: j.ip, asn: j.asn, asName: j.asName, rdns: j.rdns, reportCount: j.reportCount, at });
        corpus.liveAlerts.set(name, seen);
      }
    };
    for (let i = cached ? stream.length : 0; i < stream.length; i++) {
      const m = stream[i];
      for (; start + i * step >= digestAt; digestAt += period) await digest(digestAt);
      const who = reporters.next(`${m.source}/${m.id}`, m.raw, i);
      const a = await analyse(m.raw, {
        ports,
        settings,
        mailhosts: who.mailhosts,
        recipientDomains: who.recipientDomains,
      });
      const newly = who.done();
      const verdict = classifier.classify(a);
      const receivedAt = new Date(start + i * step).toISOString();
      // The verdict stored and the message placed in one transaction, as the campaign stage does (an analyst's
      // relabel reads the category in force from the stored verdict).
      const placement = await db.transaction().execute(async (trx) => {
        await saveClassification(trx, a.sha256, verdict, receivedAt);
        return ingestFingerprint(trx, fingerprintOf(a), { seenAt: receivedAt, category: verdict.category });
      });
      const camp = await db
        .selectFrom('campaigns')
        .select('category')
        .where('id', '=', placement.campaignId)
        .executeTakeFirst();
      const reportId = newId();
      if (who.reporter !== null) corpus.reporterOf.set(reportId, who.reporter);
      stored.set(i, {
        reportId,
        receivedAt,
        campaignId: placement.campaignId,
        category: camp?.category ?? null,
        verdict: verdict.category,
        origin: null,
      });
      const row = await storeFacts(i, a);
      // A learning pass that learned a host traces again the reports of the key's window whose origin it is,
      // as the live job does (`retrace` in src/analysis/job-handler.ts): this one's included.
      for (const n of newly) {
        const isLearned = learnedOrigin(n.added);
        for (const w of n.window) {
          const o = stored.get(w.ref)?.origin;
          if (o === null || o === undefined || !isLearned(o, w.chain)) continue;
          const again = stream[w.ref];
          const ctx = reporters.now(`${again.source}/${again.id}`, again.raw);
          const b = await analyse(again.raw, { ports, settings, ...ctx });
          retraced++;
          if ((await storeFacts(w.ref, b))?.origin_ip !== o) moved++;
        }
      }
      const label = m.label === 'legitimate' ? 'legitimate' : 'abusive';
      if (isListMail(m.raw)) corpus.listMail.add(a.sha256);
      const by = deliveringHost(m.raw);
      if (by !== null) corpus.delivered.set(by, (corpus.delivered.get(by) ?? 0) + 1);
      const enr = a.enrichment.origin;
      if (!corpus.bySha.has(a.sha256))
        corpus.bySha.set(a.sha256, {
          label,
          source: m.source,
          id: m.id,
          asn: enr?.asn ?? null,
          asName: enr?.asName ?? null,
        });
      if (label === 'legitimate') {
        if (row?.sender_domain) corpus.hamDomains.add(row.sender_domain);
        for (const u of a.indicators.urls) if (u.registrableDomain) corpus.hamDomains.add(u.registrableDomain);
      }
      if ((i + 1) % 2000 === 0) process.stderr.write(`  ${i + 1}/${stream.length} analysed\n`);
    }
    if (!cached) {
      for (; digestAt <= end.getTime(); digestAt += period) await digest(digestAt);
      // Ham origins as the facts name them at the end (a trace again moves some).
      corpus.hamOrigins.clear();
      for (const [i, r] of stored)
        if (stream[i].label === 'legitimate' && r.origin !== null) corpus.hamOrigins.add(r.origin);
      out(`traced again after a learning pass: ${retraced} reports, ${moved} of them to another origin\n`);
      for (const [k, hosts] of reporters.learned()) if (k.startsWith('user:')) corpus.learned.set(k, hosts);
    }
    if (keep && !cached) writeCorpus(cacheFile, corpus);
    if (!cached)
      out(
        `reporters: ${[...reporters.reports].map(([k, n]) => `${k} ${n} reports`).join(', ')}; learned at the end: \
${[...reporters.learned()].map(([k, h]) => `${k} ${h.length === 0 ? 'none' : h.join(' ')}`).join('; ')}\n`,
      );
    const ham = [...corpus.bySha.values()].filter((s) => s.label === 'legitimate').length;
    out(
      `stream: ${stream.length} reports (${corpus.bySha.size} distinct messages, ${ham} ham) from \
${STREAM_SOURCES.join(', ')}, seed ${seed}, over ${SPREAD_DAYS} days; analysed, classified, clustered and \
facts stored in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
    );
    out(
      `independent references: ${corpus.hamOrigins.size} ham origins, ${corpus.hamDomains.size} ham domains, \
${SHORTENERS.size} shorteners, ${BRANDS.size} brand domains, ${CDN.size} CDN hosts, ${ESP_TRACKING.size} ESP hosts, \
${[...corpus.delivered.values()].filter((n) => n >= MIN_DELIVERED).length} reporting mailboxes' delivering hosts\n`,
    );
    for (const [name, policy] of policies) {
      await db.deleteFrom('feed_listings').execute();
      await db.deleteFrom('feed_domain_reports').execute();
      await db.deleteFrom('feed_state').execute();
      const p0 = performance.now();
      // Passes as the service runs them, until one changes nothing (a pass reads at most 20 000 facts).
      let passes = 0;
      for (; passes < 20; passes++) {
        const r = await runListingPass(db, config, policy, end, { full: passes === 0 });
        if (passes > 0 && r.changed === 0) break;
      }
      out(`\n=== policy: ${name} (${passes + 1} passes: ${((performance.now() - p0) / 1000).toFixed(1)} s)\n`);
      figures.push(await report(db, config, corpus, name, out, opts.sample ?? 12, seed));
    }
    await intelReport(db, config, corpus, out);
    await suggestionReport(db, config, corpus, out);
    for (const [name, policy] of ispPolicies)
      await ispReport(db, config, corpus, name, policy, new Date(start), end, out);
    return figures;
  } finally {
    await db.destroy();
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

function writeCorpus(file: string, c: Corpus): void {
  const json = {
    bySha: [...c.bySha.entries()],
    hamOrigins: [...c.hamOrigins],
    hamDomains: [...c.hamDomains],
    asOf: [...c.asOf.entries()],
    delivered: [...c.delivered.entries()],
    liveAlerts: [...c.liveAlerts.entries()],
    reporterOf: [...c.reporterOf.entries()],
    learned: [...c.learned.entries()],
    listMail: [...c.listMail],
  };
  fs.writeFileSync(file, JSON.stringify(json));
}

function readCorpus(file: string): Corpus {
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    bySha: [string, Seen][];
    hamOrigins: string[];
    hamDomains: string[];
    asOf: [string, { asn: number | null; asName: string | null }][];
    delivered?: [string, number][];
    liveAlerts?: [string, LiveAlert[]][];
    reporterOf?: [string, string][];
    learned?: [string, string[]][];
    listMail?: string[];
  };
  return {
    bySha: new Map(j.bySha),
    hamOrigins: new Set(j.hamOrigins),
    hamDomains: new Set(j.hamDomains),
    asOf: new Map(j.asOf),
    delivered: new Map(j.delivered ?? []),
    liveAlerts: new Map(j.liveAlerts ?? []),
    reporterOf: new Map(j.reporterOf ?? []),
    learned: new Map(j.learned ?? []),
    listMail: new Set(j.listMail ?? []),
  };
}

type Db = ReturnType<typeof openDatabase>;

/**
 * Brands by the name of their domain (`ebay` of ebay.com; four letters or more): an origin whose AS is
 * registered under one is the brand's own machine. Access providers among the brands are left out
 * (their subscribers' bots are the guilty), as are the providers {@link PROVIDER_AS} names.
 */
const ACCESS_BRANDS = new Set([
  'comcast',
  'xfinity',
  'verizon',
  'orange',
  'free',
  'bouyguestelecom',
  'labanquepostale',
]);
/** Brand domains' names that are common words of other companies' AS names ("Office National des Postes…"). */
const GENERIC_WORDS = new Set(['office', 'live', 'target', 'windows']);
const BRAND_AS_WORDS: readonly [string, RegExp][] = [
  ...new Set([...BRANDS].map((d) => getDomainWithoutSuffix(d) ?? '')),
]
  .filter((w) => w.length >= 4 && /^[a-z]+$/.test(w) && !ACCESS_BRANDS.has(w) && !GENERIC_WORDS.has(w))
  .map((w) => [w, new RegExp(`\\b${w}\\b`, 'i')]);

/**
 * The independent checks of a published value: why it is innocent, by knowledge none of the listing
 * or intel code's own tables (empty: no check flags it).
 */
function independentChecks(
  config: ReturnType<typeof testConfig>,
  corpus: Corpus,
  rdnsOf: ReadonlyMap<string, string | null>,
): { ipChecks: (ip: string) => string[]; domainChecks: (d: string) => string[] } {
  const trust = trustTableFor(config.intakeHosts, null);
  const ipChecks = (ip: string): string[] => {
    const why: string[] = [];
    const relay = trust.byIp(ip) ?? null;
    const named = trust.byName(rdnsOf.get(ip) ?? null);
    if (relay || named) why.push(`trusted relay (${relay?.relay.name ?? named?.name})`);
    const as = corpus.asOf.get(ip);
    const provider = PROVIDER_AS.find(([, re]) => as?.asName && re.test(as.asName));
    if (provider) why.push(`provider AS ${provider[0]} (AS${as?.asn} ${as?.asName})`);
    const brand = provider ? undefined : BRAND_AS_WORDS.find(([, re]) => as?.asName && re.test(as.asName));
    if (brand) why.push(`brand's own network ${brand[0]} (AS${as?.asn} ${as?.asName})`);
    if (corpus.hamOrigins.has(ip)) why.push('origin of ham');
    const name = rdnsOf.get(ip)?.toLowerCase().replace(/\.$/, '');
    const delivered = name === undefined ? 0 : (corpus.delivered.get(name) ?? 0);
    if (delivered >= MIN_DELIVERED) why.push(`a reporting mailbox's own host (delivered ${delivered} messages)`);
    return why;
  };
  const domainChecks = (d: string): string[] => {
    const why: string[] = [];
    const reg = getDomain(d) ?? d;
    if (corpus.hamDomains.has(d) || corpus.hamDomains.has(reg)) why.push('seen in ham');
    if (SHORTENERS.has(d) || SHORTENERS.has(reg)) why.push('URL shortener');
    if (BRANDS.has(d) || BRANDS.has(reg)) why.push('brand domain');
    if (CDN.has(d) || CDN.has(reg)) why.push('image/CDN host');
    if (ESP_TRACKING.has(d) || ESP_TRACKING.has(reg)) why.push('ESP tracking');
    return why;
  };

  return { ipChecks, domainChecks };
}

/**
 * A message's indicator rows as the analysis job stores them beside its analysis (`indicatorRows`), replacing those
 * of an earlier trace; its `messages` row first, empty (the intel build reads the campaigns' URLs from them).
 */
async function storeIndicators(db: Db, a: Awaited<ReturnType<typeof analyse>>, receivedAt: string): Promise<void> {
  await db
    .insertInto('messages')
    .values({
      sha256: a.sha256,
      kind: 'email',
      size: 0,
      codec: 'identity',
      content: Buffer.alloc(0),
      first_seen_at: receivedAt,
    })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .execute();
  await db.deleteFrom('message_indicators').where('message_sha256', '=', a.sha256).execute();
  const rows = indicatorRows(a).map((r) => ({ message_sha256: a.sha256, ...r }));
  for (let i = 0; i < rows.length; i += 200)
    await db
      .insertInto('message_indicators')
      .values(rows.slice(i, i + 200))
      .onConflict((oc) => oc.doNothing())
      .execute();
}

/**
 * What the intel feeds (STIX/TAXII, MISP) would publish from the same stream, under the default
 * policy: every report made a live one (a message and a report row each, which the build's liveness
 * check reads; no reporter identities, so the redaction of reporters' own values is not measured
 * here), the build's sources read as `serve` reads them (`snapshotFor`), and each published origin
 * address and domain put to the same independent checks as the lists' values.
 */
async function intelReport(
  db: Db,
  config: ReturnType<typeof testConfig>,
  corpus: Corpus,
  out: (s: string) => void,
): Promise<void> {
  const facts = await db
    .selectFrom('action_report_facts')
    .select(['report_id', 'message_sha256', 'received_at', 'origin_ip', 'origin_rdns'])
    .execute();
  await db.transaction().execute(async (trx) => {
    for (const f of facts) {
      await trx
        .insertInto('messages')
        .values({
          sha256: f.message_sha256,
          kind: 'email',
          size: 0,
          codec: 'identity',
          content: Buffer.alloc(0),
          first_seen_at: f.received_at,
        })
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
      await trx
        .insertInto('reports')
        .values({
          id: f.report_id,
          message_sha256: f.message_sha256,
          channel: 'api',
          received_at: f.received_at,
          reporter_user_id: null,
          reporter_token_id: null,
          reporter_address: null,
          client_ip: null,
          note: null,
          quality: 'full',
          dedup_key: null,
          context: null,
          tracking_token: f.report_id,
          historical: 0,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
  });
  const rdnsOf = new Map<string, string | null>();
  for (const f of facts) if (f.origin_ip && f.origin_rdns) rdnsOf.set(f.origin_ip, f.origin_rdns);
  const { ipChecks, domainChecks } = independentChecks(config, corpus, rdnsOf);
  const t0 = performance.now();
  const snap = await snapshotFor(db, config);
  const took = ((performance.now() - t0) / 1000).toFixed(1);
  out(
    `\n=== intel feeds (default policy; sources read in ${took} s): ${snap.campaigns.length} campaigns published, \
${snap.held.length} held\n`,
  );
  for (const [kind, check] of [
    ['ip', ipChecks],
    ['domain', domainChecks],
  ] as const) {
    const values = new Set(snap.campaigns.flatMap((c) => c.values.filter((v) => v.kind === kind).map((v) => v.value)));
    const checks = new Map<string, number>();
    const flagged: string[] = [];
    for (const v of values) {
      const why = check(v);
      if (why.length > 0) flagged.push(`${v}: ${why.join('; ')}`);
      for (const w of why) {
        const k = w.replace(/ \(.*$/, '');
        checks.set(k, (checks.get(k) ?? 0) + 1);
      }
    }
    const byCheck = [...checks.entries()].map(([k, n]) => `${k} ${n}`).join(', ');
    out(
      `intel ${kind} indicators: ${values.size} published; innocent by an independent check: ${flagged.length} \
(${pct(flagged.length, values.size)} %)${byCheck ? ` — ${byCheck}` : ''}\n`,
    );
    for (const f of flagged.slice(0, 15)) out(`    ! ${f}\n`);
    if (flagged.length > 15) out(`    ! … and ${flagged.length - 15} more\n`);
  }
  // URLs: a bare one (no path, query nor fragment) stands for its whole site and is put to the domain checks; one
  // with a path names one page (a user's directory on a shared server, a phishing kit's path) and is counted apart.
  const urls = [
    ...new Set(snap.campaigns.flatMap((c) => c.values.filter((v) => v.kind === 'url').map((v) => v.value))),
  ];
  const bare = urls.filter((u) => /^[a-z]+:\/\/[^/?#]+\/?$/i.test(u));
  const flaggedUrls = bare.flatMap((u) => {
    const why = domainChecks(siteOfUrl(u) ?? '');
    return why.length > 0 ? [`${u}: ${why.join('; ')}`] : [];
  });
  out(
    `intel url indicators: ${urls.length} published, ${urls.length - bare.length} of them with a path; bare ones \
innocent by an independent check of their site: ${flaggedUrls.length} of ${bare.length}\n`,
  );
  for (const f of flaggedUrls.slice(0, 15)) out(`    ! ${f}\n`);
  // Pages (with a path) on a site the checks flag: named for reading, not counted as innocent (a phishing kit on
  // a hacked site is a page of an innocent site).
  const pages = urls.filter((u) => !bare.includes(u) && domainChecks(siteOfUrl(u) ?? '').length > 0);
  out(`  with a path, on a site an independent check flags: ${pages.length}\n`);
  for (const u of pages.slice(0, 10)) out(`    ? ${u.length > 110 ? `${u.slice(0, 110)}…` : u}\n`);
  const refused = [...snap.refused.entries()].sort((a, b) => b[1] - a[1]);
  out(`intel values refused: ${refused.map(([why, n]) => `${n} ${why}`).join('; ') || 'none'}\n`);
}

/** The ISP alerts' policy at its most eager: one report and one botnet fact make an alert. */
/** A reporter looks at their account page after every this many of their reports (and at the end). */
const SUGGESTION_LOOK_EVERY = 250;

/**
 * What the account page suggests each corpus mailbox declare (`frequentOriginsOf`: an origin of ≥ 5 of the
 * reporter's latest 2,000 reports across ≥ 3 campaigns), looked at every {@link SUGGESTION_LOOK_EVERY} of its reports
 * and at the end, with the hosts learned for it by the end as known. Each address suggested at any look is put to
 * what says whether it is the reporter's own side or a spam source: the share of its reports that are ham (a
 * forwarder passes on the reporter's wanted mail too), the reports of other reporters and of the anonymous intake
 * that stop at it (a spam source mails many; a forwarder, its own users), the independent checks, and the trace-back
 * labels that name it a message's origin (declaring it would move that right origin).
 */
async function suggestionReport(
  db: Db,
  config: ReturnType<typeof testConfig>,
  corpus: Corpus,
  out: (s: string) => void,
): Promise<void> {
  const { ipChecks } = independentChecks(config, corpus, new Map());
  const facts = await db
    .selectFrom('action_report_facts')
    .select(['report_id', 'origin_ip', 'origin_rdns', 'campaign_id', 'message_sha256', 'sender_domain', 'received_at'])
    .orderBy('received_at')
    .orderBy('report_id')
    .execute();
  const labelledOrigins = new Map<string, number>();
  for (const c of loadChains().chains) labelledOrigins.set(c.origin, (labelledOrigins.get(c.origin) ?? 0) + 1);
  const byReporter = new Map<string, (OriginOfReport & { report_id: string })[]>();
  const reportsOfIp = new Map<string, Map<string, number>>();
  for (const f of facts) {
    const key = corpus.reporterOf.get(f.report_id) ?? 'anonymous';
    if (key !== 'anonymous') byReporter.set(key, [...(byReporter.get(key) ?? []), f]);
    if (f.origin_ip === null) continue;
    const m = reportsOfIp.get(f.origin_ip) ?? new Map<string, number>();
    m.set(key, (m.get(key) ?? 0) + 1);
    reportsOfIp.set(f.origin_ip, m);
  }
  out(
    `\n=== the account page's suggestions (mail hosts to declare), a look every ${SUGGESTION_LOOK_EVERY} reports \
and at the end\n`,
  );
  for (const [key, rows] of [...byReporter].sort()) {
    const known = corpus.learned.get(key) ?? [];
    type Seen = {
      rdns: string | null;
      /** Looks at which the page suggests it; holds it back; would have suggested it on reports and campaigns. */
      looks: number;
      listLooks: number;
      oldLooks: number;
      reports: number;
      campaigns: number;
    };
    const seen = new Map<string, Seen>();
    let looks = 0;
    for (let n = SUGGESTION_LOOK_EVERY; ; n += SUGGESTION_LOOK_EVERY) {
      const upTo = Math.min(n, rows.length);
      const latest = rows.slice(Math.max(0, upTo - FREQUENT_ORIGIN_WINDOW), upTo).reverse();
      looks++;
      // Reports and campaigns alone (the page before it counted senders and read list headers: their first five), and
      // the page as it is.
      const before = frequentCandidates(latest, known, 1).slice(0, 5);
      const now = frequentOriginsOf(latest, known, corpus.listMail);
      for (const o of [...before, ...now]) {
        const e = seen.get(o.ip) ?? { rdns: o.rdns, looks: 0, listLooks: 0, oldLooks: 0, reports: 0, campaigns: 0 };
        e.reports = Math.max(e.reports, o.reports);
        e.campaigns = Math.max(e.campaigns, o.campaigns);
        seen.set(o.ip, e);
      }
      for (const o of now) (seen.get(o.ip) as Seen).looks++;
      for (const o of before) (seen.get(o.ip) as Seen).oldLooks++;
      for (const o of before) if (!now.some((x) => x.ip === o.ip)) (seen.get(o.ip) as Seen).listLooks++;
      if (upTo === rows.length) break;
    }
    const atEnd = frequentOriginsOf(rows.slice(-FREQUENT_ORIGIN_WINDOW).reverse(), known, corpus.listMail).map(
      (o) => o.ip,
    );
    const all = [...seen.values()];
    const shown = all.filter((e) => e.looks > 0).length;
    const held = all.filter((e) => e.looks === 0).length;
    out(
      `${key}: ${rows.length} reports, ${looks} looks; named at some look by reports and campaigns alone: \
${all.filter((e) => e.oldLooks > 0).length} addresses, held back by the senders and list rules ${held}; suggested \
${shown} at some look (${all.filter((e) => e.looks > 0 && e.oldLooks === 0).length} of them never before), \
${atEnd.length} at the end\n`,
    );
    for (const [ip, e] of seen) {
      const mine = rows.filter((r) => r.origin_ip === ip);
      const ham = mine.filter((r) => corpus.bySha.get(r.message_sha256)?.label === 'legitimate').length;
      const list = mine.filter((r) => corpus.listMail.has(r.message_sha256)).length;
      const others = [...(reportsOfIp.get(ip) ?? new Map<string, number>())]
        .filter(([k]) => k !== key)
        .map(([k, n]) => `${k} ${n}`);
      const checks = ipChecks(ip);
      const labelled = labelledOrigins.get(ip) ?? 0;
      const senders = new Set(
        mine.map((r) => (r.sender_domain ? (getDomain(r.sender_domain) ?? r.sender_domain) : '')),
      );
      senders.delete('');
      const why = 2 * list >= mine.length ? 'a list' : senders.size < FREQUENT_ORIGIN_SENDERS ? 'one sender' : 'rank';
      const mark =
        e.looks === 0 ? `held back (${why})` : atEnd.includes(ip) ? 'suggested, at the end too' : 'suggested';
      const labels = labelled > 0 ? `; the labelled origin of ${labelled} chain(s)` : '';
      out(
        `    ${ip} ${e.rdns ?? '(no name)'} — ${mark}: up to ${e.reports} reports of ${e.campaigns} campaigns \
(suggested at ${e.looks} looks, held back at ${e.listLooks}); of all ${mine.length} of this reporter's: through a \
list ${list}, senders ${senders.size}, ham ${ham}; other reporters: ${others.length > 0 ? others.join(', ') : 'none'}; \
checks: ${checks.length > 0 ? checks.join('; ') : 'none'}${labels}\n`,
      );
    }
  }
}

function oneReportAlerts(defaults: ActionPolicy): ActionPolicy {
  return { ...defaults, isp: { ...defaults.isp, minReports: 1, minSignals: 1 } };
}

/**
 * The machines the ISP alerts would name as infected from the same stream: the digest's judge run as the
 * service runs it, one digest period after another over the stream, each address alerted once (the quiet
 * period outlasts the stream), every alerted address put to the same independent checks as the lists'
 * values, with the operator the alert would go to and why the judge passed over the rest.
 */
async function ispReport(
  db: Db,
  config: ReturnType<typeof testConfig>,
  corpus: Corpus,
  name: string,
  policy: ActionPolicy,
  start: Date,
  end: Date,
  out: (s: string) => void,
): Promise<void> {
  const rdnsOf = new Map<string, string | null>();
  for (const f of await db.selectFrom('action_report_facts').select(['origin_ip', 'origin_rdns']).execute())
    if (f.origin_ip && f.origin_rdns) rdnsOf.set(f.origin_ip, f.origin_rdns);
  const { ipChecks } = independentChecks(config, corpus, rdnsOf);
  const period = policy.isp.digestIntervalMinutes * 60_000;
  const refusals = await loadAddressRefusals(db, config, policy);
  const alerted = new Map<string, Awaited<ReturnType<typeof judgeOrigins>>[number]>();
  const skipped = new Map<string, string>();
  const t0 = performance.now();
  for (let from = start.getTime(); from < end.getTime(); from += period) {
    const passed: { ip: string; reason: string }[] = [];
    const to = Math.min(from + period, end.getTime());
    for (const j of await judgeOrigins(
      db,
      policy,
      refusals,
      new Date(from).toISOString(),
      new Date(to).toISOString(),
      passed,
    ))
      if (!alerted.has(j.ip)) alerted.set(j.ip, j);
    for (const p of passed) skipped.set(p.ip, p.reason);
  }
  for (const ip of alerted.keys()) skipped.delete(ip);
  const took = ((performance.now() - t0) / 1000).toFixed(1);
  const flagged: string[] = [];
  const checks = new Map<string, number>();
  for (const [ip, j] of alerted) {
    const why = ipChecks(ip);
    if (why.length > 0)
      flagged.push(`${ip}: ${why.join('; ')} — ${j.reportCount} reports, AS${j.asn ?? '?'} ${j.asName ?? ''}, \
rDNS ${j.rdns ?? '-'}`);
    for (const w of why) {
      const k = w.replace(/ \(.*$/, '');
      checks.set(k, (checks.get(k) ?? 0) + 1);
    }
  }
  const byCheck = [...checks.entries()].map(([k, n]) => `${k} ${n}`).join(', ');
  out(
    `\n=== ISP alerts, policy ${name} (minReports ${policy.isp.minReports}, minSignals ${policy.isp.minSignals}; \
${Math.ceil((end.getTime() - start.getTime()) / period)} digest periods judged in ${took} s): ${alerted.size} \
addresses alerted as infected machines; innocent by an independent check: ${flagged.length} \
(${pct(flagged.length, alerted.size)} %)${byCheck ? ` — ${byCheck}` : ''}\n`,
  );
  for (const f of flagged.slice(0, 15)) out(`    ! ${f}\n`);
  if (flagged.length > 15) out(`    ! … and ${flagged.length - 15} more\n`);
  const operators = new Map<string, number>();
  for (const j of alerted.values()) {
    const key = j.abuse.length > 0 || j.asn !== null ? `AS${j.asn ?? '?'} ${j.asName ?? ''}` : 'no operator known';
    operators.set(key, (operators.get(key) ?? 0) + 1);
  }
  out(
    `  to ${operators.size} networks, most: ${[...operators.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([k, n]) => `${k} ${n}`)
      .join('; ')}\n`,
  );
  const live = corpus.liveAlerts.get(name) ?? [];
  const liveFlagged = live.flatMap((a) => {
    const why = ipChecks(a.ip);
    return why.length === 0
      ? []
      : [
          `${a.ip} (digest of ${a.at}): ${why.join('; ')} — ${a.reportCount} reports, \
AS${a.asn ?? '?'} ${a.asName ?? ''}`,
        ];
  });
  const onlyLive = live.filter((a) => !alerted.has(a.ip));
  out(
    `  as the stream went (each digest at its period's end, on the facts stored by then): ${live.length} alerted, \
${liveFlagged.length} flagged; ${onlyLive.length} of them not alerted judged on the final facts${
      onlyLive.length > 0
        ? ` (${onlyLive
            .slice(0, 8)
            .map(
              (a) => `${a.ip} ${a.asName ?? ''} rDNS ${a.rdns ?? '-'}, ${a.reportCount} reports, ${a.at.slice(0, 10)}`,
            )
            .join('; ')}${onlyLive.length > 8 ? '; …' : ''})`
        : ''
    }\n`,
  );
  for (const f of liveFlagged.slice(0, 10)) out(`    ! ${f}\n`);
  const kinds = new Map<string, number>();
  for (const r of skipped.values()) {
    const k = r
      .replace(/[0-9]+/g, 'N')
      .replace(/[:(].*$/, '')
      .slice(0, 70);
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  out(
    `  passed over: ${skipped.size} addresses with enough reports — ${[...kinds.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${n} ${k.trim()}`)
      .join('; ')}\n`,
  );
}

async function report(
  db: Db,
  config: ReturnType<typeof testConfig>,
  corpus: Corpus,
  name: string,
  out: (s: string) => void,
  sample: number,
  seed: number,
): Promise<ListingFigures> {
  const rows = await db
    .selectFrom('feed_listings')
    .select(['kind', 'value', 'list', 'state', 'return_code', 'category', 'report_count', 'campaign_count'])
    .where('state', 'in', ['listed', 'held'])
    .execute();
  const listed = rows.filter((r) => r.state === 'listed');
  const held = rows.filter((r) => r.state === 'held').length;
  const rdnsOf = new Map<string, string | null>();
  for (const f of await db.selectFrom('action_report_facts').select(['origin_ip', 'origin_rdns']).execute())
    if (f.origin_ip && f.origin_rdns) rdnsOf.set(f.origin_ip, f.origin_rdns);
  const shasOf = new Map<string, string[]>();
  const add = (k: string, sha: string) => {
    const l = shasOf.get(k) ?? [];
    l.push(sha);
    shasOf.set(k, l);
  };
  for (const f of await db.selectFrom('action_report_facts').select(['origin_ip', 'message_sha256']).execute())
    if (f.origin_ip) add(`ip:${f.origin_ip}`, f.message_sha256);
  for (const f of await db
    .selectFrom('feed_domain_reports as d')
    .innerJoin('action_report_facts as f', 'f.report_id', 'd.report_id')
    .select(['d.domain', 'f.message_sha256'])
    .execute())
    add(`domain:${f.domain}`, f.message_sha256);

  /** The corpus labels of every report behind a value (not only the evidence sample). */
  const labelsOf = (kind: string, value: string): { ham: number; spam: number; sources: Set<string> } => {
    const r = { ham: 0, spam: 0, sources: new Set<string>() };
    for (const sha of shasOf.get(`${kind}:${value}`) ?? []) {
      const s = corpus.bySha.get(sha);
      if (!s) continue;
      if (s.label === 'legitimate') r.ham++;
      else r.spam++;
      r.sources.add(s.source);
    }
    return r;
  };

  const { ipChecks, domainChecks } = independentChecks(config, corpus, rdnsOf);

  const lists = ['infected', 'infrastructure', 'domains'] as const;
  const fig: ListingFigures = {
    policy: name,
    ips: 0,
    infected: 0,
    infrastructure: 0,
    domains: 0,
    innocentIps: 0,
    innocentDomains: 0,
    held,
  };
  for (const list of lists) {
    const vals = listed.filter((r) => r.list === list);
    fig[list] = vals.length;
    const checks = new Map<string, number>();
    let innocent = 0;
    let withHam = 0;
    const flagged: string[] = [];
    for (const v of vals) {
      const why = v.kind === 'ip' ? ipChecks(v.value) : domainChecks(v.value);
      const lab = labelsOf(v.kind, v.value);
      if (lab.ham > 0) withHam++;
      if (why.length > 0) {
        innocent++;
        flagged.push(`${v.value}: ${why.join('; ')} — ${v.report_count} reports (${lab.ham} ham), ${v.category}`);
      }
      for (const w of why) {
        const k = w.replace(/ \(.*$/, '');
        checks.set(k, (checks.get(k) ?? 0) + 1);
      }
    }
    if (list === 'domains') fig.innocentDomains = innocent;
    else fig.innocentIps += innocent;
    out(
      `${list}: ${vals.length} listed; innocent by an independent check: ${innocent} (${pct(innocent, vals.length)} %)\
${checks.size ? ` — ${[...checks.entries()].map(([k, n]) => `${k} ${n}`).join(', ')}` : ''}; with a ham report \
behind it: ${withHam}\n`,
    );
    for (const f of flagged.slice(0, 15)) out(`    ! ${f}\n`);
    if (flagged.length > 15) out(`    ! … and ${flagged.length - 15} more\n`);
    const rng = seededRng(seed + list.length);
    const pick = [...vals].sort((a, b) => a.value.localeCompare(b.value));
    for (let i = pick.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [pick[i], pick[j]] = [pick[j], pick[i]];
    }
    for (const v of pick.slice(0, sample)) {
      const lab = labelsOf(v.kind, v.value);
      const as = v.kind === 'ip' ? corpus.asOf.get(v.value) : undefined;
      out(
        `    sample ${v.value} ${v.return_code} ${v.category ?? '-'}: ${v.report_count} reports, ${v.campaign_count} \
campaign(s), ${lab.ham} ham/${lab.spam} spam from ${[...lab.sources].join('+')}${
          as ? `; AS${as.asn ?? '?'} ${as.asName ?? ''}; rDNS ${rdnsOf.get(v.value) ?? '-'}` : ''
        }\n`,
      );
    }
  }
  fig.ips = fig.infected + fig.infrastructure;
  out(`held for an analyst by the gates: ${held}\n`);
  return fig;
}
