/** The portal's sign-in: a broker account, or Cloudflare Access where the request carries an identity. */
import { ErrorBox, Notice, PortalLayout } from "./layout.tsx";

export interface SignInPageProps {
  error?: string | undefined;
  notice?: string | undefined;
  /** Set when the request carries an Access / OIDC identity: offer to continue as it. */
  accessLogin?: string | undefined;
}

export function SignInPage({ error, notice, accessLogin }: SignInPageProps) {
  return (
    <PortalLayout title="Sign in">
      <Notice text={notice} />
      <ErrorBox text={error} />
      {accessLogin ? (
        <section aria-labelledby="access-heading">
          <h2 id="access-heading">With your organisation's sign-in</h2>
          <form method="post" action="/portal/login">
            <input type="hidden" name="method" value="access" />
            <button type="submit">Continue as {accessLogin}</button>
          </form>
        </section>
      ) : null}
      <section aria-labelledby="account-heading">
        <h2 id="account-heading">{accessLogin ? "With a broker account" : "With your account"}</h2>
        <form method="post" action="/portal/login" class="stack">
          <input type="hidden" name="method" value="password" />
          <label for="login">Login</label>
          <input id="login" name="login" autocomplete="username" required maxlength={256} autofocus />
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required maxlength={1024} />
          <button type="submit">Sign in</button>
        </form>
      </section>
    </PortalLayout>
  );
}
