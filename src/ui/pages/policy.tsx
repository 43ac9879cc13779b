/**
 * One pool's balancing policy: edit the JSON, save it (validated: schema, script syntax and a dry
 * run, exactly as `PUT /v1/admin/pools/:pool/policy`), or dry-run it for a user and request data.
 */
import { CsrfField, ErrorBox, Notice } from "../components/forms.tsx";
import { Layout } from "../components/layout.tsx";
import { type HostNames, OutcomeView } from "../components/trace.tsx";
import type { DryRunAnswer } from "../../pool/select-request.ts";
import type { UiSession } from "../session.ts";

/** The editor's fields, as submitted (kept on errors so nothing typed is lost). */
export interface PolicyFormValues {
  policy: string;
  login: string;
  groups: string;
  action: "session/start" | "user/login";
  data: string;
}

export interface PolicyPageProps {
  session: UiSession;
  pool: string;
  values: PolicyFormValues;
  /** The default chain, shown as a hint when the editor is empty. */
  defaultPolicy: string;
  notice?: string | undefined;
  error?: string | undefined;
  outcome?: DryRunAnswer | null | undefined;
  names: HostNames;
}

export function PolicyPage(props: PolicyPageProps) {
  const { session, pool, values } = props;
  const base = `/admin/pools/${encodeURIComponent(pool)}`;
  return (
    <Layout title={`Policy of pool ${pool}`} session={session} current="pools">
      <p>
        <a href="/admin/pools">All pools</a> · <a href={`/admin/decisions?pool=${encodeURIComponent(pool)}`}>Recent decisions of {pool}</a>
      </p>
      <Notice text={props.notice} />
      <ErrorBox text={props.error} />
      <form method="post" action={`${base}/policy`} class="stack wide" data-form="policy">
        <CsrfField session={session} />
        <label for="policy">Policy JSON (empty: the default chain)</label>
        <textarea id="policy" name="policy" rows={14} spellcheck={false} aria-describedby="policy-help">
          {values.policy}
        </textarea>
        <p id="policy-help" class="muted">
          A chain of at most 16 steps, each <code>{'{ "use": "<built-in>", "params": { … } }'}</code> or{" "}
          <code>{'{ "script": "function (input) { … }", "name": "…" }'}</code>. Default: <code>{props.defaultPolicy}</code>
        </p>
        <fieldset>
          <legend>Dry run: who asks, with which data</legend>
          <label for="dry-login">User login</label>
          <input id="dry-login" name="login" value={values.login} maxlength={256} placeholder="policy-dry-run" />
          <label for="dry-groups">Groups (comma-separated)</label>
          <input id="dry-groups" name="groups" value={values.groups} maxlength={16384} />
          <label for="dry-action">Action</label>
          <select id="dry-action" name="action">
            <option value="session/start" selected={values.action === "session/start"}>
              session/start
            </option>
            <option value="user/login" selected={values.action === "user/login"}>
              user/login
            </option>
          </select>
          <label for="dry-data">Request data (JSON object)</label>
          <textarea id="dry-data" name="data" rows={3} spellcheck={false}>
            {values.data}
          </textarea>
        </fieldset>
        <div class="buttons">
          <button type="submit">Validate and save</button>
          <button type="submit" formaction={`${base}/dry-run`}>
            Dry-run this policy
          </button>
        </div>
      </form>
      {props.outcome ? (
        <section aria-labelledby="dry-run-heading" data-dry-run>
          <h2 id="dry-run-heading">Dry-run result</h2>
          <OutcomeView outcome={props.outcome} names={props.names} />
        </section>
      ) : null}
    </Layout>
  );
}
