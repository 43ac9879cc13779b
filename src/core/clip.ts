/**
 * The one bound on text that admin scripts control: their thrown messages, and their answers
 * quoted in ours ("chose …, which is not in its input list"). Such text reaches error bodies,
 * dry-run answers, the decision log, dashboard pages and X2Go answers, and a script can make it
 * megabytes; every producer clips it here before it leaves, so no reader needs to.
 */

/** UTF-8 bytes kept of a message: room for any honest explanation, not for a payload. */
export const MAX_MESSAGE_BYTES = 1024;

const encoder = new TextEncoder();

/**
 * `text` unchanged if it fits in `maxBytes` UTF-8 bytes; otherwise its longest prefix that fits
 * (never splitting a character) followed by "… (N more characters)", at most ~30 bytes more.
 * The work is bounded by `maxBytes`, not by the length of `text`.
 */
export function clipMessage(text: string, maxBytes: number = MAX_MESSAGE_BYTES): string {
  // A UTF-16 code unit takes at most 3 UTF-8 bytes, so short text needs no encoding.
  if (text.length * 3 <= maxBytes) return text;
  const { read } = encoder.encodeInto(text, new Uint8Array(maxBytes));
  return read >= text.length ? text : `${text.slice(0, read)}… (${text.length - read} more characters)`;
}
