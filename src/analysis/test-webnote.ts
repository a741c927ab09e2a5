/**
 * Test support: spam_2 messages that reached their reporter (the SpamAssassin corpus's author) through his
 * secondary MX mail.webnote.net, the real case of a mail host to learn, and one more message of his to trace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR } from '../core/test-env.ts';

/** Up to 40 webnote.net messages of spam_2, in name order, and the probe message traced after learning. */
export function webnoteCorpus(): { files: string[]; probe: string } {
  const dir = path.join(CORPUS_DIR, 'spamassassin/spam_2');
  const files = fs
    .readdirSync(dir)
    .sort()
    .map((f) => path.join(dir, f))
    .filter((f) => /by webnote\.net \(8\.9\.3/.test(fs.readFileSync(f, 'latin1').slice(0, 8000)))
    .slice(0, 40);
  return { files, probe: path.join(dir, '00886.9bd2063c3d984a66958a6195ffb97849') };
}
