/** The sign-in page: the admin token, a broker admin account, or Cloudflare Access. */
import { Layout } from "../components/layout.tsx";
import { ErrorBox, Notice } from "../components/forms.tsx";

export interface LoginPageProps {
  error?: string | undefined;
  notice?: string | undefined;
  /** Set when the request carries an admin Access identity: offer to continue as it. */
  accessLogin?: string | undefined;
}

export function LoginPage({ error, notice, accessLogin }: LoginPageProps) {
  return (
    <Layout title="Sign in">
      <Notice text={notice} />
      <ErrorBox text={error} />
      {accessLogin ? (
        <section aria-labelledby="access-heading">
          <h2 id="access-heading">With Cloudflare Access</h2>
          <form method="post" action="/admin/login">
            <input type="hidden" name="method" value="access" />
            <button type="submit">Continue as {accessLogin}</button>
          </form>
        </section>
      ) : null}
      <section aria-labelledby="token-heading">
        <h2 id="token-heading">With the admin token</h2>
        <form method="post" action="/admin/login" class="stack">
          <input type="hidden" name="method" value="token" />
          <label for="token">Admin token</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required maxlength={4096} />
          <button type="submit">Sign in</button>
        </form>
      </section>
      <section aria-labelledby="account-heading">
        <h2 id="account-heading">With a broker admin account</h2>
        <form method="post" action="/admin/login" class="stack">
          <input type="hidden" name="method" value="password" />
          <label for="login">Login</label>
          <input id="login" name="login" autocomplete="username" required maxlength={256} />
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required maxlength={1024} />
          <button type="submit">Sign in with account</button>
        </form>
      </section>
    </Layout>
  );
}
