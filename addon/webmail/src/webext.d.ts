/**
 * The small part of the WebExtension API (Manifest V3, promise style: Chromium 116+, Firefox 121+)
 * the extension uses, typed by hand from https://developer.chrome.com/docs/extensions/reference
 * and MDN. Firefox also answers to `chrome.*`, so one name serves both.
 */
declare namespace chrome {
  interface Listener<A extends unknown[], R = unknown> {
    addListener(cb: (...args: A) => R): void;
  }
  namespace runtime {
    interface MessageSender {
      tab?: { id?: number; url?: string };
      id?: string;
    }
    const id: string;
    function getURL(path: string): string;
    function sendMessage<T = unknown>(message: unknown): Promise<T>;
    function openOptionsPage(): Promise<void>;
    const onMessage: Listener<[unknown, MessageSender, (response: unknown) => void], boolean | undefined>;
    const onInstalled: Listener<[{ reason: string }]>;
    const onStartup: Listener<[]>;
  }
  namespace storage {
    interface StorageArea {
      get(keys: string | string[] | null): Promise<Record<string, unknown>>;
      set(items: Record<string, unknown>): Promise<void>;
      remove(keys: string | string[]): Promise<void>;
    }
    const local: StorageArea;
    const session: StorageArea | undefined;
    const onChanged: Listener<[Record<string, { oldValue?: unknown; newValue?: unknown }>, string]>;
  }
  namespace identity {
    function getRedirectURL(path?: string): string;
    function launchWebAuthFlow(details: { url: string; interactive: boolean }): Promise<string | undefined>;
  }
  namespace alarms {
    interface Alarm {
      name: string;
      scheduledTime: number;
    }
    function create(name: string, info: { when?: number; delayInMinutes?: number }): Promise<void> | void;
    function clear(name: string): Promise<boolean>;
    function get(name: string): Promise<Alarm | undefined>;
    const onAlarm: Listener<[Alarm]>;
  }
  namespace permissions {
    function contains(p: { origins: string[] }): Promise<boolean>;
    function request(p: { origins: string[] }): Promise<boolean>;
  }
  namespace action {
    const onClicked: Listener<[unknown]>;
  }
  namespace tabs {
    function create(p: { url: string }): Promise<unknown>;
  }
  namespace i18n {
    function getMessage(name: string, substitutions?: string | string[]): string;
    function getUILanguage(): string;
  }
}
