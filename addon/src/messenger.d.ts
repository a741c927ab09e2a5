/**
 * The small part of Thunderbird's MailExtension API (`messenger.*`) the add-on uses, typed by
 * hand from https://webextension-api.thunderbird.net/ (Thunderbird 115–128, Manifest V2).
 */
declare namespace messenger {
  interface MessageHeader {
    id: number;
    subject: string;
    folder?: MailFolder;
  }
  interface MessageList {
    id: string | null;
    messages: MessageHeader[];
  }
  interface MailFolder {
    accountId: string;
    path: string;
    type?: string;
    specialUse?: string[];
    subFolders?: MailFolder[];
  }
  interface MailAccount {
    id: string;
    folders?: MailFolder[];
  }
  interface Tab {
    id?: number;
  }
  interface Listener<A extends unknown[]> {
    addListener(cb: (...args: A) => unknown): void;
  }
  namespace messages {
    function getRaw(messageId: number, options?: { data_format?: 'BinaryString' | 'File' }): Promise<string | File>;
    function continueList(listId: string): Promise<MessageList>;
    function move(messageIds: number[], destination: MailFolder | string): Promise<void>;
    function update(messageId: number, properties: { junk?: boolean }): Promise<void>;
    function get(messageId: number): Promise<MessageHeader>;
  }
  namespace messageDisplay {
    function getDisplayedMessages(tabId: number): Promise<MessageHeader[] | MessageList>;
  }
  namespace mailTabs {
    function getSelectedMessages(tabId?: number): Promise<MessageList>;
  }
  namespace accounts {
    function get(accountId: string, includeSubFolders?: boolean): Promise<MailAccount | null>;
  }
  namespace messageDisplayAction {
    const onClicked: Listener<[Tab]>;
  }
  namespace browserAction {
    const onClicked: Listener<[Tab]>;
  }
  namespace menus {
    function create(props: { id: string; title: string; contexts: string[] }): void;
    const onClicked: Listener<[{ menuItemId: string | number; selectedMessages?: MessageList }, Tab]>;
  }
  namespace notifications {
    function create(options: { type: 'basic'; title: string; message: string; iconUrl?: string }): Promise<string>;
  }
  namespace storage.local {
    function get(keys: string[] | null): Promise<Record<string, unknown>>;
    function set(items: Record<string, unknown>): Promise<void>;
  }
  namespace permissions {
    function request(p: { origins: string[] }): Promise<boolean>;
    function contains(p: { origins: string[] }): Promise<boolean>;
  }
  namespace i18n {
    /** The message of `key` in the user's language ('' when no catalogue has it). */
    function getMessage(key: string, substitutions?: string | string[]): string;
    function getUILanguage(): string;
  }
  namespace runtime {
    function getURL(path: string): string;
  }
}
