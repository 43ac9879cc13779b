/**
 * Users and profiles: the same functions as `/v1/admin/users` and `/v1/admin/profiles`
 * (`createUser`, `updateUser`, `deleteUser`, `disconnectUser`, `createProfile`, `deleteProfile`), fed by forms
 * validated with the same zod schemas. Deletions ask first.
 */
import { Hono } from "hono";
import { z } from "zod";
import { BrokerError } from "../../core/errors.ts";
import { profileIdSchema, profileSchema } from "../../profiles/profile-schema.ts";
import { createProfile, deleteProfile, getProfile, listProfiles } from "../../profiles/profiles.ts";
import { DEFAULT_DISCONNECT_REASON, disconnectUser } from "../../cluster/node-commands.ts";
import { createUser, createUserSchema, deleteUser, getUser, listUsers, loginSchema, updateUser } from "../../users/users.ts";
import { parseOrThrow, validate } from "../../core/validation.ts";
import { noticeText } from "../components/forms.tsx";
import { splitList } from "../format.ts";
import { ConfirmPage } from "../pages/message.tsx";
import { PROFILE_TEMPLATE, ProfilesPage, profilePath } from "../pages/profiles.tsx";
import { type NewUserValues, UsersPage, userPath } from "../pages/users.tsx";
import { jsonField, readForm, render, type UiContext, type UiEnv } from "../ui-env.ts";

const noticeQuery = z.object({ notice: z.string().max(32).optional() });
const newUserForm = z.object({
  login: z.string().max(256).default(""),
  password: z.string().max(1024).default(""),
  groups: z.string().max(16_384).default(""),
  isAdmin: z.literal("on").optional(),
});
const userAction = z.object({ login: loginSchema, action: z.enum(["enable", "disable", "disconnect", "delete"]) });
const confirmForm = z.object({ confirmed: z.literal("yes").optional() });
const newProfileForm = z.object({ profile: z.string().max(256 * 1024).default("") });

/** A refusal the form can explain (bad input, taken name): the message, else rethrown. */
function formError(error: unknown): { message: string; status: 400 | 409 } {
  if (error instanceof BrokerError && (error.code === "BAD_REQUEST" || error.code === "CONFLICT")) {
    return { message: error.message, status: error.code === "CONFLICT" ? 409 : 400 };
  }
  throw error;
}

async function usersPage(c: UiContext, extra: { values?: NewUserValues; notice?: string | undefined; error?: string }, status: 200 | 400 | 409 = 200) {
  return render(c, <UsersPage session={c.get("ui")} users={await listUsers(c.env)} {...extra} />, status);
}

async function profilesPage(c: UiContext, extra: { draft?: string; notice?: string | undefined; error?: string }, status: 200 | 400 | 409 = 200) {
  const { draft = PROFILE_TEMPLATE, ...rest } = extra;
  return render(c, <ProfilesPage session={c.get("ui")} profiles={await listProfiles(c.env)} draft={draft} {...rest} />, status);
}

export const peopleUiRoutes = new Hono<UiEnv>()
  .get("/users", validate("query", noticeQuery), async (c) => usersPage(c, { notice: noticeText(c.req.valid("query").notice) }))
  .post("/users", async (c) => {
    const form = await readForm(c, newUserForm);
    const values: NewUserValues = { login: form.login, groups: form.groups, isAdmin: form.isAdmin === "on" };
    try {
      const input = parseOrThrow(createUserSchema, { login: form.login, password: form.password, groups: splitList(form.groups), isAdmin: values.isAdmin }, "user");
      await createUser(c.env, input, Date.now());
    } catch (error) {
      const { message, status } = formError(error);
      return usersPage(c, { values, error: message }, status);
    }
    return c.redirect("/admin/users?notice=user-created", 303);
  })
  .post("/users/:login/:action", validate("param", userAction), async (c) => {
    const { login, action } = c.req.valid("param");
    if (action === "disconnect") {
      const report = await disconnectUser(c.env, (await getUser(c.env, login)).login, DEFAULT_DISCONNECT_REASON);
      return c.redirect(`/admin/users?notice=${report.failed.length > 0 ? "user-disconnect-incomplete" : "user-disconnected"}`, 303);
    }
    if (action !== "delete") {
      await updateUser(c.env, login, { disabled: action === "disable" }, Date.now());
      return c.redirect("/admin/users?notice=user-updated", 303);
    }
    const { confirmed } = await readForm(c, confirmForm);
    if (confirmed !== "yes") {
      const user = await getUser(c.env, login);
      return render(
        c,
        <ConfirmPage
          session={c.get("ui")}
          current="users"
          title={`Delete user ${user.login}?`}
          message={`Delete ${user.login}. Their sign-in sessions and live relayed connections end at once; their desktop sessions keep running.`}
          action={`${userPath(login)}/delete`}
          confirmLabel={`Delete ${user.login}`}
          cancelHref="/admin/users"
          danger
        />,
      );
    }
    await deleteUser(c.env, login);
    return c.redirect("/admin/users?notice=user-deleted", 303);
  })
  .get("/profiles", validate("query", noticeQuery), async (c) => profilesPage(c, { notice: noticeText(c.req.valid("query").notice) }))
  .post("/profiles", async (c) => {
    const { profile } = await readForm(c, newProfileForm);
    try {
      const spec = parseOrThrow(profileSchema, jsonField(profile, "the profile", {}), "profile");
      await createProfile(c.env, spec, Date.now());
    } catch (error) {
      const { message, status } = formError(error);
      return profilesPage(c, { draft: profile, error: message }, status);
    }
    return c.redirect("/admin/profiles?notice=profile-created", 303);
  })
  .post("/profiles/:id/delete", validate("param", z.object({ id: profileIdSchema })), async (c) => {
    const { id } = c.req.valid("param");
    const { confirmed } = await readForm(c, confirmForm);
    if (confirmed !== "yes") {
      const profile = await getProfile(c.env, id);
      return render(
        c,
        <ConfirmPage
          session={c.get("ui")}
          current="profiles"
          title={`Delete profile ${profile.id}?`}
          message={`Delete ${profile.name} (${profile.id}, pool ${profile.pool}). Sessions already placed through it keep running.`}
          action={`${profilePath(id)}/delete`}
          confirmLabel={`Delete ${profile.id}`}
          cancelHref="/admin/profiles"
          danger
        />,
      );
    }
    await deleteProfile(c.env, id);
    return c.redirect("/admin/profiles?notice=profile-deleted", 303);
  });
