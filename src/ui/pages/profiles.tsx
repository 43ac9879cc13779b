/** Session profiles: list, create (the profile as JSON, as the API takes it), delete. */
import { CsrfField, ErrorBox, Notice, RowAction } from "../components/forms.tsx";
import { Layout } from "../components/layout.tsx";
import { listText } from "../format.ts";
import type { Profile } from "../../profiles/profile-schema.ts";
import type { UiSession } from "../session.ts";

/** What the create form starts with. */
export const PROFILE_TEMPLATE = JSON.stringify(
  { id: "desktop", name: "Desktop", pool: "default", mode: "relay", hosts: [], command: "TERMINAL", acl: {}, x2goOptions: {} },
  null,
  2,
);

export interface ProfilesPageProps {
  session: UiSession;
  profiles: Profile[];
  draft: string;
  notice?: string | undefined;
  error?: string | undefined;
}

export function profilePath(id: string): string {
  return `/admin/profiles/${encodeURIComponent(id)}`;
}

export function ProfilesPage({ session, profiles, draft, notice, error }: ProfilesPageProps) {
  return (
    <Layout title="Profiles" session={session} current="profiles">
      <Notice text={notice} />
      <div class="scroll">
        <table>
          <caption>
            {profiles.length} profile{profiles.length === 1 ? "" : "s"}
          </caption>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Name</th>
              <th scope="col">Pool</th>
              <th scope="col">Mode</th>
              <th scope="col">Hosts</th>
              <th scope="col">Command</th>
              <th scope="col">Own policy</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {profiles.map((profile) => (
              <tr data-profile={profile.id}>
                <th scope="row">{profile.id}</th>
                <td>{profile.name}</td>
                <td>{profile.pool}</td>
                <td>{profile.mode}</td>
                <td>{profile.hosts.length === 0 ? "whole pool" : listText(profile.hosts.map((host) => host.name))}</td>
                <td>
                  <code>{profile.command}</code>
                </td>
                <td>{profile.policy ? `${profile.policy.steps.length} steps` : "pool's"}</td>
                <td class="actions">
                  <RowAction action={`${profilePath(profile.id)}/delete`} session={session} label="Delete" subject={profile.id} danger />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <section aria-labelledby="new-profile-heading">
        <h2 id="new-profile-heading">New profile</h2>
        <ErrorBox text={error} />
        <form method="post" action="/admin/profiles" class="stack wide">
          <CsrfField session={session} />
          <label for="profile-json">Profile JSON</label>
          <textarea id="profile-json" name="profile" rows={12} spellcheck={false} aria-describedby="profile-help">
            {draft}
          </textarea>
          <p id="profile-help" class="muted">
            As <code>POST /v1/admin/profiles</code> takes it: id, name, pool, mode (relay or redirect), and optionally hosts, command, policy, acl and
            x2goOptions.
          </p>
          <button type="submit">Create profile</button>
        </form>
      </section>
    </Layout>
  );
}
