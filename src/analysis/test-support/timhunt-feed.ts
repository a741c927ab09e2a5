/**
 * Tim Hunt's ns1.timhunt.net (216.27.147.130, a checked name) forwards the mail it takes for throw-away addresses
 * (`sdfs@fsg.com`, `belliott@fsl.com`, …) into the SpamAssassin author's trap `tim_timhunt_net@spamtraps.taint.org`:
 * the header it writes names another recipient than the reporter's, as a forwarder's does. Its seven corpus
 * messages, for the mail-host learner's forwarder tests. Read from ../shared/corpus in place.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The forwarder's address. */
export const TIMHUNT = '216.27.147.130';

/** Its seven messages, under the corpus's `spamassassin/` folder. */
export const TIMHUNT_FEED = [
  'hard_ham/00126.4b3874844ccb78cd7ca2cd03876124b0',
  'hard_ham/00153.ed096ffdeb400b9697bb01c41814f7e6',
  'hard_ham/00160.0f0cc01d1f3ec5eff12ca6ee90ea9841',
  'hard_ham/00161.786d4f37f37d9043eb4fc2d3521b78b4',
  'hard_ham/00162.cef6a9e09dce1854e04dfb65cd040f6d',
  'hard_ham/00163.9deb0d7d80f1ca7ad32c158ad63e65ca',
  'spam/00036.256602e2cb5a5b373bdd1fb631d9f452',
] as const;

/**
 * One of them without the list traces three carry (`Precedence: bulk`, a list owner's `Errors-To`, a LISTSERV
 * `Sender`), as a personal mailbox's forward would arrive.
 */
export function withoutListTraces(corpusDir: string, feedPath: string): Buffer {
  return Buffer.from(
    fs
      .readFileSync(path.join(corpusDir, 'spamassassin', feedPath))
      .toString('latin1')
      .replace(/^(Precedence|Errors-to|Sender):.*\r?\n/gim, ''),
    'latin1',
  );
}
