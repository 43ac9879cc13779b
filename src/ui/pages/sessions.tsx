/** Desktop sessions across the cluster, filterable by user and by server. */
import { Layout } from "../components/layout.tsx";
import { utc } from "../format.ts";
import type { PoolSession } from "../../pool/select-request.ts";
import type { UiSession } from "../session.ts";

export interface SessionsPageProps {
  session: UiSession;
  sessions: PoolSession[];
  user: string;
  server: string;
}

export function SessionsPage({ session, sessions, user, server }: SessionsPageProps) {
  const filtered = user !== "" || server !== "";
  return (
    <Layout title="Sessions" session={session} current="sessions">
      <form method="get" action="/admin/sessions" class="filters" role="search" aria-label="Filter sessions">
        <label for="filter-user">User</label>
        <input id="filter-user" name="user" value={user} maxlength={256} />
        <label for="filter-server">Server (hostname or id)</label>
        <input id="filter-server" name="server" value={server} maxlength={256} />
        <button type="submit">Filter</button>
        {filtered ? <a href="/admin/sessions">Show all</a> : null}
      </form>
      <div class="scroll">
        <table>
          <caption>
            {sessions.length} session{sessions.length === 1 ? "" : "s"}
            {filtered ? " matching the filter" : " in the cluster"}
          </caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Session</th>
              <th scope="col">State</th>
              <th scope="col">Started</th>
              <th scope="col">Display</th>
              <th scope="col">Server</th>
              <th scope="col">Pool</th>
              <th scope="col">Server status</th>
            </tr>
          </thead>
          <tbody>
            {sessions.length === 0 ? (
              <tr>
                <td colspan={8}>No session.</td>
              </tr>
            ) : null}
            {sessions.map((row) => (
              <tr>
                <th scope="row">{row.user}</th>
                <td>
                  <code>{row.id}</code>
                </td>
                <td>{row.state}</td>
                <td>{utc(row.startedAt)}</td>
                <td>{row.display ?? "—"}</td>
                <td>
                  {row.hostname} <code class="muted">{row.serverId}</code>
                </td>
                <td>{row.pool}</td>
                <td>{row.serverStatus}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}
