/**
 * Which relays the trace-back believes: this instance's own intake hosts plus the mailbox
 * providers' table (shipped in `data/trusted-relays.ts`, extended by the operator's JSON file).
 */
import { BoundedMemo } from '../../../core/bounded-memo.ts';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import {
  type FileProblem,
  type FileRead,
  problemsDetail,
  readFileInForce,
  readJsonFile,
  readTextFile,
  zodProblems,
} from '../../../core/file-problems.ts';
import { TRUSTED_RELAYS, type TrustedRelay } from '../../data/trusted-relays.ts';
import { matchCidr, parseCidr, type Cidr } from './ip-class.ts';

/**
 * The operator's file: a JSON array of providers, each field as in {@link TrustedRelay}, plus an optional
 * `$comment` (as in the classifier scores file). Any other key is an error: a misspelt `networkUntil` once
 * dropped the dated ranges silently and the provider was believed without them.
 */
const RelayFileSchema = z.array(
  z
    .object({
      $comment: z.string().optional(),
      name: z.string().min(1),
      names: z.array(z.string().min(1)).default([]),
      networks: z.array(z.string().min(1)).default([]),
      internalNetworks: z.array(z.string().min(1)).default([]),
      networksUntil: z.array(z.object({ network: z.string().min(1), until: z.string().min(1) }).strict()).default([]),
      asns: z.array(z.number().int().positive()).default([]),
      authservIds: z.array(z.string().min(1)).default([]),
      webmail: z.boolean().default(false),
      arcSealers: z.array(z.string().min(1)).default([]),
    })
    .strict(),
);

/** The keys a provider takes, for naming the one a misspelt key was probably meant to be. */
const RELAY_KEYS = Object.keys(RelayFileSchema.element.shape);

/** Levenshtein distance, small strings only (keys of a file). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row.push(
        Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)),
      );
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The problems zod found, an unknown key said as such with the known key nearest to it (case aside). */
function relayFileProblems(file: string, issues: readonly z.ZodIssue[]): FileProblem[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return zodProblems(file, [issue]);
    return issue.keys.map((key) => {
      const near = RELAY_KEYS.map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) })).sort(
        (x, y) => x.d - y.d,
      )[0];
      const hint = near !== undefined && near.d <= 3 ? ` (did you mean "${near.k}"?)` : '';
      return {
        file,
        where: [...issue.path, key].map(String).join('.'),
        message: `unknown key "${key}"${hint}; a provider takes ${RELAY_KEYS.join(', ')}`,
      };
    });
  });
}

/** A provider ready for matching. */
export interface CompiledRelay {
  name: string;
  names: readonly string[];
  networks: readonly Cidr[];
  /** Internal hops' space: believed, never named as the sender's relay. */
  internalNetworks: readonly Cidr[];
  /**
   * Relay networks believed only for hops dated before `until` (an ISO 8601 instant as `toISOString` writes it, so
   * a hop's ISO date compares as a string; `day` as written; `list` the network alone, for {@link matchCidr}
   * without an array per look-up).
   */
  networksUntil: readonly { cidr: Cidr; list: readonly Cidr[]; until: string; day: string }[];
  asns: ReadonlySet<number>;
  authservIds: readonly string[];
  webmail: boolean;
  /** Domains sealing the provider's ARC sets (`TrustedRelay.arcSealers`). */
  arcSealers: readonly string[];
  /** Host names matched whole, never as a suffix (the learned hosts that delivered a reporter's mail). */
  hosts?: readonly string[];
  /**
   * `provider`: a mailbox provider of the table; `intake`: this instance's own hosts; `learned`:
   * the reporter's (or intake's) own mail hosts, learned from earlier reports; `declared`: the mail
   * hosts the reporter (or, for an intake, the operator) declared (`declared.ts`).
   */
  kind: 'provider' | 'intake' | 'learned' | 'declared';
}

/** Thrown for a bad operator file; the message names the file and the entry. */
export class TrustedRelaysFileError extends Error {
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'TrustedRelaysFileError';
  }
}

function cidrs(list: readonly string[], name: string, where: string): Cidr[] {
  const out: Cidr[] = [];
  for (const n of list) {
    const c = parseCidr(n);
    if (c === null) throw new TrustedRelaysFileError(where, `provider "${name}": invalid network "${n}"`);
    out.push(c);
  }
  return out;
}

/** Midnight UTC of a `YYYY-MM-DD` day in ms, or null when it is no calendar day (`2010-02-31` is not one). */
function dayStart(day: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day ? null : ms;
}

/** Compiles one table entry; throws {@link TrustedRelaysFileError} naming `where` for an invalid network. */
export function compileRelay(r: TrustedRelay, kind: CompiledRelay['kind'], where: string): CompiledRelay {
  const lower = (xs: readonly string[]) =>
    xs.map((x) =>
      x
        .toLowerCase()
        .replace(/^\*?\./, '')
        .replace(/\.$/, ''),
    );
  return {
    name: r.name,
    names: lower(r.names),
    networks: cidrs(r.networks, r.name, where),
    internalNetworks: cidrs(r.internalNetworks ?? [], r.name, where),
    networksUntil: (r.networksUntil ?? []).map((d) => {
      const [cidr] = cidrs([d.network], r.name, where);
      const until = dayStart(d.until);
      if (cidr === undefined || until === null)
        throw new TrustedRelaysFileError(where, `provider "${r.name}": invalid date "${d.until}"`);
      return { cidr, list: [cidr], until: new Date(until).toISOString(), day: d.until };
    }),
    asns: new Set(r.asns),
    authservIds: lower(r.authservIds),
    webmail: r.webmail,
    arcSealers: lower(r.arcSealers ?? []),
    kind,
  };
}

const fileCache = new Map<string, CompiledRelay[]>();

type RelayFileData = z.infer<typeof RelayFileSchema>;

function parseTrustedRelaysFile(
  file: string,
  readText: (file: string) => FileRead,
): { data: RelayFileData } | { problems: FileProblem[] } {
  const read = readJsonFile(file, readText);
  if ('problem' in read) return { problems: [read.problem] };
  const parsed = RelayFileSchema.safeParse(read.json);
  if (!parsed.success) return { problems: relayFileProblems(file, parsed.error.issues) };
  const problems: FileProblem[] = [];
  parsed.data.forEach((r, i) => {
    for (const field of ['networks', 'internalNetworks'] as const) {
      r[field].forEach((n, j) => {
        if (parseCidr(n) === null)
          problems.push({ file, where: `${i}.${field}.${j}`, message: `provider "${r.name}": invalid network "${n}"` });
      });
    }
    r.networksUntil.forEach((d, j) => {
      if (parseCidr(d.network) === null)
        problems.push({
          file,
          where: `${i}.networksUntil.${j}.network`,
          message: `provider "${r.name}": invalid network "${d.network}"`,
        });
      if (dayStart(d.until) === null)
        problems.push({
          file,
          where: `${i}.networksUntil.${j}.until`,
          message: `provider "${r.name}": invalid date "${d.until}"`,
        });
    });
  });
  return problems.length > 0 ? { problems } : { data: parsed.data };
}

/** Every problem of the operator's file, each at its path in the document (none: the file is valid). */
export function trustedRelaysProblems(file: string, readText = readTextFile): FileProblem[] {
  const r = parseTrustedRelaysFile(file, readText);
  return 'problems' in r ? r.problems : [];
}

/** Reads and validates the operator's extra table, as in force in this process (`readFileInForce`). */
export function loadTrustedRelaysFile(file: string): CompiledRelay[] {
  const cached = fileCache.get(file);
  if (cached) return cached;
  const r = parseTrustedRelaysFile(file, readFileInForce);
  if ('problems' in r) throw new TrustedRelaysFileError(file, problemsDetail(r.problems));
  const out = r.data.map((relay, i) => compileRelay(relay, 'provider', `${file} entry ${i}`));
  fileCache.set(file, out);
  return out;
}

const shipped = TRUSTED_RELAYS.map((r) => compileRelay(r, 'provider', 'data/trusted-relays.ts'));

const tableCache = new Map<string, TrustTable>();
/** The last lookup: every message of a worker passes the same settings objects. */
let lastTable: { intakeHosts: readonly string[]; extraFile: string | null; table: TrustTable } | null = null;

/** The table for these settings, built once per process (settings do not change while it runs). */
export function trustTableFor(intakeHosts: readonly string[], extraFile: string | null): TrustTable {
  if (lastTable !== null && lastTable.intakeHosts === intakeHosts && lastTable.extraFile === extraFile)
    return lastTable.table;
  const table = cachedTable(intakeHosts, extraFile);
  lastTable = { intakeHosts, extraFile, table };
  return table;
}

function cachedTable(intakeHosts: readonly string[], extraFile: string | null): TrustTable {
  const key = JSON.stringify([intakeHosts, extraFile]);
  let t = tableCache.get(key);
  if (t === undefined) {
    t = new TrustTable(intakeHosts, extraFile);
    if (tableCache.size > 16) tableCache.clear();
    tableCache.set(key, t);
  }
  return t;
}

/** The trust table for one analysis: intake hosts first, then the operator's file, then the shipped table. */
export class TrustTable {
  readonly relays: readonly CompiledRelay[];

  constructor(intakeHosts: readonly string[], extraFile: string | null) {
    const intakeNames: string[] = [];
    const intakeNets: string[] = [];
    for (const h of intakeHosts) {
      if (parseCidr(h) !== null) intakeNets.push(h);
      else intakeNames.push(h);
    }
    const intake = compileRelay(
      {
        name: 'this instance’s intake',
        names: intakeNames,
        networks: intakeNets,
        asns: [],
        authservIds: intakeNames,
        webmail: false,
      },
      'intake',
      'SPAMDESK_INTAKE_HOSTS',
    );
    this.relays = [intake, ...(extraFile ? loadTrustedRelaysFile(extraFile) : []), ...shipped];
  }

  /**
   * Answers of {@link byName} and {@link byIp} by argument: the same relays recur in every chain.
   * Bounded (cleared when full) so hostile input cannot grow them.
   */
  readonly #nameMemo = new BoundedMemo((name: string) => this.#byNameUncached(name));
  readonly #ipMemo = new BoundedMemo((ip: string) => this.#byIpUncached(ip));

  /** The provider a host name belongs to (`a.b.google.com` matches `google.com`). */
  byName(name: string | null): CompiledRelay | null {
    if (name === null || name.length === 0) return null;
    return this.#nameMemo.get(name);
  }

  #byNameUncached(name: string): CompiledRelay | null {
    const n = name.toLowerCase().replace(/\.$/, '');
    for (const r of this.relays) {
      if (r.names.some((s) => n === s || n.endsWith(`.${s}`))) return r;
    }
    return null;
  }

  /** The provider whose networks contain `ip`, with the matching CIDR (`internal` for its internal space). */
  byIp(ip: string): { relay: CompiledRelay; cidr: string; internal: boolean } | null {
    return this.#ipMemo.get(ip);
  }

  #byIpUncached(ip: string): { relay: CompiledRelay; cidr: string; internal: boolean } | null {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = ipaddr.parse(ip);
    } catch {
      return null;
    }
    for (const r of this.relays) {
      const c = matchCidr(addr, r.networks);
      if (c) return { relay: r, cidr: c.text, internal: false };
      const i = matchCidr(addr, r.internalNetworks);
      if (i) return { relay: r, cidr: i.text, internal: true };
    }
    return null;
  }

  /**
   * The provider whose relay networks held `ip` on `date` (the walk passes the latest date the headers from the top
   * down to the hop give, `OrgState.hopDate`), for networks that were the provider's only until a day
   * ({@link TrustedRelay.networksUntil}); null when the date is unknown or not before that day.
   */
  byIpOnDate(ip: string, date: string | null): { relay: CompiledRelay; cidr: string; until: string } | null {
    // The walk's dates are `toISOString` instants (received-parser.ts), as `until` is: they compare as strings.
    if (date === null) return null;
    for (const r of this.relays) {
      for (const d of r.networksUntil) {
        if (date < d.until && matchCidr(ip, d.list)) return { relay: r, cidr: d.cidr.text, until: d.day };
      }
    }
    return null;
  }

  /** The provider that owns AS `asn`. */
  byAsn(asn: number | null): CompiledRelay | null {
    if (asn === null) return null;
    return this.relays.find((r) => r.asns.has(asn)) ?? null;
  }

  /** The provider an Authentication-Results authserv-id belongs to (exact or suffix match). */
  byAuthservId(id: string, extraIds: readonly string[]): string | null {
    const n = id.toLowerCase();
    for (const x of extraIds) {
      const s = x.toLowerCase();
      if (n === s || n.endsWith(`.${s}`)) return x;
    }
    for (const r of this.relays) {
      if (r.authservIds.some((s) => n === s || n.endsWith(`.${s}`))) return r.name;
    }
    return null;
  }
}
