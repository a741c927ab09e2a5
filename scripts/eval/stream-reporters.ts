/**
 * Who reports what in an evaluation's mixed stream, and what the trace-back knows of them: a live
 * instance traces each report with the mail hosts learned (and declared) for its reporter's key and
 * its intake channel's key (`src/analysis/mailhost-store.ts`), and the reporter's own mail domain.
 * A stream without reporters traces every message as a stranger's, and names the reporting
 * mailboxes' own relays (a corpus donor's forwarder, a secondary MX) that a live instance looks past
 * once it has learned them.
 *
 * The reporters are the corpus mailboxes the trace-back labels name (`traceback-chains.json`:
 * folders, a pattern a top-four Received field matches, the address): their messages are that
 * reporter's reports, every other message an anonymous report through the one intake channel.
 * Learning runs as the live job runs it: a key is learned first after {@link FIRST_LEARNING_AFTER}
 * of its reports, then at the {@link RELEARN_EVERY}th and every {@link RELEARN_EVERY} after, from
 * its last {@link MAX_LEARNING_CHAINS} chains, with the production learner; a report is traced with
 * what was learned before it arrived, and, as the live job does, the reports of a key's window are
 * traced again when a pass learns a host their origin is ({@link NewlyLearned}).
 */
import { FIRST_LEARNING_AFTER, RELEARN_EVERY, MAX_LEARNING_CHAINS } from '../../src/analysis/mailhost-store.ts';
import { mayBeListMail } from '../../src/analysis/list-mail.ts';
import { headerFields } from '../../src/analysis/stages/traceback/header-block.ts';
import { learnMailhosts } from '../../src/analysis/stages/traceback/mailhosts.ts';
import { parseReceived, type ParsedReceived } from '../../src/analysis/stages/traceback/received-parser.ts';
import { trustTableFor } from '../../src/analysis/stages/traceback/trust.ts';
import { loadChains } from './evaluate-traceback.ts';

/** The intake key every report of the stream also has (one reporting channel). */
const INTAKE_KEY = 'intake:eval';

interface KeyState {
  chains: ParsedReceived[][];
  /** Whether a list passed each message of `chains` on, in the same order (the learner's forwarder rule). */
  listMail: boolean[];
  /** The caller's reference of each report whose chain is in `chains`, in the same order. */
  refs: number[];
  since: number;
  learned: boolean;
  hosts: string[];
}

/** A learning pass that learned hosts the key's last pass did not: the reports of its window to trace again. */
export interface NewlyLearned {
  key: string;
  /** The entries learned for the first time (`1.2.3.4`, `=host.example`). */
  added: string[];
  /** The key's window: each report's reference (as given to `next`) and its chain. */
  window: { ref: number; chain: ParsedReceived[] }[];
}

interface Reporter {
  key: string;
  folders: string[];
  match: RegExp;
  domain: string | null;
}

/** The reporters of a stream and the mail hosts learned for them as the stream goes. */
export class StreamReporters {
  private readonly reporters: Reporter[];
  private readonly keys = new Map<string, KeyState>();
  private readonly trust = trustTableFor([], null);
  /** Reports per reporter key (the intake's included). */
  readonly reports = new Map<string, number>();

  constructor() {
    this.reporters = Object.entries(loadChains().reporters).map(([id, r]) => {
      const at = r.address?.lastIndexOf('@') ?? -1;
      return {
        key: `user:${id}`,
        folders: r.folders,
        match: new RegExp(r.match, 'i'),
        domain: r.address !== undefined && at >= 0 ? r.address.slice(at + 1).toLowerCase() : null,
      };
    });
  }

  /** The keys of a message (`source/id` as the corpus names it), its chain, and its reporter's domain. */
  private who(path: string, chain: readonly string[]): { keys: string[]; domains: string[] } {
    const r = this.reporters.find(
      (x) => x.folders.some((f) => path.startsWith(`${f}/`)) && chain.slice(0, 4).some((v) => x.match.test(v)),
    );
    return r === undefined
      ? { keys: [INTAKE_KEY], domains: [] }
      : { keys: [r.key, INTAKE_KEY], domains: r.domain === null ? [] : [r.domain] };
  }

  /**
   * What the trace-back of one report is given (the reporter's hosts before the intake's, as
   * `mailhostsOf` orders them), then the report is counted and its keys learned again when due.
   */
  next(
    path: string,
    raw: Buffer,
    /** The caller's reference of this report, handed back in {@link NewlyLearned}. */
    ref = -1,
  ): { reporter: string | null; mailhosts: string[]; recipientDomains: string[]; done: () => NewlyLearned[] } {
    const fields = headerFields(raw)
      .filter((f) => f.name === 'received')
      .map((f) => f.value);
    const { keys, domains } = this.who(path, fields);
    const mailhosts = this.hostsOf(keys);
    const done = (): NewlyLearned[] => {
      const chain = fields.map((v) => parseReceived(v));
      const list = mayBeListMail(headerFields(raw));
      const newly: NewlyLearned[] = [];
      for (const k of keys) {
        this.reports.set(k, (this.reports.get(k) ?? 0) + 1);
        const s = this.keys.get(k) ?? { chains: [], listMail: [], refs: [], since: 0, learned: false, hosts: [] };
        s.chains.push(chain);
        s.listMail.push(list);
        s.refs.push(ref);
        if (s.chains.length > MAX_LEARNING_CHAINS) {
          s.chains.shift();
          s.listMail.shift();
          s.refs.shift();
        }
        if (++s.since >= (s.learned ? RELEARN_EVERY : FIRST_LEARNING_AFTER)) {
          // The first pass leaves the count running (the second comes at the 25th report), as the live job does.
          if (s.learned) s.since = 0;
          s.learned = true;
          const before = new Set(s.hosts);
          // One reporter's mail is delivered by one receiving side and forwarded by their own mailboxes elsewhere; an
          // intake's by every reporter's provider (as `learnKey` in mailhost-store.ts).
          s.hosts = learnMailhosts(
            s.chains,
            this.trust,
            k.startsWith('intake:') ? { checkedOnly: true } : { deliveringHosts: true, listMail: s.listMail },
          );
          const added = s.hosts.filter((h) => !before.has(h));
          if (added.length > 0)
            newly.push({ key: k, added, window: s.refs.map((r, i) => ({ ref: r, chain: s.chains[i] })) });
        }
        this.keys.set(k, s);
      }
      return newly;
    };
    // The reporter's own key (`user:ID`), null for an anonymous report through the intake.
    const reporter = keys.find((k) => k.startsWith('user:')) ?? null;
    return { reporter, mailhosts, recipientDomains: domains, done };
  }

  /** What the trace-back of a report is given now (a message traced again after a learning pass). */
  now(path: string, raw: Buffer): { mailhosts: string[]; recipientDomains: string[] } {
    const fields = headerFields(raw)
      .filter((f) => f.name === 'received')
      .map((f) => f.value);
    const { keys, domains } = this.who(path, fields);
    return { mailhosts: this.hostsOf(keys), recipientDomains: domains };
  }

  private hostsOf(keys: readonly string[]): string[] {
    return [...new Set(keys.flatMap((k) => this.keys.get(k)?.hosts ?? []))];
  }

  /** The hosts learned for each key at the end of the stream. */
  learned(): Map<string, string[]> {
    return new Map([...this.keys].map(([k, s]) => [k, s.hosts]));
  }
}
