/**
 * The close codes the gateway sends to clients (RFC 6455 §7.4), always with a reason, so a
 * client never has to guess from 1006:
 * - 1001 the session's endpoint closed normally ("session ended"), or the agent is stopping;
 * - 1011 the endpoint could not be reached, or failed (reset, error), with the cause;
 * - 1003 a text frame on a TCP bridge (RFB is binary);
 * - 4000 ended by the broker or an admin (`ConnectionRegistry.disconnect`), with their reason.
 * `ws` itself closes with 1009 for a message above `maxMessageBytes` and 1002 for a bad frame.
 */

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_UNSUPPORTED_DATA = 1003;
export const CLOSE_ENDPOINT_ERROR = 1011;
/** Private-use range (4000–4999): the broker or an admin ended this connection. */
export const CLOSE_ENDED_BY_BROKER = 4000;

export const REASON_SESSION_ENDED = "session ended";
export const REASON_AGENT_STOPPING = "node agent stopping";
export const REASON_TEXT_REFUSED = "text frames are not supported: this endpoint takes binary frames";

/** A close frame's reason is at most 123 bytes of UTF-8; longer text is cut at a character boundary. */
const MAX_REASON_BYTES = 123;

export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= MAX_REASON_BYTES) return text;
  let cut = "";
  for (const character of text) {
    if (Buffer.byteLength(cut + character) > MAX_REASON_BYTES - 3) break;
    cut += character;
  }
  return `${cut}...`;
}

/**
 * Whether `code` may be sent in a close frame, by `ws`'s rule: 1005, 1006 and 1015 are only
 * reported locally, 1004 and 1016–2999 are reserved.
 */
export function isSendableCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}
