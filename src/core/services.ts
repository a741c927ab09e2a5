/**
 * Long-running services `spamdesk serve` starts besides HTTP and the workers (the SMTP intake,
 * schedulers for digests and the outbox…). An area registers its factory in `SERVICES`.
 */
import type { AppContext } from '../evidence/context.ts';
import { smtpIntakeService } from '../intake/smtp/smtp-intake.ts';
import { actionsService } from '../actions/actions-service.ts';
import { webIndexerService } from '../web/indexer-service.ts';
import { retentionService } from '../evidence/retention-service.ts';

export interface RunningService {
  /** One line for the start-up banner, e.g. `SMTP intake on 127.0.0.1:2525`. */
  describe(): string;
  stop(): Promise<void>;
}

export interface ServiceFactory {
  name: string;
  /** False when configuration disables it. */
  enabled(ctx: AppContext): boolean;
  start(ctx: AppContext): Promise<RunningService>;
}

export const SERVICES: ServiceFactory[] = [smtpIntakeService, actionsService, webIndexerService, retentionService];
