/** Broker-managed users: list, create, enable / disable, disconnect, delete. Password hashes are never shown. */
import { CsrfField, ErrorBox, Notice, RowAction } from "../components/forms.tsx";
import { Layout } from "../components/layout.tsx";
import { listText, utc } from "../format.ts";
import type { PublicUser } from "../../users/users.ts";
import type { UiSession } from "../session.ts";

/** The create form's fields, kept on errors (never the password). */
export interface NewUserValues {
  login: string;
  groups: string;
  isAdmin: boolean;
}

export interface UsersPageProps {
  session: UiSession;
  users: PublicUser[];
  values?: NewUserValues;
  notice?: string | undefined;
  error?: string | undefined;
}

export function userPath(login: string): string {
  return `/admin/users/${encodeURIComponent(login)}`;
}

export function UsersPage({ session, users, values, notice, error }: UsersPageProps) {
  return (
    <Layout title="Users" session={session} current="users">
      <Notice text={notice} />
      <table>
        <caption>
          {users.length} broker-managed user{users.length === 1 ? "" : "s"} (single sign-on users are not stored here)
        </caption>
        <thead>
          <tr>
            <th scope="col">Login</th>
            <th scope="col">Groups</th>
            <th scope="col">Admin</th>
            <th scope="col">State</th>
            <th scope="col">Created</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr data-user={user.login}>
              <th scope="row">{user.login}</th>
              <td>{listText(user.groups)}</td>
              <td>{user.isAdmin ? "yes" : "no"}</td>
              <td>{user.disabled ? "disabled" : "active"}</td>
              <td>{utc(user.createdAt)}</td>
              <td class="actions">
                <RowAction
                  action={`${userPath(user.login)}/${user.disabled ? "enable" : "disable"}`}
                  session={session}
                  label={user.disabled ? "Enable" : "Disable"}
                  subject={user.login}
                />
                <RowAction action={`${userPath(user.login)}/disconnect`} session={session} label="Disconnect" subject={user.login} />
                <RowAction action={`${userPath(user.login)}/delete`} session={session} label="Delete" subject={user.login} danger />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <section aria-labelledby="new-user-heading">
        <h2 id="new-user-heading">New user</h2>
        <ErrorBox text={error} />
        <form method="post" action="/admin/users" class="stack">
          <CsrfField session={session} />
          <label for="user-login">Login</label>
          <input id="user-login" name="login" required maxlength={64} value={values?.login ?? ""} autocomplete="off" />
          <label for="user-password">Password (at least 8 characters)</label>
          <input id="user-password" name="password" type="password" required minlength={8} maxlength={1024} autocomplete="new-password" />
          <label for="user-groups">Groups (comma-separated)</label>
          <input id="user-groups" name="groups" maxlength={16384} value={values?.groups ?? ""} />
          <label class="check">
            <input type="checkbox" name="isAdmin" value="on" checked={values?.isAdmin ?? false} /> Broker admin
          </label>
          <button type="submit">Create user</button>
        </form>
      </section>
    </Layout>
  );
}
