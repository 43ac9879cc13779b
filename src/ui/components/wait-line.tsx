/** The wait lines of every pool, head first, with a Remove button per place (the sessions page). */
import type { WaitView } from "../../pool/wait-line.ts";
import { utc } from "../format.ts";
import type { UiSession } from "../session.ts";
import { RowAction } from "./forms.tsx";

export type PoolWaitView = WaitView & { pool: string };

export const REMOVE_QUEUED_PATH = "/admin/sessions/queue/remove";

export function WaitLineTable({ session, waiting }: { session: UiSession; waiting: PoolWaitView[] }) {
  return (
    <div class="scroll">
      <table>
        <caption>
          {waiting.length} user{waiting.length === 1 ? "" : "s"} waiting for a free server
        </caption>
        <thead>
          <tr>
            <th scope="col">Pool</th>
            <th scope="col">Place</th>
            <th scope="col">User</th>
            <th scope="col">Profile</th>
            <th scope="col">Waiting since</th>
            <th scope="col">Gives up at</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {waiting.length === 0 ? (
            <tr>
              <td colspan={7}>Nobody is waiting.</td>
            </tr>
          ) : null}
          {waiting.map((entry) => (
            <tr>
              <td>{entry.pool}</td>
              <td>{entry.position}</td>
              <th scope="row">{entry.user}</th>
              <td>{entry.profileId}</td>
              <td>{utc(entry.since)}</td>
              <td>{utc(entry.expiresAt)}</td>
              <td class="actions">
                <RowAction action={REMOVE_QUEUED_PATH} session={session} label="Remove" danger subject={`${entry.user} from the line of ${entry.pool}`} fields={{ pool: entry.pool, entryId: entry.id }} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
