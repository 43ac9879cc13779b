/** Who a request acts for, once authenticated; every user-facing route reads this. */
export interface Identity {
  login: string;
  groups: string[];
  isAdmin: boolean;
  isManager: boolean;
  /** Which backend vouched for the user. `admin-token` is the deployment's admin bearer secret. */
  source: "password" | "oidc" | "admin-token";
}
