/** The balancer's recent real decisions (newest first), each with its trace. */
import { Layout } from "../components/layout.tsx";
import { type HostNames, TraceTable } from "../components/trace.tsx";
import { utc } from "../format.ts";
import type { Decision } from "../../pool/placement-store.ts";
import type { UiSession } from "../session.ts";

export interface PoolDecision extends Decision {
  pool: string;
}

export interface DecisionsPageProps {
  session: UiSession;
  pools: string[];
  pool: string;
  decisions: PoolDecision[];
  names: HostNames;
}

export function DecisionsPage({ session, pools, pool, decisions, names }: DecisionsPageProps) {
  return (
    <Layout title="Recent decisions" session={session} current="decisions">
      <form method="get" action="/admin/decisions" class="filters" aria-label="Choose a pool">
        <label for="decisions-pool">Pool</label>
        <select id="decisions-pool" name="pool">
          <option value="" selected={pool === ""}>
            All pools
          </option>
          {pools.map((name) => (
            <option value={name} selected={pool === name}>
              {name}
            </option>
          ))}
        </select>
        <button type="submit">Show</button>
      </form>
      <table class="decisions">
        <caption>
          {decisions.length} recent decision{decisions.length === 1 ? "" : "s"}
        </caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Pool</th>
            <th scope="col">Action</th>
            <th scope="col">User</th>
            <th scope="col">Outcome</th>
            <th scope="col">Trace</th>
          </tr>
        </thead>
        <tbody>
          {decisions.length === 0 ? (
            <tr>
              <td colspan={6}>No decision yet: they are logged when sessions are placed.</td>
            </tr>
          ) : null}
          {decisions.map((decision) => (
            <tr>
              <th scope="row">{utc(decision.at)}</th>
              <td>{decision.pool}</td>
              <td>{decision.action}</td>
              <td>{decision.user}</td>
              <td>
                {decision.ok && decision.serverId ? `→ ${names.get(decision.serverId) ?? decision.serverId}: ` : "refused: "}
                {decision.reason}
                {decision.resumeSessionId ? ` (resume ${decision.resumeSessionId})` : ""}
              </td>
              <td>
                <details>
                  <summary>
                    {decision.trace.length} step{decision.trace.length === 1 ? "" : "s"}
                  </summary>
                  <TraceTable trace={decision.trace} names={names} caption={`Trace of decision ${decision.id}`} />
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}
