/** The intake area's front door: the report and SMS routes and the SMTP intake service. */
import type { Area } from '../evidence/context.ts';
import { reportRoutes } from './http/report-routes.ts';
import { smsRoutes } from './sms/sms-routes.ts';
import { smtpIntakeService } from './smtp/smtp-intake.ts';

export const intakeArea = {
  name: 'intake',
  routes: [reportRoutes, smsRoutes],
  services: [smtpIntakeService],
} satisfies Area;
