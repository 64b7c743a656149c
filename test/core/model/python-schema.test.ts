// A Python function's signature as a JSON Schema `parameters` object: type hints → types,
// docstring sections → descriptions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readPythonModule } from "@keel/core/model/python-signatures";
import { docArgs, hintSchema, literal, parametersSchema } from "@keel/core/model/python-schema";

function fn(source: string, name: string) {
  const m = readPythonModule(source);
  if (m instanceof Error) throw m;
  return m.functions.get(name)!;
}

test("type hints become JSON Schema types", () => {
  const cases: [string, unknown][] = [
    ["str", { type: "string" }],
    ["int", { type: "integer" }],
    ["float", { type: "number" }],
    ["bool", { type: "boolean" }],
    ["list[str]", { type: "array", items: { type: "string" } }],
    ["typing.List[int]", { type: "array", items: { type: "integer" } }],
    ["dict", { type: "object" }],
    ["dict[str, float]", { type: "object", additionalProperties: { type: "number" } }],
    ["Optional[int]", { type: ["integer", "null"] }],
    ["int | None", { type: ["integer", "null"] }],
    [
      "Union[str, list[str]]",
      { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
    ],
    ['Literal["fast", "deep"]', { type: "string", enum: ["fast", "deep"] }],
    ["Literal[1, 'a']", { enum: [1, "a"] }],
    ["tuple[int, ...]", { type: "array", items: { type: "integer" } }],
    [
      "tuple[int, str]",
      {
        type: "array",
        prefixItems: [{ type: "integer" }, { type: "string" }],
        minItems: 2,
        maxItems: 2,
      },
    ],
    ["Annotated[int, Field(ge=0)]", { type: "integer" }],
    ["'list[str]'", { type: "array", items: { type: "string" } }],
    ["MyModel", {}],
    ["Optional[MyModel]", {}],
    ["Any", {}],
  ];
  for (const [hint, schema] of cases) assert.deepEqual(hintSchema(hint), schema, hint);
});

test("Python literals as JSON values", () => {
  assert.deepEqual(literal("None"), { value: null });
  assert.deepEqual(literal("True"), { value: true });
  assert.deepEqual(literal("-2.5"), { value: -2.5 });
  assert.deepEqual(literal("'a\\'b'"), { value: "a'b" });
  assert.deepEqual(literal('["x", (1, 2)]'), { value: ["x", [1, 2]] });
  assert.deepEqual(literal('{"k": None}'), { value: { k: null } });
  assert.equal(literal("DEFAULT_LIMIT"), undefined);
  assert.equal(literal("[1, os.sep]"), undefined);
});

test("docstring sections give parameters' descriptions, Google and NumPy style", () => {
  const google = docArgs(
    "Searches.\n\nArgs:\n    query (str): The text\n        to look for.\n    limit: At most this many.\n\nReturns:\n    limit: not a parameter.",
  );
  assert.deepEqual(
    [...google],
    [
      ["query", "The text to look for."],
      ["limit", "At most this many."],
    ],
  );
  const numpy = docArgs(
    "Searches.\n\nParameters\n----------\nquery : str\n    The text.\nlimit : int, optional\n    At most this many.\n\nReturns\n-------\nlist\n    Results.",
  );
  assert.deepEqual(
    [...numpy],
    [
      ["query", "The text."],
      ["limit", "At most this many."],
    ],
  );
});

test("a signature becomes a parameters object: keyword parameters, required ones, **kwargs", () => {
  const source = `
def search(query: str, limit: int = 10, /, *args, mode: Literal["fast", "deep"] = "fast", tags: list[str] | None = None, debug=False, **extra: int) -> list:
    """Searches the index.

    More words.

    Args:
        query: The text to look for.
        mode: How hard to look.
    """

def strict(a: float, *, b: Optional[dict[str, Any]]):
    pass
`;
  // query and limit are positional-only here: a model passes keywords, so they are left out.
  assert.deepEqual(parametersSchema(fn(source, "search")), {
    type: "object",
    properties: {
      mode: {
        type: "string",
        enum: ["fast", "deep"],
        description: "How hard to look.",
        default: "fast",
      },
      tags: {
        anyOf: [{ type: "array", items: { type: "string" } }, { type: "null" }],
        default: null,
      },
      debug: { default: false },
    },
    additionalProperties: { type: "integer" },
    description: "Searches the index.",
  });
  assert.deepEqual(parametersSchema(fn(source.replace(", /", ""), "search")).required, ["query"]);
  assert.deepEqual(parametersSchema(fn(source, "strict")), {
    type: "object",
    properties: {
      a: { type: "number" },
      b: { anyOf: [{ type: "object", additionalProperties: {} }, { type: "null" }] },
    },
    required: ["a", "b"],
    additionalProperties: false,
  });
});
