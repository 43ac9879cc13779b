/** The portal's page shell: head, skip link, who is signed in, the admin link for admins, sign-out. */
import type { Child } from "hono/jsx";
import type { Identity } from "../../auth/identity.ts";
import type { PortalSession } from "../portal-env.ts";

/** Static assets (Workers Static Assets, built by scripts/build-assets.ts into dist/static/). */
export const PORTAL_ASSETS = {
  css: "/portal/assets/portal.css",
  home: "/portal/assets/portal.js",
  desktop: "/portal/assets/desktop.js",
} as const;

export interface PortalLayoutProps {
  title: string;
  /** Absent before sign-in: no account bar then. */
  signedIn?: { session: PortalSession; identity: Identity } | undefined;
  /** The page's script, if any (an ES module; CSP `script-src 'self'`). */
  script?: string;
  /** A page that fills the window (the desktop) has a slimmer shell. */
  wide?: boolean;
  children?: Child;
}

export function PortalLayout({ title, signedIn, script, wide, children }: PortalLayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Desktops`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={PORTAL_ASSETS.css} />
        {signedIn ? <meta name="csrf-token" content={signedIn.session.csrf} /> : null}
        {script ? <script type="module" src={script}></script> : null}
      </head>
      <body class={wide ? "wide" : undefined}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <p class="brand">
            <a href="/">Desktops</a>
          </p>
          {signedIn?.identity.isAdmin ? (
            <p>
              <a href="/admin">Admin dashboard</a>
            </p>
          ) : null}
          {signedIn ? (
            <form method="post" action="/portal/logout" class="signout">
              <span class="muted">Signed in as {signedIn.session.login}</span>
              <input type="hidden" name="_csrf" value={signedIn.session.csrf} />
              <button type="submit">Sign out</button>
            </form>
          ) : null}
        </header>
        <main id="main" tabindex={-1}>
          <h1 class={wide ? "visually-hidden" : undefined}>{title}</h1>
          {children}
        </main>
      </body>
    </html>
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
