/** Pools: their heartbeat interval, policy and servers, with links to edit, dry-run and audit. */
import { CsrfField, Notice } from "../components/forms.tsx";
import { Layout } from "../components/layout.tsx";
import type { UiSession } from "../session.ts";

export interface PoolSummary {
  name: string;
  intervalMs: number;
  /** Step names of the pool's own chain, or null for the default chain. */
  steps: string[] | null;
  serversUp: number;
  serversTotal: number;
}

export function PoolsPage({ session, pools, notice }: { session: UiSession; pools: PoolSummary[]; notice?: string | undefined }) {
  return (
    <Layout title="Pools and policies" session={session} current="pools">
      <Notice text={notice} />
      <table>
        <caption>{pools.length} pool{pools.length === 1 ? "" : "s"}</caption>
        <thead>
          <tr>
            <th scope="col">Pool</th>
            <th scope="col">Heartbeat</th>
            <th scope="col">Policy chain</th>
            <th scope="col">Servers up</th>
            <th scope="col">Manage</th>
          </tr>
        </thead>
        <tbody>
          {pools.map((pool) => {
            const path = encodeURIComponent(pool.name);
            return (
              <tr>
                <th scope="row">{pool.name}</th>
                <td>{pool.intervalMs / 1000} s</td>
                <td>{pool.steps ? pool.steps.join(" → ") : "default chain"}</td>
                <td>
                  {pool.serversUp} of {pool.serversTotal}
                </td>
                <td>
                  <a href={`/admin/pools/${path}`}>Edit policy and dry-run</a> · <a href={`/admin/decisions?pool=${path}`}>Decisions</a> ·{" "}
                  <a href={`/admin/enrolment?pool=${path}`}>Enrolment token</a>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <section aria-labelledby="new-pool-heading">
        <h2 id="new-pool-heading">New pool</h2>
        <form method="post" action="/admin/pools" class="stack">
          <CsrfField session={session} />
          <label for="pool-name">Name (a-z, 0-9, - and _)</label>
          <input id="pool-name" name="name" required maxlength={63} pattern="[a-z0-9][a-z0-9_\-]{0,62}" />
          <label for="pool-interval">Heartbeat interval (seconds)</label>
          <input id="pool-interval" name="intervalSeconds" type="number" min="1" max="300" step="1" value="10" required />
          <button type="submit">Create pool</button>
        </form>
      </section>
    </Layout>
  );
}
