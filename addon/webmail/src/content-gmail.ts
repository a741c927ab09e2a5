/**
 * Gmail (mail.google.com): the opened message's id. Gmail renders each message of a thread with
 * `data-legacy-message-id`, the hexadecimal id the Gmail API uses; with several messages open the
 * last one (the newest, expanded at the bottom) is reported.
 */
import { installReportButton } from './content-ui.ts';

function openMessageId(): string | null {
  const nodes = document.querySelectorAll<HTMLElement>('[data-legacy-message-id]');
  const last = nodes[nodes.length - 1];
  const id = last?.dataset.legacyMessageId ?? '';
  return /^[0-9a-f]{6,32}$/i.test(id) ? id : null;
}

installReportButton('gmail', openMessageId);
