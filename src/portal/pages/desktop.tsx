/**
 * The desktop page: noVNC's client (desktop.js, bundled from @novnc/novnc) in the window, and
 * the controls users expect from noVNC: clipboard, full screen, scaling, Ctrl-Alt-Del. The page
 * starts the session (`profile` alone) or resumes it (`session` and `profile`); every connect and
 * reconnect asks `/portal/api/…` for a fresh single-use relay ticket. While the start waits in a
 * line, "Leave the line" gives the place up.
 */
import type { Identity } from "../../auth/identity.ts";
import type { PortalSession } from "../portal-env.ts";
import { PORTAL_ASSETS, PortalLayout } from "./layout.tsx";

export interface DesktopPageProps {
  session: PortalSession;
  identity: Identity;
  profile: { id: string; name: string };
  /** The session to resume; absent, the page starts a new one. */
  sessionId?: string | undefined;
}

export function DesktopPage({ session, identity, profile, sessionId }: DesktopPageProps) {
  return (
    <PortalLayout title={`Desktop: ${profile.name}`} signedIn={{ session, identity }} script={PORTAL_ASSETS.desktop} wide>
      <div id="desktop" class="desktop" data-profile={profile.id} data-profile-name={profile.name} data-session={sessionId ?? ""} data-state="loading">
        <div class="toolbar" role="toolbar" aria-label="Desktop controls">
          <p class="desktop-status" role="status" aria-live="polite" data-status>
            {sessionId ? "Connecting…" : "Starting a session…"}
          </p>
          <button type="button" class="danger" data-action="leave" hidden>
            Leave the line
          </button>
          <button type="button" data-action="fullscreen">
            Full screen
          </button>
          <label class="check">
            <input type="checkbox" data-action="scale" checked />
            Scale to window
          </label>
          <button type="button" data-action="ctrl-alt-del">
            Send Ctrl-Alt-Del
          </button>
          <details class="clipboard">
            <summary>Clipboard</summary>
            <div class="clipboard-panel">
              <label for="clipboard-text">Text shared with the desktop</label>
              <textarea id="clipboard-text" rows={4} data-clipboard></textarea>
              <button type="button" data-action="paste">
                Send to desktop
              </button>
            </div>
          </details>
          <button type="button" data-action="disconnect">
            Disconnect
          </button>
          <button type="button" data-action="reconnect" hidden>
            Reconnect
          </button>
          <a href="/">Back to my desktops</a>
        </div>
        <form class="credentials stack" data-credentials hidden>
          <label for="desktop-password">This desktop asks for a password</label>
          <input id="desktop-password" type="password" autocomplete="off" />
          <button type="submit">Send</button>
        </form>
        <div id="screen" class="screen" aria-label="Remote desktop"></div>
      </div>
    </PortalLayout>
  );
}
