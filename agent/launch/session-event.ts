/** What the session manager tells the control channel after its answers: changes the broker did not ask for. */
export type SessionEvent =
  /** A queued session became connectable (its scheduler started it). */
  | { type: "running"; sessionId: string; user: string }
  /** A queued session will not run; `message` is for the user (the launcher's words, clipped). */
  | { type: "failed"; sessionId: string; user: string; message: string }
  /** A session ended: stopped by the broker, or its desktop exited by itself. */
  | { type: "ended"; sessionId: string; user: string; reason: string };
