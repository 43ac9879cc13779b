/**
 * Servers of each pool, sortable by any column (server-side, by link), updated live: the client
 * script polls `/admin/api/servers` with the same sort every 2 s and patches the rows.
 */
import { Notice } from "../components/forms.tsx";
import { Layout } from "../components/layout.tsx";
import { SERVER_COLUMNS, ServerRowView } from "../components/server-row.tsx";
import type { PoolServers, ServerRow, SortKey, SortQuery } from "../server-model.ts";
import type { UiSession } from "../session.ts";

/** A blank row for the client script to clone when a new server appears. */
const TEMPLATE_ROW: ServerRow = {
  serverId: "",
  hostname: "",
  pool: "",
  status: "up",
  cells: { hostname: "", serverId: "", status: "", channel: "", lastSeen: "", load: "", memory: "", cpus: "", sessions: "", users: "", staticData: "", toggleLabel: "Drain" },
  toggleAction: "",
  removeAction: "",
};

function sortHref(sort: SortQuery, key: SortKey): string {
  const dir = sort.sort === key && sort.dir === "asc" ? "desc" : "asc";
  return `/admin/servers?sort=${key}&dir=${dir}`;
}

function SortHeader({ sort, field, label }: { sort: SortQuery; field: SortKey; label: string }) {
  const active = sort.sort === field;
  return (
    <th scope="col" aria-sort={active ? (sort.dir === "asc" ? "ascending" : "descending") : "none"}>
      <a href={sortHref(sort, field)}>
        {label}
        {active ? (sort.dir === "asc" ? " ▲" : " ▼") : ""}
      </a>
    </th>
  );
}

function PoolTable({ pool, sort, session }: { pool: PoolServers; sort: SortQuery; session: UiSession }) {
  const headingId = `pool-${pool.name}`;
  return (
    <section data-pool={pool.name} aria-labelledby={headingId}>
      <h2 id={headingId}>Pool {pool.name}</h2>
      <p class="muted">Heartbeat every {pool.intervalMs / 1000} s; a server is down after 3 missed beats.</p>
      <div class="scroll">
        <table class="servers">
          <caption class="visually-hidden">Servers of pool {pool.name}</caption>
          <thead>
            <tr>
              <SortHeader sort={sort} field="hostname" label="Server" />
              {SERVER_COLUMNS.map(([field, label]) =>
                field === "staticData" ? (
                  <th scope="col">{label}</th>
                ) : (
                  <SortHeader sort={sort} field={field} label={label} />
                ),
              )}
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            <tr data-empty hidden={pool.servers.length > 0}>
              <td colspan={SERVER_COLUMNS.length + 2}>No server is enrolled in this pool yet.</td>
            </tr>
            {pool.servers.map((row) => (
              <ServerRowView row={row} session={session} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export interface ServersPageProps {
  session: UiSession;
  pools: PoolServers[];
  sort: SortQuery;
  notice?: string | undefined;
}

export function ServersPage({ session, pools, sort, notice }: ServersPageProps) {
  return (
    <Layout title="Servers" session={session} current="servers">
      <Notice text={notice} />
      <p class="live">
        <span data-live-state>Live updates every 2 s.</span> <span class="visually-hidden" aria-live="polite" data-live-announce></span>
      </p>
      <div data-live-servers={`/admin/api/servers?sort=${sort.sort}&dir=${sort.dir}`}>
        {pools.length === 0 ? <p>No pool exists yet.</p> : null}
        {pools.map((pool) => (
          <PoolTable pool={pool} sort={sort} session={session} />
        ))}
      </div>
      <template id="server-row-template">
        <ServerRowView row={TEMPLATE_ROW} session={session} />
      </template>
    </Layout>
  );
}
