/**
 * The home page: the profiles the user may start and their sessions across the cluster. The
 * table is kept live by portal.js (it polls `/portal/api/state` and fills rows cloned from the
 * `<template>`); without the script it is a plain page with working links and forms.
 */
import type { Identity } from "../../auth/identity.ts";
import { utc } from "../../ui/format.ts";
import type { PortalProfile, PortalSessionRow, PortalState } from "../desktops.ts";
import type { PortalSession } from "../portal-env.ts";
import { ErrorBox, Notice, PORTAL_ASSETS, PortalLayout } from "./layout.tsx";

/** Fixed texts for `?notice=` after a redirect (nothing from the query is echoed). */
export const HOME_NOTICES: Record<string, string> = {
  terminated: "The session was terminated.",
};

const STATE_LABEL: Record<string, string> = { running: "running", suspended: "suspended", starting: "starting" };

export function desktopHref(sessionId: string, profileId: string): string {
  return `/portal/desktop?${new URLSearchParams({ session: sessionId, profile: profileId })}`;
}

/** One session row. `row` absent renders the empty template portal.js clones. */
export function SessionRow({ row, csrf }: { row?: PortalSessionRow; csrf: string }) {
  const openable = row !== undefined && row.profileId !== null && row.serverUp && row.state !== "starting";
  return (
    <tr data-session-id={row?.id ?? ""} data-state={row?.state ?? ""}>
      <th scope="row" data-field="id">
        {row?.id ?? ""}
      </th>
      <td>
        <span class="state" data-field="state">
          {row ? (STATE_LABEL[row.state] ?? row.state) : ""}
        </span>
        <span class="muted message" data-field="message">
          {row?.message ? ` ${row.message}` : ""}
        </span>
      </td>
      <td data-field="hostname">{row ? `${row.hostname}${row.serverUp ? "" : " (down)"}` : ""}</td>
      <td>
        <time data-field="age" datetime={row ? new Date(row.startedAt).toISOString() : ""} title={row ? utc(row.startedAt) : ""}>
          {row?.age ?? ""}
        </time>
      </td>
      <td class="actions">
        <a class="button" data-field="open" href={openable && row?.profileId ? desktopHref(row.id, row.profileId) : "/"} hidden={!openable}>
          {row?.state === "running" ? "Open" : "Resume"}
          <span class="visually-hidden" data-field="subject">
            {` ${row?.id ?? ""}`}
          </span>
        </a>
        <form method="post" action={`/portal/sessions/${encodeURIComponent(row?.id ?? "")}/terminate`} data-confirm="Terminate this session? Unsaved work in it is lost.">
          <input type="hidden" name="_csrf" value={csrf} />
          <button type="submit" class="danger">
            Terminate<span class="visually-hidden" data-field="subject">{` ${row?.id ?? ""}`}</span>
          </button>
        </form>
      </td>
    </tr>
  );
}

function ProfileItem({ profile }: { profile: PortalProfile }) {
  return (
    <li>
      <span class="profile-name">{profile.name}</span> <span class="muted">({profile.pool})</span>{" "}
      {profile.inBrowser ? (
        <a class="button primary" href={`/portal/desktop?${new URLSearchParams({ profile: profile.id })}`}>
          Start<span class="visually-hidden"> {profile.name}</span>
        </a>
      ) : (
        <span class="muted">opens in an X2Go client</span>
      )}
    </li>
  );
}

export interface HomePageProps {
  session: PortalSession;
  identity: Identity;
  state: PortalState;
  notice?: string | undefined;
  error?: string | undefined;
}

export function HomePage({ session, identity, state, notice, error }: HomePageProps) {
  return (
    <PortalLayout title="My desktops" signedIn={{ session, identity }} script={PORTAL_ASSETS.home}>
      <Notice text={notice} />
      <ErrorBox text={error} />
      <section aria-labelledby="profiles-heading">
        <h2 id="profiles-heading">Start a desktop</h2>
        {state.profiles.length === 0 ? (
          <p>No desktop profile is available to you. Ask your administrator.</p>
        ) : (
          <ul class="profiles">
            {state.profiles.map((profile) => (
              <ProfileItem profile={profile} />
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">My sessions</h2>
        <p class="live muted" aria-live="polite" data-live-announce></p>
        <div class="scroll">
          <table data-live-sessions="/portal/api/state">
            <caption class="visually-hidden">My sessions across the cluster</caption>
            <thead>
              <tr>
                <th scope="col">Session</th>
                <th scope="col">State</th>
                <th scope="col">Server</th>
                <th scope="col">Started</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {state.sessions.map((row) => (
                <SessionRow row={row} csrf={session.csrf} />
              ))}
            </tbody>
          </table>
        </div>
        <p data-empty hidden={state.sessions.length > 0}>
          You have no sessions. Start a desktop above.
        </p>
        <template id="session-row-template">
          <SessionRow csrf={session.csrf} />
        </template>
      </section>
    </PortalLayout>
  );
}
