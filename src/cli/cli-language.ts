/**
 * The language of the CLI's human messages: the POSIX locale of the messages category —
 * `LC_ALL`, then `LC_MESSAGES`, then `LANG` (the first one set and non-empty decides) — French for
 * `fr`, `fr_FR.UTF-8`, `fr_BE@euro`…; English for anything else (`C`, `POSIX`, unset). `--json`
 * output is machine-read and never translated.
 */
import type { AppLanguage } from '../core/languages.ts';
import { errorMessageIn } from '../core/error-texts.ts';

/** The language of `env`'s messages locale (POSIX precedence). */
export function cliLanguage(env: Readonly<Record<string, string | undefined>>): AppLanguage {
  const locale = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((v) => v !== undefined && v !== '') ?? '';
  return /^fr([_.@-]|$)/i.test(locale) ? 'fr' : 'en';
}

/** The line printed for a command that failed, its message in the user's language when known. */
export function cliErrorLine(e: unknown, env: Readonly<Record<string, string | undefined>>): string {
  const message = e instanceof Error ? e.message : String(e);
  return `spamdesk: ${errorMessageIn(message, cliLanguage(env))}\n`;
}
