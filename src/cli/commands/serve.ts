/**
 * `spamdesk serve`: HTTP, SMTP, background workers and services until SIGTERM/SIGINT, or the roles
 * given with `--only` (docs/operations.md). With every role (the default) and
 * `--background-process true` (the default), the background roles run in a supervised child
 * process (`../background-child.ts`).
 */
import v8 from 'node:v8';
import type { Command } from 'commander';
import { Option } from 'commander';
import { configFrom, fail, settingIsSet, withSettings } from '../options.ts';
import { policyFor } from '../../actions/action-policy.ts';
import { startPlatform } from '../../app/platform.ts';
import { LOWERED_MSG, lowerOwnPriority } from '../lower-priority.ts';
import { STARTUP_HOOKS } from '../../app/areas.ts';
import { BACKGROUND_ROLES, ROLES, type Config } from '../../core/config.ts';
import {
  attachToParent,
  operatorFilesFromParent,
  CHILD_FLAG,
  childArgv,
  CHILD_READY,
  startBackgroundChild,
  type BackgroundChild,
} from '../background-child.ts';

/** Whether this `serve` hands its background roles to a child process. */
export function splitsBackground(config: Config, isChild: boolean): boolean {
  return (
    !isChild &&
    config.backgroundProcess &&
    ROLES.every((r) => config.roles.includes(r)) &&
    !(config.database.dialect === 'sqlite' && config.database.path === ':memory:')
  );
}

export function registerServe(program: Command): void {
  withSettings(
    program
      .command('serve')
      .description(
        'Run the platform: HTTP (web app, API, /metrics), SMTP intake and background workers, or the roles given ' +
          'with --only.',
      )
      .addOption(new Option(CHILD_FLAG, 'run as the background child of a serve process').hideHelp()),
  ).action(async (opts: { backgroundChild?: boolean }, cmd: Command) => {
    const isChild = opts.backgroundChild === true;
    let signals = 0;
    // A background child runs with the operator files as its parent has them in force, even when it was
    // restarted after the files were edited: the web process and the child never disagree.
    if (isChild) await operatorFilesFromParent();
    let config = configFrom(cmd);
    // The child yields the CPU to the intake before it starts any thread of its own (lower-priority.ts).
    const lowered = isChild ? lowerOwnPriority(config.backgroundNice) : null;
    // Read the operator's actions policy now, so a bad file stops the start instead of failing
    // the first case rule hours later.
    let policyOrg: string;
    try {
      policyOrg = policyFor(config).instance.org;
    } catch (e) {
      fail((e as Error).message, 2);
    }
    const split = splitsBackground(config, isChild);
    if (split) config = Object.freeze({ ...config, roles: ROLES.filter((r) => !BACKGROUND_ROLES.includes(r)) });
    // Split, the web process shares the SQLite write lock with its child: its report commits wait
    // for the child's transactions in BEGIN IMMEDIATE, so they run in the commit thread, never on
    // the event loop (the attack bench's profile: 6 s of a 108 s run blocked there otherwise).
    const platform = await startPlatform(config, split ? { commitThread: true } : {});
    let background: BackgroundChild | null = null;
    if (split) {
      background = startBackgroundChild(
        platform.ctx.logger,
        childArgv(process.argv, process.execArgv, {
          mb: config.backgroundHeapMb,
          env: process.env,
          explicit: settingIsSet(cmd, 'backgroundHeapMb'),
        }),
      );
      const child = background;
      platform.ctx.onReports.add(() => child.wake());
      // `/metrics` serves the child's series too (analysis, job errors): they are counted there.
      platform.ctx.metrics.remote.push({ process: 'background', read: () => child.metrics() });
    }
    if (isChild) {
      // The limit the child runs with, whoever set it (SPAMDESK_BACKGROUND_HEAP_MB, NODE_OPTIONS or V8's default).
      platform.ctx.logger.info(
        { heapLimitMb: Math.round(v8.getHeapStatistics().heap_size_limit / 1048576), execArgv: process.execArgv },
        'background process heap limit',
      );
      if (lowered && lowered.threads + lowered.failed > 0) platform.ctx.logger.info({ ...lowered }, LOWERED_MSG);
      attachToParent(
        () => {
          for (const l of platform.ctx.onReports) l([]);
        },
        () => shutdown('parent gone'),
        () => platform.ctx.metrics.registry.getMetricsAsJSON(),
      );
    }
    const lines = [isChild ? 'Spamdesk background process is running.' : 'Spamdesk is running.'];
    lines.push(`  Roles:            ${platform.roles.join(', ')}`);
    if (platform.url)
      lines.push(
        `  Web app and API:  ${platform.url}/`,
        `  API description:  ${platform.url}/api/docs`,
        `  Metrics:          ${platform.url}/metrics`,
      );
    for (const s of platform.services) lines.push(`  ${s.describe()}`);
    lines.push(
      `  Database:         ${
        config.database.dialect === 'sqlite' ? config.database.path : 'PostgreSQL ' + '(DATABASE_URL)'
      }`,
    );
    if (platform.workers) lines.push(`  Workers:          ${config.workers}`);
    if (background)
      lines.push(`  Background:       ${BACKGROUND_ROLES.join(', ')} in child process ${background.pid()}`);
    lines.push(`  Actions policy:   ${config.actionsPolicyFile ?? 'built-in defaults'} (instance ${policyOrg})`);
    if (!isChild)
      for (const hook of STARTUP_HOOKS) {
        const extra = await hook(platform.ctx);
        if (extra) lines.push(...extra);
      }
    process.stderr.write(`${lines.join('\n')}\nPress Ctrl+C to stop.\n`);
    if (background && !(await background.ready))
      platform.ctx.logger.error('the background process did not start; the supervisor keeps trying');
    // One machine-readable line for supervisors and tests (the port is chosen by the OS with
    // --http-port 0).
    process.stdout.write(
      `${JSON.stringify({
        msg: isChild ? CHILD_READY : 'spamdesk ready',
        url: platform.url,
        pid: process.pid,
        roles: platform.roles,
        ...(background ? { backgroundPid: background.pid() } : {}),
      })}\n`,
    );
    function shutdown(sig: string): void {
      signals++;
      if (signals > 1) process.exit(130);
      platform.ctx.logger.info({ signal: sig }, 'shutting down: finishing requests in flight');
      Promise.all([platform.stop(), background?.stop()]).then(
        () => process.exit(0),
        (e: unknown) => {
          platform.ctx.logger.error({ err: e }, 'shutdown failed');
          process.exit(1);
        },
      );
    }
    // A process without the http and smtp roles has no server socket to keep it running, and the
    // background timers do not hold the event loop: this does, until a signal stops it.
    setInterval(() => undefined, 3_600_000);
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
}
