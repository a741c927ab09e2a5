/**
 * Test support: a separate process appending audit entries, for the test that two processes
 * appending at once never fork the chain. Usage: `test-audit-appender.ts <database-url> <count> <label>`.
 * Half the entries are appended one by one (grouped appends), half inside transactions of their own.
 */
import { testConfig } from '../core/config.ts';
import { openDatabase } from '../db/dialect.ts';
import { appendEntries, writeAudit } from './audit.ts';

const [url, countArg, label] = process.argv.slice(2);
const config = testConfig({ databaseUrl: url });
const db = openDatabase(config.database);
const count = Number(countArg);
try {
  const writes: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0)
      writes.push(writeAudit(db, { actor: `process:${label}`, action: 'test.append', subject: `entry:${label}:${i}` }));
    else
      writes.push(
        db
          .transaction()
          .execute((trx) =>
            appendEntries(trx, [{ actor: `process:${label}`, action: 'test.append', subject: `entry:${label}:${i}` }]),
          ),
      );
    // Interleave with the other process rather than finishing in one burst.
    if (i % 10 === 9) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
} finally {
  await db.destroy();
}
