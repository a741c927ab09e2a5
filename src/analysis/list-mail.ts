/**
 * Whether a message came through a mailing list: its header carries a field only a list manager
 * writes — `List-Id` (RFC 2919), `List-Post`, `List-Help`, `List-Subscribe`, `List-Owner`,
 * `List-Archive` (RFC 2369), ezmlm's `Mailing-List`, Mailman's `X-BeenThere` and
 * `X-Mailman-Version`, or `Precedence: list`. `List-Unsubscribe` alone does not count: every
 * newsletter and much spam carries it.
 *
 * A list's server is the origin the trace-back names for its mail (the labels agree: what lies below
 * it is the list's business), and never a subscriber's own mail host. So this is used only to hold
 * back: a header a sender forged makes nothing trusted, it can only keep a machine out of the
 * account page's suggestions (`src/web/pages/account-mailhosts.ts`) and keep a list server from being learned as
 * the reporter's forwarder (`stages/traceback/mailhosts.ts`).
 */
import { headerFields } from './stages/traceback/header-block.ts';

const LIST_FIELDS = new Set([
  'list-id',
  'list-post',
  'list-help',
  'list-subscribe',
  'list-owner',
  'list-archive',
  'mailing-list',
  'x-beenthere',
  'x-mailman-version',
]);

/** Whether the header of `raw` says a mailing list passed the message on (see the module comment). */
export function isListMail(raw: Uint8Array): boolean {
  return saysList(headerFields(raw));
}

/**
 * A wider test, for holding back only (the mail-host learner's forwarder rule, `stages/traceback/mailhosts.ts`): also
 * the traces of lists that write none of the fields above — Majordomo's and LISTSERV's `Precedence: bulk` or `junk`,
 * a `Sender` or `Errors-To` of the list's owner or request address, `X-Loop`, `X-Mailing-List`, `X-ML-Name`. Bulk
 * senders that are no list match too; holding back costs only a forwarder learned a few reports later.
 */
export function mayBeListMail(fields: Iterable<{ name: string; value: string }>): boolean {
  const list = [...fields];
  if (saysList(list)) return true;
  for (const f of list) {
    const name = f.name.toLowerCase();
    if (name === 'x-loop' || name === 'x-mailing-list' || name === 'x-ml-name') return true;
    if (name === 'precedence' && /^\s*(bulk|junk)\b/i.test(f.value)) return true;
    if (
      (name === 'sender' || name === 'errors-to') &&
      /owner-|-owner@|-request@|-bounces?@|listserv|majordomo/i.test(f.value)
    )
      return true;
  }
  return false;
}

/** The same test on header fields already read (names in any case), e.g. the ones a stored analysis keeps. */
export function saysList(fields: Iterable<{ name: string; value: string }>): boolean {
  for (const f of fields) {
    const name = f.name.toLowerCase();
    if (LIST_FIELDS.has(name)) return true;
    if (name === 'precedence' && /^\s*list\b/i.test(f.value)) return true;
  }
  return false;
}
