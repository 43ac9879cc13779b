/** A balancing chain's trace as a table, and a selection outcome in one sentence. */
import type { TraceEntry } from "../../balancer/chain.ts";
import type { DryRunAnswer } from "../../pool/select-request.ts";

/** serverId → hostname, to show names where the trace has ids. */
export type HostNames = ReadonlyMap<string, string>;

function named(names: HostNames, serverId: string): string {
  const hostname = names.get(serverId);
  return hostname ? `${hostname} (${serverId})` : serverId;
}

/** One row per step run: what it did, which server it chose or kept, its message and time. */
export function TraceTable({ trace, names, caption }: { trace: TraceEntry[]; names: HostNames; caption: string }) {
  if (trace.length === 0) return <p class="muted">No step ran (no candidate server).</p>;
  return (
    <table class="trace">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Step</th>
          <th scope="col">Outcome</th>
          <th scope="col">Servers</th>
          <th scope="col">Message</th>
          <th scope="col">Time</th>
        </tr>
      </thead>
      <tbody>
        {trace.map((entry, index) => (
          <tr>
            <td>{index + 1}</td>
            <th scope="row">{entry.step}</th>
            <td>{entry.outcome}</td>
            <td>
              {entry.serverId ? `chose ${named(names, entry.serverId)}` : entry.kept ? `kept ${entry.kept.map((id) => names.get(id) ?? id).join(", ") || "none"}` : "—"}
            </td>
            <td>{entry.message ?? "—"}</td>
            <td>{entry.durationMs === undefined ? "—" : `${entry.durationMs.toFixed(1)} ms`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** "→ host (srv_…): reason" or "refused (CODE): message", then the trace. */
export function OutcomeView({ outcome, names }: { outcome: DryRunAnswer; names: HostNames }) {
  return (
    <div class="outcome" data-outcome={outcome.ok ? "chose" : "failed"}>
      {outcome.ok ? (
        <p>
          Chosen server: <strong data-chosen>{outcome.hostname}</strong> <code>{outcome.serverId}</code> — {outcome.reason}
          {outcome.resumeSessionId ? ` (resumes session ${outcome.resumeSessionId})` : ""}
        </p>
      ) : (
        <p>
          No server: <strong>{outcome.code}</strong> — {outcome.message}
        </p>
      )}
      <TraceTable trace={outcome.trace} names={names} caption="Trace of the dry run" />
    </div>
  );
}
