/**
 * Loop guard for admin-written balancing scripts (pure; runs in the Worker and in Node).
 *
 * Contract of `instrumentScript(source)`:
 * - `source` must be exactly one function expression or arrow function, the FastX form
 *   `function (input) { … }` (async allowed, generators not). It is parsed as `(source)` in
 *   strict module mode, the mode it later runs in; statements, several expressions, a class,
 *   `import` (declaration, `import()`, `import.meta`) are refused with a message.
 * - Syntax errors are reported with 1-based `line` and `column` in the admin's own source.
 * - Every identifier starting with `__tick` is reserved for the sandbox wrapper (its counter,
 *   budget, policy and entrypoint bindings all use that prefix), so a source that mentions it,
 *   literally or through `\u` escapes, is refused: the script can neither call, shadow nor
 *   reset the guard.
 * - On success, `code` is the source with a call `__tick()` at the start of every loop body
 *   (for, for-in, for-of, while, do-while; a non-block body is wrapped in a block) and of every
 *   function body (so callback-driven iteration such as `arr.forEach` counts too). Edits are
 *   position-based string insertions, so everything else is the admin's text, byte for byte.
 *   `code` is meant to be embedded as `(\n<code>\n)` by the sandbox, which defines `__tick`:
 *   it counts calls and throws `Error(ITERATION_BUDGET_MESSAGE)` past a budget, per call.
 * Not guarded (production's `cpuMs` limit covers them; locally they can still hang): long
 * built-ins with no callback (`new Array(1e9).fill(0)`, catastrophic regular expressions).
 * Recursion needs no guard: a stack overflow throws RangeError.
 */
import { parse, type Options } from "acorn";

export const TICK = "__tick";
/** Every wrapper-internal identifier starts with this; the admin's source may not mention it. */
export const RESERVED_PREFIX = "__tick";
export const ITERATION_BUDGET_MESSAGE = "script exceeded its iteration budget";

export type InstrumentResult =
  | { ok: true; code: string }
  | { ok: false; message: string; line?: number; column?: number };

interface AstNode {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

interface Edit {
  pos: number;
  text: string;
  /** Closing edits go before opening ones at the same position; inner closes before outer. */
  close: boolean;
  /** Start of the body the edit belongs to (orders nested edits at one position). */
  owner: number;
}

const PARSE_OPTIONS: Options = { ecmaVersion: "latest", sourceType: "module", preserveParens: true };
const LOOPS = new Set(["ForStatement", "ForInStatement", "ForOfStatement", "WhileStatement", "DoWhileStatement"]);
const FUNCTIONS = new Set(["FunctionExpression", "FunctionDeclaration", "ArrowFunctionExpression"]);

export function instrumentScript(source: string): InstrumentResult {
  if (typeof source !== "string" || source.trim() === "") return refuse("the script is empty");
  if (source.includes(RESERVED_PREFIX)) return refuse(`the identifier prefix ${RESERVED_PREFIX} is reserved for the sandbox`);

  let program: AstNode;
  try {
    // The newline keeps a trailing `// comment` from swallowing the closing parenthesis.
    program = parse(`(${source}\n)`, PARSE_OPTIONS) as unknown as AstNode;
  } catch (error) {
    return explainParseFailure(source, error);
  }

  // A source that escapes the parentheses (`f) + (g`) yields a compound expression here.
  const body = program.body as AstNode[];
  const statement = body[0];
  if (body.length !== 1 || statement?.type !== "ExpressionStatement") return refuse(notAFunction("several statements"));
  let expression = statement.expression as AstNode;
  while (expression.type === "ParenthesizedExpression") expression = expression.expression as AstNode;
  if (expression.type !== "FunctionExpression" && expression.type !== "ArrowFunctionExpression") {
    return refuse(notAFunction(describe(expression)));
  }
  if (expression.generator === true) return refuse("the script must not be a generator function");

  const edits: Edit[] = [];
  const stack: AstNode[] = [expression];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const problem = inspect(node, edits);
    if (problem !== undefined) {
      const at = position(source, node.start - 1);
      return refuse(`${problem} (line ${at.line}, column ${at.column})`, at);
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) for (const item of value) { if (isNode(item)) stack.push(item); }
      else if (isNode(value)) stack.push(value);
    }
  }
  return { ok: true, code: applyEdits(`(${source}\n)`, edits).slice(1, -2) };
}

/** Records the edits `node` needs; returns a refusal message if the node is not allowed. */
function inspect(node: AstNode, edits: Edit[]): string | undefined {
  if ((node.type === "Identifier" || node.type === "PrivateIdentifier") && String(node.name).startsWith(RESERVED_PREFIX)) {
    return `the identifier prefix ${RESERVED_PREFIX} is reserved for the sandbox`;
  }
  if (node.type === "ImportExpression") return "import() is not allowed in a balancing script";
  if (node.type === "MetaProperty" && (node.meta as AstNode).name === "import") return "import.meta is not allowed in a balancing script";
  if (LOOPS.has(node.type) || FUNCTIONS.has(node.type)) {
    const body = node.body as AstNode;
    if (body.type === "BlockStatement") {
      edits.push({ pos: body.start + 1, text: `${TICK}();`, close: false, owner: body.start });
    } else if (FUNCTIONS.has(node.type)) {
      // Expression-bodied arrow: `x => e` becomes `x => (__tick(), e)`.
      edits.push({ pos: body.start, text: `(${TICK}(), `, close: false, owner: body.start });
      edits.push({ pos: body.end, text: ")", close: true, owner: body.start });
    } else {
      edits.push({ pos: body.start, text: `{${TICK}();`, close: false, owner: body.start });
      edits.push({ pos: body.end, text: "}", close: true, owner: body.start });
    }
  }
  return undefined;
}

function applyEdits(text: string, edits: Edit[]): string {
  edits.sort((a, b) =>
    a.pos - b.pos ||
    (a.close === b.close ? 0 : a.close ? -1 : 1) ||
    (a.close ? b.owner - a.owner : a.owner - b.owner));
  let out = "";
  let from = 0;
  for (const edit of edits) {
    out += text.slice(from, edit.pos) + edit.text;
    from = edit.pos;
  }
  return out + text.slice(from);
}

/** The expression parse failed: say why, preferring "not a function" when the source is valid JS. */
function explainParseFailure(source: string, error: unknown): InstrumentResult {
  if (error instanceof RangeError) return refuse("the script is nested too deeply");
  const semicolon = /;\s*$/.exec(source);
  if (semicolon !== null && instrumentScript(source.slice(0, semicolon.index)).ok) {
    return refuse("remove the trailing semicolon: the script must be a single function expression", position(source, semicolon.index));
  }
  try {
    const program = parse(source, PARSE_OPTIONS) as unknown as AstNode;
    const body = program.body as AstNode[];
    const only = body[0];
    return refuse(notAFunction(body.length === 1 && only !== undefined ? describe(only) : `${body.length} statements`));
  } catch {
    // Not valid as a program either: report the expression parse's own error.
  }
  const pos = (error as { pos?: unknown }).pos;
  const message = error instanceof Error ? error.message.replace(/ \(\d+:\d+\)$/, "") : String(error);
  const at = position(source, typeof pos === "number" ? pos - 1 : source.length);
  return refuse(`syntax error at line ${at.line}, column ${at.column}: ${message}`, at);
}

function describe(node: AstNode): string {
  const names: Record<string, string> = {
    ClassExpression: "a class",
    ClassDeclaration: "a class",
    ImportDeclaration: "an import declaration",
    ExportNamedDeclaration: "an export declaration",
    ExportDefaultDeclaration: "an export declaration",
    VariableDeclaration: "a variable declaration",
    FunctionDeclaration: "a function declaration followed by other code",
    SequenceExpression: "several expressions",
    ExpressionStatement: "an expression that is not a function",
  };
  const kind = /(Statement|Declaration)$/.test(node.type) ? "a statement" : "an expression";
  return names[node.type] ?? `${kind} (${node.type})`;
}

function notAFunction(found: string): string {
  return `the script must be a single function expression, \`function (input) { … }\` or \`(input) => …\`; found ${found}`;
}

function refuse(message: string, at?: { line: number; column: number }): InstrumentResult {
  return at === undefined ? { ok: false, message } : { ok: false, message, ...at };
}

/** 1-based line and column of `offset` (clamped) in `source`, counting line breaks as acorn does. */
function position(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, Math.max(0, Math.min(offset, source.length)));
  const lines = before.split(/\r\n?|[\n\u2028\u2029]/);
  return { line: lines.length, column: (lines[lines.length - 1] ?? "").length + 1 };
}

function isNode(value: unknown): value is AstNode {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}
