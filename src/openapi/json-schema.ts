/**
 * zod → JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) for the OpenAPI document. Every
 * schema is converted on its input side (`io: "input"`: what a client sends; fields with a
 * default are optional). Schemas registered in `namedSchemas` become components wherever they
 * occur; zod's other shared parts (`$defs`, such as the recursive JSON value behind `z.json()`)
 * are hoisted into components too, so every `$ref` points at `#/components/schemas/…`.
 */
import { z } from "zod";

export type JsonSchema = { [key: string]: unknown };

/** Schemas shown as named components; `id` is the component name. */
export const namedSchemas = z.registry<{ id: string; description?: string }>();

const COMPONENT_PREFIX = "#/components/schemas/";
const SELF = "\u0000self";

/** The `z.json()` value, which zod emits once per use: shown once, as `JsonValue`. */
const JSON_VALUE_NAME = "JsonValue";
const jsonValueShape = canonical(z.toJSONSchema(z.json(), { target: "draft-2020-12", io: "input" }), "#");

function canonical(schema: unknown, selfRef: string): string {
  const { $schema: _dialect, ...rest } = schema as JsonSchema;
  return JSON.stringify(rest, (key, value: unknown) => (key === "$ref" && value === selfRef ? SELF : value));
}

function rewriteRefs(value: unknown, rename: (ref: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, rename));
  if (value === null || typeof value !== "object") return value;
  const out: JsonSchema = {};
  for (const [key, child] of Object.entries(value)) out[key] = key === "$ref" && typeof child === "string" ? rename(child) : rewriteRefs(child, rename);
  return out;
}

/** Converts schemas and collects the components they refer to. */
export class SchemaCollector {
  /** `components.schemas` of the document: every name maps to one schema. */
  readonly components: Record<string, JsonSchema> = {};

  /**
   * The JSON Schema of `schema`'s input. `scope` (an operation id) names hoisted parts that
   * are neither registered nor a JSON value. Throws if a component name would be reused for a
   * different schema, or if zod cannot represent the schema.
   */
  convert(schema: z.ZodType, scope: string): JsonSchema {
    const generated = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", metadata: namedSchemas }) as JsonSchema;
    const { $schema: _dialect, $defs, ...root } = generated;
    const defs = ($defs ?? {}) as Record<string, JsonSchema>;
    const names = new Map<string, string>();
    for (const [key, def] of Object.entries(defs)) {
      const name = registeredIds.has(key) ? key : canonical(def, `#/$defs/${key}`) === jsonValueShape ? JSON_VALUE_NAME : `${scope}_${key.replace(/^_+/, "")}`;
      names.set(`#/$defs/${key}`, name);
    }
    const rename = (ref: string): string => {
      const name = names.get(ref);
      if (name === undefined) throw new Error(`${scope}: unexpected $ref ${ref}`);
      return `${COMPONENT_PREFIX}${name}`;
    };
    for (const [key, def] of Object.entries(defs)) this.add(names.get(`#/$defs/${key}`) ?? key, rewriteRefs(def, rename) as JsonSchema);
    return rewriteRefs(root, rename) as JsonSchema;
  }

  private add(name: string, generated: JsonSchema): void {
    const schema = examplesById.has(name) ? { ...generated, examples: [examplesById.get(name)] } : generated;
    const existing = this.components[name];
    if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(schema)) {
      throw new Error(`component ${name} would stand for two different schemas`);
    }
    this.components[name] = schema;
  }
}

const registeredIds = new Set<string>();
/** Kept apart from zod's metadata: zod drops `examples` on the input side of a transform. */
const examplesById = new Map<string, unknown>();

/** Registers `schema` as the component `id`, with an optional example (once per schema, at module load). */
export function nameSchema(schema: z.ZodType, id: string, description: string, example?: unknown): void {
  if (registeredIds.has(id)) throw new Error(`component name ${id} is taken`);
  namedSchemas.add(schema, { id, description });
  registeredIds.add(id);
  if (example !== undefined) examplesById.set(id, example);
}
