/**
 * The pool's balancing policy as the object uses it: stored as the admin wrote it (JSON in
 * `meta.policy`, "null" for the default chain), parsed once per change. An object that never
 * stored one (new, or storage reset) reads the admin's policy from the catalogue once.
 */
import { DEFAULT_POLICY, type Policy, type PolicyInput, policySchema } from "../balancer/policy.ts";
import { err, ok, type Result } from "../core/result.ts";
import type { PoolMeta } from "./pool-meta.ts";

/** Reads the pool's policy JSON from the catalogue (null: no pool row, or the default chain). */
export type CataloguePolicy = () => Promise<string | null>;

export class PolicyLoader {
  private readonly meta: PoolMeta;
  private readonly fromCatalogue: CataloguePolicy;
  private cache: { json: string; policy: Policy } | null = null;

  constructor(meta: PoolMeta, fromCatalogue: CataloguePolicy) {
    this.meta = meta;
    this.fromCatalogue = fromCatalogue;
  }

  /** The policy as the admin wrote it; null for the default chain. */
  stored(): PolicyInput | null {
    const json = this.meta.policyJson;
    return json === null || json === "null" ? null : (JSON.parse(json) as PolicyInput);
  }

  /** Stores the admin's policy (already validated by the caller); null restores the default. */
  store(policy: PolicyInput | null): void {
    this.meta.policyJson = JSON.stringify(policy);
  }

  /** The parsed policy in force; "invalid" when what is stored no longer parses. */
  async current(): Promise<Result<Policy, "invalid">> {
    if (this.meta.policyJson === null) this.meta.policyJson = (await this.fromCatalogue()) ?? "null";
    const json = this.meta.policyJson ?? "null";
    if (this.cache?.json === json) return ok(this.cache.policy);
    const stored = JSON.parse(json) as PolicyInput | null;
    const parsed = stored === null ? ok(DEFAULT_POLICY) : parsePolicy(stored);
    if (parsed.ok) this.cache = { json, policy: parsed.value };
    return parsed;
  }
}

/** A policy given with a request (a profile's override, or one being validated). */
export function parsePolicy(input: PolicyInput): Result<Policy, "invalid"> {
  const parsed = policySchema.safeParse(input);
  return parsed.success ? ok(parsed.data) : err("invalid");
}
