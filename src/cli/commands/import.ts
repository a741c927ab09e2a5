/** `spamdesk import PATH…` */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { configFrom, fail, withSettings } from '../options.ts';
import { closeContext, createContext } from '../../app/context.ts';
import { IMPORT_CACHE_KIB, importPaths } from '../../intake/import/importer.ts';

export function registerImport(program: Command): void {
  withSettings(
    program
      .command('import')
      .description(
        'Import .eml files, directories, mbox files (mboxrd/mboxo) and Maildir folders as reports. Idempotent.',
      )
      .argument('<paths...>', 'files and directories'),
  )
    .option('--mbox-format <format>', 'mboxrd (default) or mboxo: how `>From ` lines were quoted', 'mboxrd')
    .option('--note <text>', 'a note stored with every imported report')
    .option(
      '--live',
      'the mail is current: its reports may trigger automatic referrals, ISP alerts and sender feedback (default: ' +
        'historical, never acted on alone)',
    )
    .action(async (paths: string[], o: { mboxFormat: string; note?: string; live?: boolean }, cmd: Command) => {
      if (o.mboxFormat !== 'mboxrd' && o.mboxFormat !== 'mboxo')
        fail(`--mbox-format must be mboxrd or mboxo, not ${o.mboxFormat}`, 2);
      const config = configFrom(cmd);
      // No commit thread: its second page cache and per-commit copies of the raws lifted a 300 MB
      // mbox import from 286 to 509 MB peak. Instead the import's reading, checking, hashing and
      // compression run in a preparation thread (importer.ts, prepared-entries.ts) that hands
      // over compressed evidence only, a bounded number of batches ahead. A 16 MiB page cache:
      // an import appends and probes keys, and the default 64 MiB filled up in a 1 GB import.
      const ctx = await createContext(
        { ...config, logLevel: 'warn' },
        { commitThread: false, cacheKib: IMPORT_CACHE_KIB },
      );
      const tty = process.stderr.isTTY === true;
      const bar = tty
        ? new cliProgress.SingleBar(
            {
              format: 'importing [{bar}] {percentage}% | {value}/{total} MB | {eta_formatted} left',
              clearOnComplete: true,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
      let started = false;
      try {
        const s = await importPaths(ctx.db, ctx.writer, paths, {
          maxMessageBytes: config.maxMessageBytes,
          mboxFormat: o.mboxFormat,
          note: o.note ?? null,
          live: o.live === true,
          onProgress: (bytes, total) => {
            if (!bar) return;
            if (!started) {
              bar.start(Math.max(1, Math.round(total / 1e6)), 0);
              started = true;
            }
            bar.update(Math.round(bytes / 1e6));
          },
          onProblem: (origin, problem) => {
            if (bar && started) bar.stop();
            started = false;
            process.stderr.write(`${origin}: ${problem}\n`);
          },
        });
        bar?.stop();
        process.stdout.write(
          `imported ${s.added} new ${o.live === true ? 'live' : 'historical'} report(s), ${s.alreadyPresent} already \
present, ${s.malformed} malformed (see dead letters) ` +
            `from ${s.entries} entries in ${s.files} file(s), ${(s.bytes / 1e6).toFixed(1)} MB in \
${s.seconds.toFixed(1)} s ` +
            `(${(s.entries / Math.max(s.seconds, 1e-9)).toFixed(0)} entries/s, \
${(s.bytes / 1e6 / Math.max(s.seconds, 1e-9)).toFixed(1)} MB/s)\n`,
        );
        if (s.entries === 0 && s.malformed === 0) process.exitCode = 1;
      } finally {
        bar?.stop();
        await closeContext(ctx);
      }
    });
}
