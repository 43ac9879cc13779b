/** Two small pages: an error with a way back, and the confirmation step before a change. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { CsrfField, ErrorBox } from "../components/forms.tsx";
import { Layout, type NavKey } from "../components/layout.tsx";
import type { UiSession } from "../session.ts";
import { render, type UiEnv } from "../ui-env.ts";

export function ErrorPage({ status, message, session }: { status: number; message: string; session?: UiSession | undefined }) {
  const title = status === 401 ? "Sign-in needed" : status === 403 ? "Refused" : status === 404 ? "Not found" : "Something went wrong";
  return (
    <Layout title={title} session={session}>
      <ErrorBox text={message} />
      <p>{session ? <a href="/admin/servers">Back to the dashboard</a> : <a href="/admin/login">Sign in</a>}</p>
    </Layout>
  );
}

export interface ConfirmPageProps {
  session: UiSession;
  current: NavKey;
  title: string;
  /** What will happen, in a sentence or two. */
  message: string;
  action: string;
  confirmLabel: string;
  cancelHref: string;
  danger?: boolean;
}

/** Asks before a change; the form posts again with `confirmed=yes`. */
export function ConfirmPage(props: ConfirmPageProps) {
  return (
    <Layout title={props.title} session={props.session} current={props.current}>
      <p>{props.message}</p>
      <form method="post" action={props.action} class="inline">
        <CsrfField session={props.session} />
        <input type="hidden" name="confirmed" value="yes" />
        <button type="submit" class={props.danger ? "danger" : undefined} autofocus>
          {props.confirmLabel}
        </button>{" "}
        <a href={props.cancelHref}>Cancel</a>
      </form>
    </Layout>
  );
}

/** Renders `ErrorPage` for an error the dashboard's error handler caught. */
export function errorPage(c: Context<UiEnv>, status: ContentfulStatusCode, message: string): Promise<Response> {
  const session = c.get("ui") as UiSession | undefined;
  return render(c, <ErrorPage status={status} message={message} session={session} />, status);
}
