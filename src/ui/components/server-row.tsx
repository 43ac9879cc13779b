/**
 * One server as a table row. Every cell the live update touches carries `data-field` (the key in
 * `ServerCells`); the client script patches those in place, so focus and forms survive updates.
 */
import type { ServerRow } from "../server-model.ts";
import type { UiSession } from "../session.ts";
import { CsrfField } from "./forms.tsx";

/** Columns after the row header (hostname), in order: [field, label]. */
export const SERVER_COLUMNS = [
  ["status", "Status"],
  ["channel", "Channel"],
  ["lastSeen", "Last heartbeat"],
  ["load", "Load (1/5/15 min)"],
  ["memory", "Memory used"],
  ["cpus", "CPUs"],
  ["sessions", "Sessions"],
  ["users", "Users"],
  ["staticData", "Static data"],
] as const;

export function ServerRowView({ row, session }: { row: ServerRow; session: UiSession }) {
  return (
    <tr data-server-id={row.serverId} data-status={row.status}>
      <th scope="row">
        <span data-field="hostname">{row.cells.hostname}</span>
        <br />
        <code class="muted" data-field="serverId">
          {row.cells.serverId}
        </code>
      </th>
      {SERVER_COLUMNS.map(([field]) => (
        <td>
          <span data-field={field} class={field === "status" ? "status" : undefined}>
            {row.cells[field]}
          </span>
        </td>
      ))}
      <td class="actions">
        <form method="post" action={row.toggleAction} data-form="toggle">
          <CsrfField session={session} />
          <button type="submit">
            <span data-field="toggleLabel">{row.cells.toggleLabel}</span>{" "}
            <span class="visually-hidden" data-field="hostname">
              {row.cells.hostname}
            </span>
          </button>
        </form>
        <form method="post" action={row.removeAction} data-form="remove">
          <CsrfField session={session} />
          <button type="submit" class="danger">
            Remove{" "}
            <span class="visually-hidden" data-field="hostname">
              {row.cells.hostname}
            </span>
          </button>
        </form>
      </td>
    </tr>
  );
}
