/**
 * Outlook.com and Outlook on the web (outlook.live.com, outlook.office.com): the opened message's
 * id is in the reading view's address (`…/mail/…/id/<id>`), the REST id Microsoft Graph takes.
 */
import { installReportButton } from './content-ui.ts';

function messageIdFromPath(pathname: string): string | null {
  const m = /\/id\/([^/?#]+)/.exec(pathname);
  if (!m) return null;
  try {
    const id = decodeURIComponent(m[1]);
    return id.length >= 8 ? id : null;
  } catch {
    return null;
  }
}

installReportButton('outlook', () => messageIdFromPath(location.pathname));
