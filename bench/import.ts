/**
 * Bulk import throughput: the whole shared corpus into a fresh SQLite file and a fresh PostgreSQL
 * database, then a synthetic ~1 GB mbox streamed into SQLite to show memory stays bounded.
 * Each phase runs in its own process so its peak RSS is its own.
 *
 *   npm run bench -- import
 *   SPAMDESK_BENCH_MBOX_MB=256 npm run bench -- import      (smaller synthetic mbox)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Bench } from './registry.ts';
import { CORPUS_DIR, corpusAvailable, mb, runPhase, isPhaseProcess, printPhaseResult } from './lib.ts';
import { testConfig } from '../src/core/config.ts';
import { closeContext, createContext } from '../src/app/context.ts';
import { IMPORT_CACHE_KIB, importPaths } from '../src/intake/import/importer.ts';
import { listSourceFiles, readAllEntries } from '../src/intake/import/sources.ts';
import { PG_ADMIN_URL, postgresUnavailable } from '../src/db/test-databases.ts';
import { randomSecret } from '../src/core/ids.ts';

const HERE = new URL(import.meta.url).pathname;

interface ImportResult {
  entries: number;
  added: number;
  malformed: number;
  bytes: number;
  seconds: number;
  commits: number;
  maxRssBytes: number;
  /** CPU time of the phase process (user + system): reports per CPU-second do not depend on how busy the machine is. */
  cpuSeconds: number;
}

/** One phase, inside its own process. */
async function phase(kind: string, target: string): Promise<ImportResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-bench-import-'));
  try {
    const cpu0 = process.cpuUsage();
    const config = testConfig({
      dataDir,
      sqliteSynchronous: 'FULL',
      ...(kind === 'postgres' ? { databaseUrl: target } : {}),
    });
    // As `spamdesk import` does (see cli/commands/import.ts): commits on this thread, reading and
    // compression in the preparation thread (`sqlite-one-thread`: everything on this one).
    const ctx = await createContext(config, { commitThread: false, cacheKib: IMPORT_CACHE_KIB });
    const paths = kind === 'mbox' ? [target] : [CORPUS_DIR];
    const s = await importPaths(ctx.db, ctx.writer, paths, {
      maxMessageBytes: config.maxMessageBytes,
      ...(kind === 'sqlite-one-thread' ? { prepareThread: false } : {}),
    });
    const commits = ctx.writer.stats.commits;
    await closeContext(ctx);
    const cpu = process.cpuUsage(cpu0);
    return {
      entries: s.entries,
      added: s.added,
      malformed: s.malformed,
      bytes: s.bytes,
      seconds: s.seconds,
      commits,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function report(label: string, r: ImportResult): void {
  process.stdout.write(
    `${label.padEnd(28)} ${String(r.added).padStart(6)} reports  ${(r.added / r.seconds).toFixed(0).padStart(5)} \
reports/s  ` +
      `${(r.bytes / 1e6 / r.seconds).toFixed(1).padStart(5)} MB/s  ${r.seconds.toFixed(1)} s  ` +
      `${(r.added / Math.max(1, r.commits)).toFixed(0)} reports/commit  ${(r.added / r.cpuSeconds).toFixed(0)} \
reports/CPU-s  peak RSS ${mb(r.maxRssBytes)}\n`,
  );
}

/**
 * Writes an mboxrd file of about `targetBytes` from corpus messages, each made unique with a
 * header so nothing is deduplicated away.
 */
export async function writeSyntheticMbox(file: string, targetBytes: number): Promise<number> {
  const files = await listSourceFiles(
    [path.join(CORPUS_DIR, 'spamassassin'), path.join(CORPUS_DIR, 'trec07p')],
    () => undefined,
  );
  const pool: Buffer[] = [];
  for await (const e of readAllEntries(files.slice(0, 3000), { maxMessageBytes: 1024 * 1024, mboxFormat: 'mboxrd' })) {
    if (e.raw) pool.push(Buffer.from(e.raw.toString('latin1').replace(/^(>*From )/gm, '>$1'), 'latin1'));
  }
  const fd = fs.openSync(file, 'w');
  let written = 0;
  let n = 0;
  try {
    while (written < targetBytes) {
      const m = pool[n % pool.length];
      const head = Buffer.from(`From bench@example.org Mon Jan  2 15:04:05 2006\nX-Bench-Seq: ${n}\n`);
      fs.writeSync(fd, head);
      fs.writeSync(fd, m);
      fs.writeSync(fd, m[m.length - 1] === 10 ? '\n' : '\n\n');
      written += head.length + m.length + 2;
      n++;
    }
  } finally {
    fs.closeSync(fd);
  }
  return n;
}

export const importBench: Bench = {
  name: 'import',
  description:
    'bulk import of the shared corpus into SQLite and PostgreSQL, and a ~1 GB mbox streamed into SQLite (peak RSS)',
  async run() {
    if (!corpusAvailable()) {
      process.stdout.write(`SKIP import bench: corpus not found at ${CORPUS_DIR}\n`);
      return;
    }
    report('corpus → SQLite (FULL)', await runPhase<ImportResult>(HERE, ['sqlite', '']));
    report('  the same on one thread', await runPhase<ImportResult>(HERE, ['sqlite-one-thread', '']));

    const pgProblem = await postgresUnavailable();
    if (pgProblem) {
      process.stdout.write(`SKIP corpus → PostgreSQL: ${pgProblem}\n`);
    } else {
      const name = `spamdesk_bench_${randomSecret(6)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, 'x')}`;
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query(`create database ${name}`);
      try {
        const url = new URL(PG_ADMIN_URL);
        url.pathname = `/${name}`;
        report('corpus → PostgreSQL', await runPhase<ImportResult>(HERE, ['postgres', url.toString()]));
      } finally {
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    }

    const targetMb = Number(process.env.SPAMDESK_BENCH_MBOX_MB ?? 1024);
    const file = path.join(os.tmpdir(), `spamdesk-bench-${process.pid}.mbox`);
    try {
      const n = await writeSyntheticMbox(file, targetMb * 1024 * 1024);
      process.stdout.write(`synthetic mbox: ${n} messages, ${mb(fs.statSync(file).size)}\n`);
      report('mbox → SQLite (streamed)', await runPhase<ImportResult>(HERE, ['mbox', file]));
    } finally {
      fs.rmSync(file, { force: true });
    }
  },
};

if (isPhaseProcess(HERE)) {
  const [kind, target] = process.argv.slice(2);
  printPhaseResult(await phase(kind, target ?? ''));
}
