/** Small form pieces: the CSRF field, notices and error boxes. */
import type { UiSession } from "../session.ts";

/** The hidden `_csrf` field every dashboard form that changes something carries. */
export function CsrfField({ session }: { session: UiSession }) {
  return <input type="hidden" name="_csrf" value={session.csrf} />;
}

/**
 * A one-button POST form for a row action (delete, disable, …). The row's name follows the
 * visible label for screen readers, so "Delete" buttons in a table stay distinguishable.
 */
export function RowAction(props: { action: string; session: UiSession; label: string; subject: string; danger?: boolean; fields?: Record<string, string> }) {
  return (
    <form method="post" action={props.action}>
      <CsrfField session={props.session} />
      {Object.entries(props.fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" class={props.danger ? "danger" : undefined}>
        {props.label}
        <span class="visually-hidden"> {props.subject}</span>
      </button>
    </form>
  );
}

/** A success message, announced politely. */
export function Notice({ text }: { text?: string | undefined }) {
  return text ? (
    <p class="notice" role="status">
      {text}
    </p>
  ) : null;
}

/** An error message, announced at once. */
export function ErrorBox({ text }: { text?: string | undefined }) {
  return text ? (
    <p class="error" role="alert">
      {text}
    </p>
  ) : null;
}

/** Fixed texts for `?notice=` after a redirect (nothing from the query is echoed). */
export const NOTICES: Record<string, string> = {
  drained: "The server is draining: it keeps its sessions but gets no new ones.",
  undrained: "The server takes new sessions again.",
  removed: "The server was removed; its key no longer works.",
  "user-created": "User created.",
  "user-deleted": "User deleted.",
  "user-updated": "User updated.",
  "profile-created": "Profile created.",
  "profile-deleted": "Profile deleted.",
  "pool-created": "Pool created.",
  "pool-updated": "Pool settings saved.",
  approved: "The server is approved: it takes sessions from now on.",
  "session-disconnected": "The session's live connections were closed; the session itself keeps running.",
  "session-terminated": "The session was ended on its server; its connections were closed.",
  "queue-removed": "The user was taken out of the line; their client is told so.",
  "user-disconnected": "The user's live connections were closed on every connected server.",
  "user-disconnect-incomplete": "Some servers did not confirm the disconnect (channel down or no answer): the user's connections there may still be open. The broker's log names them.",
};

export function noticeText(code: string | undefined): string | undefined {
  return code !== undefined && Object.hasOwn(NOTICES, code) ? NOTICES[code] : undefined;
}
