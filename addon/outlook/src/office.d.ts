/**
 * The small part of Office.js (Outlook, Mailbox requirement sets 1.3–1.14) the add-in uses, typed
 * by hand from https://learn.microsoft.com/javascript/api/outlook (no @types/office-js needed).
 */
declare namespace Office {
  enum AsyncResultStatus {
    Succeeded = 'succeeded',
    Failed = 'failed',
  }
  interface AsyncError {
    name: string;
    message: string;
    code: number;
  }
  interface AsyncResult<T> {
    status: AsyncResultStatus | 'succeeded' | 'failed';
    value: T;
    error?: AsyncError;
    asyncContext?: unknown;
  }
  namespace MailboxEnums {
    enum MoveSpamItemTo {
      CustomFolder = 'customFolder',
      DeletedItemsFolder = 'deletedItemsFolder',
      JunkFolder = 'junkFolder',
      NoMove = 'noMove',
    }
  }
  interface SpamReportingEventCompletedOptions {
    moveItemTo?: MailboxEnums.MoveSpamItemTo | string;
    folderName?: string;
    onErrorDeleteItem?: boolean;
    showPostProcessingDialog?: { title: string; description: string };
  }
  /** The event of the integrated spam-reporting button (Mailbox 1.14). */
  interface SpamReportingEvent {
    type?: string;
    options?: boolean[];
    freeText?: string;
    completed(options?: SpamReportingEventCompletedOptions): void;
  }
  interface MessageRead {
    itemId?: string;
    internetMessageId?: string;
    subject?: string;
    /** Mailbox 1.14: the message's EML, base64-encoded. */
    getAsFileAsync?(callback: (r: AsyncResult<string>) => void): void;
  }
  interface RoamingSettings {
    get(name: string): unknown;
    set(name: string, value: unknown): void;
    remove(name: string): void;
    saveAsync(callback?: (r: AsyncResult<void>) => void): void;
  }
  interface Context {
    displayLanguage: string;
    requirements: { isSetSupported(name: string, minVersion?: string): boolean };
    roamingSettings: RoamingSettings;
    mailbox: { item: MessageRead | null | undefined };
  }
  const context: Context;
  function onReady(callback?: (info: { host: string; platform: string }) => void): Promise<unknown>;
  namespace actions {
    function associate(name: string, handler: (event: SpamReportingEvent) => void): void;
  }
}
