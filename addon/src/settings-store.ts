/** Reading and writing the add-on's settings in `messenger.storage.local`. */
import { DEFAULT_SETTINGS, type AddonSettings } from './send.ts';

const KEYS = ['instanceUrl', 'token', 'moveToJunk', 'note'] as const;

export async function loadSettings(): Promise<AddonSettings> {
  const stored = await messenger.storage.local.get([...KEYS]);
  return {
    instanceUrl: typeof stored.instanceUrl === 'string' ? stored.instanceUrl : DEFAULT_SETTINGS.instanceUrl,
    token: typeof stored.token === 'string' ? stored.token : DEFAULT_SETTINGS.token,
    moveToJunk: stored.moveToJunk === true,
    note: typeof stored.note === 'string' ? stored.note : DEFAULT_SETTINGS.note,
  };
}

export async function saveSettings(s: AddonSettings): Promise<void> {
  await messenger.storage.local.set({
    instanceUrl: s.instanceUrl.trim(),
    token: s.token.trim(),
    moveToJunk: s.moveToJunk,
    note: s.note,
  });
}

/** The host permission pattern for the instance (requested on save, from the options page). */
export function originPattern(instanceUrl: string): string {
  return `${new URL(instanceUrl).origin}/*`;
}
