/** `spamdesk serve`: HTTP, registered services and workers until SIGTERM/SIGINT. */
import type { Command } from 'commander';
import { configFrom, fail, withSettings } from '../options.ts';
import { policyFor } from '../../actions/action-policy.ts';
import { startPlatform } from '../../app/platform.ts';
import { STARTUP_HOOKS } from '../../app/areas.ts';

export function registerServe(program: Command): void {
  withSettings(
    program
      .command('serve')
      .description('Run the platform: HTTP (web app, API, /metrics), SMTP intake and background workers.'),
  ).action(async (_opts, cmd: Command) => {
    const config = configFrom(cmd);
    // Read the operator's actions policy now, so a bad file stops the start instead of failing
    // the first case rule hours later.
    let policyOrg: string;
    try {
      policyOrg = policyFor(config).instance.org;
    } catch (e) {
      fail((e as Error).message, 2);
    }
    const platform = await startPlatform(config);
    const lines = [
      `Spamdesk is running.`,
      `  Web app and API:  ${platform.url}/`,
      `  API description:  ${platform.url}/api/docs`,
      `  Metrics:          ${platform.url}/metrics`,
    ];
    for (const s of platform.services) lines.push(`  ${s.describe()}`);
    lines.push(
      `  Database:         ${
        config.database.dialect === 'sqlite' ? config.database.path : 'PostgreSQL ' + '(DATABASE_URL)'
      }`,
    );
    lines.push(`  Workers:          ${config.workers}`);
    lines.push(`  Actions policy:   ${config.actionsPolicyFile ?? 'built-in defaults'} (instance ${policyOrg})`);
    for (const hook of STARTUP_HOOKS) {
      const extra = await hook(platform.ctx);
      if (extra) lines.push(...extra);
    }
    process.stderr.write(`${lines.join('\n')}\nPress Ctrl+C to stop.\n`);
    // One machine-readable line for supervisors and tests (the port is chosen by the OS with
    // --http-port 0).
    process.stdout.write(`${JSON.stringify({ msg: 'spamdesk ready', url: platform.url, pid: process.pid })}\n`);
    let signals = 0;
    const shutdown = (sig: string) => {
      signals++;
      if (signals > 1) process.exit(130);
      platform.ctx.logger.info({ signal: sig }, 'shutting down: finishing requests in flight');
      platform.stop().then(
        () => process.exit(0),
        (e: unknown) => {
          platform.ctx.logger.error({ err: e }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
}
