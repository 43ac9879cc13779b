/**
 * Enrolment tokens: choose a pool and a lifetime, get a one-time token. Only its hash is stored,
 * so this page is the one place it is ever shown (with a copy button and its expiry).
 */
import { CsrfField } from "../components/forms.tsx";
import { Layout } from "../components/layout.tsx";
import { utc } from "../format.ts";
import type { IssuedEnrolmentToken } from "../../cluster/pools.ts";
import type { UiSession } from "../session.ts";

/** Lifetimes offered, in seconds (the API accepts 60 s to 7 days). */
export const TOKEN_LIFETIMES: ReadonlyArray<[number, string]> = [
  [600, "10 minutes"],
  [3600, "1 hour"],
  [86_400, "1 day"],
  [604_800, "7 days"],
];

export interface EnrolmentPageProps {
  session: UiSession;
  pools: string[];
  pool: string;
  issued?: IssuedEnrolmentToken | undefined;
}

export function EnrolmentPage({ session, pools, pool, issued }: EnrolmentPageProps) {
  return (
    <Layout title="Enrolment tokens" session={session} current="enrolment">
      {issued ? (
        <section aria-labelledby="issued-heading" class="issued" data-issued>
          <h2 id="issued-heading">New token for pool {issued.pool}</h2>
          <p role="status">
            Copy it now: it is shown only once. It works for one enrolment until <time datetime={new Date(issued.expiresAt).toISOString()}>{utc(issued.expiresAt)}</time>
            {issued.preApproved ? "; the node it enrols needs no approval." : "; in a pool that requires approval, the node waits on the Servers page until you approve it."}
          </p>
          <label for="issued-token">Enrolment token</label>
          <div class="copy-row">
            <input id="issued-token" readonly value={issued.token} size={60} />
            <button type="button" data-copy="issued-token">
              Copy
            </button>
          </div>
          <p>On the node:</p>
          <pre>
            <code>{`sudo -u edge-broker-agent node agent/main.ts enroll --config /etc/edge-broker/agent.json --token '${issued.token}'`}</code>
          </pre>
        </section>
      ) : null}
      <form method="post" action="/admin/enrolment" class="stack">
        <CsrfField session={session} />
        <label for="token-pool">Pool</label>
        <select id="token-pool" name="pool">
          {pools.map((name) => (
            <option value={name} selected={name === pool}>
              {name}
            </option>
          ))}
        </select>
        <label for="token-ttl">Valid for</label>
        <select id="token-ttl" name="ttlSeconds">
          {TOKEN_LIFETIMES.map(([seconds, label]) => (
            <option value={String(seconds)} selected={seconds === 3600}>
              {label}
            </option>
          ))}
        </select>
        <label class="check">
          <input type="checkbox" name="preApproved" value="yes" /> Pre-approved: a node enrolled with it needs no approval
        </label>
        <button type="submit">Create token</button>
      </form>
    </Layout>
  );
}
