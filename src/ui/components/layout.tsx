/** The page shell: document head, skip link, navigation, who is signed in, and sign-out. */
import type { Child } from "hono/jsx";
import type { UiSession } from "../session.ts";
import { CsrfField } from "./forms.tsx";

export type NavKey = "servers" | "sessions" | "pools" | "decisions" | "enrolment" | "users" | "profiles";

const NAV: ReadonlyArray<[NavKey, string, string]> = [
  ["servers", "/admin/servers", "Servers"],
  ["sessions", "/admin/sessions", "Sessions"],
  ["pools", "/admin/pools", "Pools and policies"],
  ["decisions", "/admin/decisions", "Decisions"],
  ["enrolment", "/admin/enrolment", "Enrolment"],
  ["users", "/admin/users", "Users"],
  ["profiles", "/admin/profiles", "Profiles"],
];

const SOURCE_LABEL: Record<UiSession["source"], string> = {
  "admin-token": "admin token",
  password: "broker account",
  oidc: "Cloudflare Access",
};

export interface LayoutProps {
  title: string;
  /** Absent on the sign-in page and on errors before sign-in: no navigation then. */
  session?: UiSession | undefined;
  current?: NavKey;
  children?: Child;
}

/** Every dashboard page: one `<h1>` (the title), landmarks, the CSS and the client script. */
export function Layout({ title, session, current, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Session broker admin`}</title>
        <link rel="stylesheet" href="/admin/assets/dashboard.css" />
        <script src="/admin/assets/dashboard.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <p class="brand">Session broker</p>
          {session ? (
            <nav aria-label="Dashboard">
              <ul>
                {NAV.map(([key, href, label]) => (
                  <li>
                    <a href={href} aria-current={key === current ? "page" : undefined}>
                      {label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          ) : null}
          {session ? (
            <form method="post" action="/admin/logout" class="signout">
              <span class="muted">
                {session.login} ({SOURCE_LABEL[session.source]})
              </span>
              <CsrfField session={session} />
              <button type="submit">Sign out</button>
            </form>
          ) : null}
        </header>
        <main id="main" tabindex={-1}>
          <h1>{title}</h1>
          {children}
        </main>
      </body>
    </html>
  );
}
