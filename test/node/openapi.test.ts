/** The OpenAPI document validates as OpenAPI 3.1, and its schemas are the routes' own. */
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { policySchema } from "../../src/balancer/policy.ts";
import { configDocumentSchema } from "../../src/cluster/config-transfer.ts";
import { buildOpenApiDocument } from "../../src/openapi/document.ts";
import { SchemaCollector } from "../../src/openapi/json-schema.ts";
import { ROUTES } from "../../src/openapi/registry.ts";
import { staticDataSchema } from "../../src/protocol.ts";
import { createPoolBodySchema } from "../../src/routes/admin.ts";

type Operation = { requestBody?: { content: Record<string, { schema?: unknown }> }; parameters?: Array<{ name: string; in: string; required: boolean }> };
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

describe("the OpenAPI document", () => {
  it("validates as OpenAPI 3.1, with every $ref resolvable", async () => {
    const validator = new Validator();
    const result = await validator.validate(buildOpenApiDocument());
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it("is refused by the validator when broken (the check is real)", async () => {
    const broken = { ...buildOpenApiDocument(), paths: { "/x": { get: { responses: { 200: { content: {} } } } } } };
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it("is the same on every build (stable output for docs/openapi.json)", () => {
    expect(JSON.stringify(buildOpenApiDocument())).toBe(JSON.stringify(buildOpenApiDocument()));
  });

  it("describes request bodies with the schemas the routes validate with", () => {
    const doc = buildOpenApiDocument() as unknown as Doc;
    const createPool = doc.paths["/v1/admin/pools"]?.post?.requestBody?.content["application/json"]?.schema;
    expect(createPool).toEqual(new SchemaCollector().convert(createPoolBodySchema, "createPool"));
    expect(doc.paths["/v1/admin/pools/{pool}/import"]?.post?.requestBody?.content["application/json"]?.schema).toEqual({
      $ref: "#/components/schemas/PoolConfig",
    });
    const config = doc.components.schemas.PoolConfig as { required: string[]; additionalProperties: boolean };
    expect(config.required).toEqual(["version", "pool"]);
    expect(config.additionalProperties).toBe(false);
  });

  it("documents path and query parameters, path ones required", () => {
    const doc = buildOpenApiDocument() as unknown as Doc;
    expect(doc.paths["/v1/admin/pools/{pool}/decisions"]?.get?.parameters).toEqual([
      expect.objectContaining({ name: "pool", in: "path", required: true }),
      expect.objectContaining({ name: "limit", in: "query", required: false }),
    ]);
    expect(doc.paths["/v1/admin/profiles/import"]?.post?.parameters).toContainEqual(expect.objectContaining({ name: "pool", in: "query", required: true }));
  });

  it("gives examples that the routes' own schemas accept", () => {
    const schemas = (buildOpenApiDocument() as unknown as Doc).components.schemas as Record<string, { examples?: unknown[] }>;
    const checks: Array<[string, z.ZodType]> = [["PoolConfig", configDocumentSchema], ["Policy", policySchema], ["StaticData", staticDataSchema]];
    for (const [name, schema] of checks) {
      const examples = schemas[name]?.examples ?? [];
      expect(examples.length, name).toBeGreaterThan(0);
      for (const example of examples) expect(schema.safeParse(example).error, name).toBeUndefined();
    }
  });

  it("names each route once", () => {
    const ids = ROUTES.map((route) => route.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const twice = [...ROUTES, ROUTES[0]!];
    expect(() => buildOpenApiDocument(twice)).toThrow(/listed twice/);
  });
});

describe("SchemaCollector", () => {
  it("hoists z.json() values into one JsonValue component", () => {
    const collector = new SchemaCollector();
    const schema = collector.convert(z.object({ a: z.json(), b: z.record(z.string(), z.json()) }), "op");
    expect(schema).toEqual(expect.objectContaining({ properties: expect.objectContaining({ a: { $ref: "#/components/schemas/JsonValue" } }) }));
    expect(Object.keys(collector.components)).toEqual(["JsonValue"]);
    expect(JSON.stringify(collector.components)).not.toContain("$defs");
  });

  it("refers to registered schemas by name", () => {
    const collector = new SchemaCollector();
    buildOpenApiDocument();
    expect(collector.convert(z.object({ config: configDocumentSchema }), "op")).toEqual(
      expect.objectContaining({ properties: { config: { $ref: "#/components/schemas/PoolConfig" } } }),
    );
    expect(collector.components.PoolConfig).toBeDefined();
  });
});
