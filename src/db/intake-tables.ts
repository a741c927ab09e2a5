/** Tables owned by the intake channels (SMTP, SMS, ARF; see migrations 0004_*). */

/**
 * An SMS forwarded to the gateway whose sender is not known yet: the subscriber is asked to send
 * the sender's number next, as the 7726 (UK) and 33700 (FR) services do.
 */
export interface SmsPendingTable {
  id: string;
  /** The subscriber who forwarded it (E.164), i.e. the reporter. */
  reporter_number: string;
  text: string;
  received_at: string;
  gateway_message_id: string | null;
  /** api_tokens.id of the gateway that delivered it. */
  token_id: string | null;
  created_at: string;
}

/** A gateway delivery already handled: `<token id>:<provider message id>` → the answer it got. */
export interface SmsGatewayMessagesTable {
  key: string;
  /** JSON: the {@link GatewayOutcome} (status, reply, reports) given the first time. */
  outcome: string;
  created_at: string;
}

export interface IntakeTables {
  sms_pending: SmsPendingTable;
  sms_gateway_messages: SmsGatewayMessagesTable;
}
