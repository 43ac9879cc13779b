/**
 * Pools: their heartbeat interval, node origins and approval, policy and servers, with links to
 * edit, dry-run and audit, a settings form per pool, and a form for a new pool.
 */
import { CsrfField, Notice } from "../components/forms.tsx";
import { Layout } from "../components/layout.tsx";
import type { UiSession } from "../session.ts";

export interface PoolSummary {
  name: string;
  intervalMs: number;
  originPatterns: string[];
  allowPrivateOrigins: boolean;
  requireApproval: boolean;
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
            <th scope="col">Node origins</th>
            <th scope="col">New nodes</th>
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
                <td>{originText(pool)}</td>
                <td>{pool.requireApproval ? "wait for approval" : "approved at once"}</td>
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
      {pools.map((pool) => (
        <section aria-labelledby={`settings-${pool.name}`}>
          <h2 id={`settings-${pool.name}`}>Settings of {pool.name}</h2>
          <form method="post" action={`/admin/pools/${encodeURIComponent(pool.name)}/settings`} class="stack">
            <CsrfField session={session} />
            <SettingsFields idPrefix={`pool-${pool.name}`} pool={pool} />
            <button type="submit">Save settings of {pool.name}</button>
          </form>
        </section>
      ))}
      <section aria-labelledby="new-pool-heading">
        <h2 id="new-pool-heading">New pool</h2>
        <form method="post" action="/admin/pools" class="stack">
          <CsrfField session={session} />
          <label for="pool-name">Name (a-z, 0-9, - and _)</label>
          <input id="pool-name" name="name" required maxlength={63} pattern="[a-z0-9][a-z0-9_\-]{0,62}" />
          <SettingsFields idPrefix="new-pool" pool={{ intervalMs: 10_000, originPatterns: [], allowPrivateOrigins: false, requireApproval: true }} />
          <button type="submit">Create pool</button>
        </form>
      </section>
    </Layout>
  );
}

function originText(pool: Pick<PoolSummary, "originPatterns" | "allowPrivateOrigins">): string {
  const patterns = pool.originPatterns.length > 0 ? pool.originPatterns.join(", ") : "none allowed yet";
  return pool.allowPrivateOrigins ? `${patterns}; private and loopback origins allowed` : patterns;
}

type Settings = Pick<PoolSummary, "intervalMs" | "originPatterns" | "allowPrivateOrigins" | "requireApproval">;

/** The fields a pool's settings form and the new-pool form share. */
function SettingsFields({ idPrefix, pool }: { idPrefix: string; pool: Settings }) {
  return (
    <>
      <label for={`${idPrefix}-interval`}>Heartbeat interval (seconds)</label>
      <input id={`${idPrefix}-interval`} name="intervalSeconds" type="number" min="1" max="300" step="1" value={String(pool.intervalMs / 1000)} required />
      <label for={`${idPrefix}-origins`}>Node origin patterns (one per line or comma-separated, e.g. *.nodes.example.com)</label>
      <textarea id={`${idPrefix}-origins`} name="originPatterns" rows={2} maxlength={16384}>
        {pool.originPatterns.join("\n")}
      </textarea>
      <label class="check">
        <input type="checkbox" name="allowPrivateOrigins" value="yes" checked={pool.allowPrivateOrigins} /> Allow loopback, private and IP-address origins (local test clusters only)
      </label>
      <label class="check">
        <input type="checkbox" name="requireApproval" value="yes" checked={pool.requireApproval} /> New nodes wait for an admin's approval
      </label>
    </>
  );
}
