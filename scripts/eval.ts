/**
 * `npm run eval`: runs every evaluation of {@link EVALS} in turn (or those named:
 * `npm run eval -- classification campaigns`). Each prints its own figures; none gates.
 */
import { EVALS } from './evals.ts';

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
for (const e of EVALS) {
  if (wanted.length > 0 && !wanted.includes(e.name)) continue;
  process.stdout.write(`\n=== eval ${e.name}: ${e.description}\n`);
  const started = Date.now();
  try {
    await e.run();
  } catch (err) {
    process.stdout.write(`eval ${e.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
  process.stdout.write(`=== ${e.name} took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
