// The exports of a tool module, read statically with a JavaScript parser: the module is never
// imported or run while validating. ES modules and CommonJS (`exports.x =`, `module.exports = {…}`).
import { parse, type Node } from "acorn";

export interface ModuleExports {
  readonly names: ReadonlySet<string>;
  /** True when the module may export more than we can see (`export * from`, `module.exports = f`). */
  readonly open: boolean;
  /** Offset in the module's source of the statement that exports each name. */
  readonly at: ReadonlyMap<string, number>;
}

const cache = new Map<string, ModuleExports | Error>();

/** Returns the module's exports, or an Error when it does not parse. Cached by content. */
export function readExports(source: string): ModuleExports | Error {
  let hit = cache.get(source);
  if (!hit) {
    hit = scan(source);
    if (cache.size > 500) cache.clear();
    cache.set(source, hit);
  }
  return hit;
}

type AnyNode = Node & Record<string, unknown>;

function scan(source: string): ModuleExports | Error {
  let program: AnyNode;
  try {
    program = parse(source, {
      ecmaVersion: "latest",
      sourceType: "module",
      allowHashBang: true,
    }) as unknown as AnyNode;
  } catch (moduleError) {
    try {
      program = parse(source, {
        ecmaVersion: "latest",
        sourceType: "script",
        allowHashBang: true,
        allowReturnOutsideFunction: true,
      }) as unknown as AnyNode;
    } catch {
      return moduleError instanceof Error ? moduleError : new Error(String(moduleError));
    }
  }
  const names = new Set<string>();
  const at = new Map<string, number>();
  let open = false;
  for (const statement of program.body as AnyNode[]) {
    const add = (name: string) => {
      names.add(name);
      if (!at.has(name)) at.set(name, statement.start);
    };
    switch (statement.type) {
      case "ExportNamedDeclaration": {
        const decl = statement.declaration as AnyNode | null;
        if (decl?.type === "VariableDeclaration") {
          for (const d of decl.declarations as AnyNode[]) {
            const id = d.id as AnyNode;
            if (id.type === "Identifier") add(String(id.name));
            else open = true; // destructuring: names we could list but rarely matter
          }
        } else if (decl) add(String((decl.id as AnyNode | null)?.name));
        for (const s of (statement.specifiers as AnyNode[]) ?? [])
          add(exportedName(s.exported as AnyNode));
        break;
      }
      case "ExportDefaultDeclaration":
        add("default");
        break;
      case "ExportAllDeclaration":
        if (statement.exported) add(exportedName(statement.exported as AnyNode));
        else open = true;
        break;
      case "ExpressionStatement":
        open = commonJs(statement.expression as AnyNode, add) || open;
        break;
    }
  }
  return { names, open, at };
}

function exportedName(node: AnyNode): string {
  return node.type === "Identifier" ? String(node.name) : String(node.value);
}

/** Records `exports.a = …`, `module.exports.a = …`, `module.exports = { a, b }`; true if open. */
function commonJs(expr: AnyNode, add: (name: string) => void): boolean {
  if (expr.type !== "AssignmentExpression") return false;
  const left = expr.left as AnyNode;
  if (left.type !== "MemberExpression") return false;
  const object = left.object as AnyNode;
  const prop = propertyName(left);
  if (isModuleExports(left)) {
    add("default");
    const right = expr.right as AnyNode;
    if (right.type !== "ObjectExpression") return true;
    let open = false;
    for (const p of right.properties as AnyNode[]) {
      if (p.type === "Property" && !p.computed) add(exportedName(p.key as AnyNode));
      else open = true;
    }
    return open;
  }
  if ((object.type === "Identifier" && object.name === "exports") || isModuleExports(object)) {
    if (prop === undefined) return true;
    add(prop);
  }
  return false;
}

function isModuleExports(node: AnyNode): boolean {
  return (
    node.type === "MemberExpression" &&
    (node.object as AnyNode).type === "Identifier" &&
    (node.object as AnyNode).name === "module" &&
    propertyName(node) === "exports"
  );
}

function propertyName(member: AnyNode): string | undefined {
  const p = member.property as AnyNode;
  if (!member.computed && p.type === "Identifier") return String(p.name);
  if (p.type === "Literal" && typeof p.value === "string") return p.value;
  return undefined;
}
