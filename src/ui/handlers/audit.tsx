/** Recent decisions (the pool objects' `recentDecisions`) and enrolment tokens (`issueEnrolmentToken`). */
import { Hono } from "hono";
import { z } from "zod";
import { listPools } from "../../db/queries.ts";
import { issueEnrolmentToken } from "../../cluster/pools.ts";
import { poolStub } from "../../pool/pool-gateway.ts";
import { poolNameSchema } from "../../protocol.ts";
import { validate } from "../../core/validation.ts";
import { type DecisionsPageProps, DecisionsPage, type PoolDecision } from "../pages/decisions.tsx";
import { EnrolmentPage, TOKEN_LIFETIMES } from "../pages/enrolment.tsx";
import { readForm, render, type UiEnv } from "../ui-env.ts";

/** Decisions shown per pool (the pool object keeps 200). */
const DECISIONS_PER_POOL = 50;

const poolQuery = z.object({ pool: z.union([poolNameSchema, z.literal("")]).default("") });
const tokenForm = z.object({
  pool: poolNameSchema,
  ttlSeconds: z.coerce
    .number()
    .int()
    .refine((seconds) => TOKEN_LIFETIMES.some(([offered]) => offered === seconds), "not an offered lifetime"),
  /** A checkbox: present ("yes") when ticked. */
  preApproved: z.literal("yes").optional(),
});

export const auditUiRoutes = new Hono<UiEnv>()
  .get("/decisions", validate("query", poolQuery), async (c) => {
    const { pool } = c.req.valid("query");
    const pools = (await listPools(c.env.DB)).map((row) => row.name);
    const shown = pool === "" ? pools : pools.filter((name) => name === pool);
    const perPool = await Promise.all(
      shown.map(async (name) => {
        const stub = poolStub(c.env, name);
        const [decisions, servers] = await Promise.all([stub.recentDecisions(DECISIONS_PER_POOL), stub.listServers()]);
        return { decisions: decisions.map((decision): PoolDecision => ({ ...decision, pool: name })), servers };
      }),
    );
    const props: DecisionsPageProps = {
      session: c.get("ui"),
      pools,
      pool,
      decisions: perPool.flatMap((entry) => entry.decisions).sort((a, b) => b.at - a.at),
      names: new Map(perPool.flatMap((entry) => entry.servers.map((server) => [server.serverId, server.hostname] as const))),
    };
    return render(c, <DecisionsPage {...props} />);
  })
  .get("/enrolment", validate("query", poolQuery), async (c) => {
    const pools = (await listPools(c.env.DB)).map((row) => row.name);
    return render(c, <EnrolmentPage session={c.get("ui")} pools={pools} pool={c.req.valid("query").pool || (pools[0] ?? "")} />);
  })
  .post("/enrolment", async (c) => {
    const { pool, ttlSeconds, preApproved } = await readForm(c, tokenForm);
    const issued = await issueEnrolmentToken(c.env, pool, { ttlSeconds, preApproved: preApproved === "yes" }, Date.now());
    const pools = (await listPools(c.env.DB)).map((row) => row.name);
    return render(c, <EnrolmentPage session={c.get("ui")} pools={pools} pool={pool} issued={issued} />);
  });
