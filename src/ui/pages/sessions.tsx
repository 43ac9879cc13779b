/** Desktop sessions across the cluster, filterable by user and by server, each with a disconnect button (and one per user), and terminate for launched ones; then who waits in line. */
import { Notice, RowAction } from "../components/forms.tsx";
import { Layout } from "../components/layout.tsx";
import { type PoolWaitView, WaitLineTable } from "../components/wait-line.tsx";
import { utc } from "../format.ts";
import type { PoolSession } from "../../pool/select-request.ts";
import type { UiSession } from "../session.ts";

export interface SessionsPageProps {
  session: UiSession;
  sessions: PoolSession[];
  /** Every pool's wait line, head first. */
  waiting: PoolWaitView[];
  user: string;
  server: string;
  notice?: string | undefined;
}

const DISCONNECT_PATH = "/admin/sessions/disconnect";
const TERMINATE_PATH = "/admin/sessions/terminate";

export function SessionsPage({ session, sessions, waiting, user, server, notice }: SessionsPageProps) {
  const filtered = user !== "" || server !== "";
  return (
    <Layout title="Sessions" session={session} current="sessions">
      <Notice text={notice} />
      <p class="muted">
        Disconnect ends the live relayed connections (the client sees close code 4000 and the reason); the desktop session keeps running and can be resumed. Terminate ends a
        session the broker launched (its launcher stops it on the node).
      </p>
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
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {sessions.length === 0 ? (
              <tr>
                <td colspan={9}>No session.</td>
              </tr>
            ) : null}
            {sessions.map((row) => (
              <tr>
                <th scope="row">
                  {row.user}
                  <RowAction action={DISCONNECT_PATH} session={session} label="Disconnect user" subject={row.user} fields={{ user: row.user }} />
                </th>
                <td>
                  <code>{row.id}</code>
                </td>
                <td>
                  {row.state}
                  {row.message ? <div class="muted">{row.message}</div> : null}
                </td>
                <td>{utc(row.startedAt)}</td>
                <td>{row.display ?? "—"}</td>
                <td>
                  {row.hostname} <code class="muted">{row.serverId}</code>
                </td>
                <td>{row.pool}</td>
                <td>{row.serverStatus}</td>
                <td class="actions">
                  <RowAction action={DISCONNECT_PATH} session={session} label="Disconnect" subject={`session ${row.id} of ${row.user}`} fields={{ pool: row.pool, serverId: row.serverId, sessionId: row.id }} />
                  {row.profileId ? (
                    <RowAction action={TERMINATE_PATH} session={session} label="Terminate" subject={`session ${row.id} of ${row.user}`} fields={{ pool: row.pool, serverId: row.serverId, sessionId: row.id }} />
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Waiting</h2>
      <WaitLineTable session={session} waiting={waiting} />
    </Layout>
  );
}
