// The Python signature reader against tricky real-world module shapes; each module is also read
// by Python's own `ast` (parsing, not importing) and the two must agree on every top-level function.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  readPythonModule,
  signatureText,
  PythonSyntaxError,
  type PythonModule,
} from "@keel/core/model/python-signatures";

function read(source: string): PythonModule {
  const m = readPythonModule(source);
  if (m instanceof Error) throw m;
  return m;
}

const TRICKY = String.raw`#!/usr/bin/env python3
"""Module docstring with a def inside: def fake(x): pass"""
from __future__ import annotations
import os, json as j
from typing import (
    Literal,  # a comment with def nope():
    Optional,
)
from .impl import helper as run_helper

X = """
def not_a_function(a, b):
    pass
"""
Y: int = 3
a = b = 4

@decorator.with_args(
    "def also_not(x):",
    key=lambda v: v,
)
@staticmethod
async def search(
    query: str,  # what to look for
    limit: int = 10,
    *,
    mode: Literal["fast", "deep"] = "fast",
    tags: dict[str, list[int]] = {"a": [1, 2]},
    **extra,
) -> list[dict]:
    '''Searches the index.

    Args:
        query: The text.
        limit: At most this many.
    '''
    def nested(z):
        return z
    return []

class Tool:
    def method(self, x):
        pass

def pos_only(a, b=2, /, c: "str" = 'x,y', *args: int, d, e=f"{1:>{2}}", **kw) -> None: "One line doc."

def with_lambda(f=lambda x, y=1: x + y, g: tuple[int, ...] = (1, 2)): pass

def continued(a, \
              b):
    r"""Raw \d doc."""
    return a

if True:
    def indented(q):
        pass

def redefined(old): pass
def redefined(new, more=1): pass

def brackets(a=")", b='(', c="""
)"""):
    # a comment first
    "doc after comment"

Tool2 = Tool
lambda_tool = lambda x: x
`;

test("reads top-level functions only, with their parameters, hints, defaults and docstrings", () => {
  const m = read(TRICKY);
  assert.deepEqual([...m.functions.keys()].sort(), [
    "brackets",
    "continued",
    "pos_only",
    "redefined",
    "search",
    "with_lambda",
  ]);
  const search = m.functions.get("search")!;
  assert.equal(search.async, true);
  assert.deepEqual(search.decorators, [
    'decorator.with_args( "def also_not(x):", key=lambda v: v, )',
    "staticmethod",
  ]);
  assert.equal(
    signatureText(search),
    'async def search(query: str, limit: int = 10, *, mode: Literal["fast", "deep"] = "fast", tags: dict[str, list[int]] = {"a": [1, 2]}, **extra) -> list[dict]',
  );
  assert.equal(
    search.docstring,
    "Searches the index.\n\nArgs:\n    query: The text.\n    limit: At most this many.",
  );
  assert.equal(TRICKY.slice(search.nameAt, search.nameAt + 6), "search");
  assert.equal(TRICKY.split("\n")[search.line]!.startsWith("async def search("), true);
  const query = search.parameters[0]!;
  assert.equal(TRICKY.slice(query.at, query.at + 5), "query");

  const p = m.functions.get("pos_only")!;
  assert.deepEqual(
    p.parameters.map((x) => [x.name, x.kind, x.default ?? null]),
    [
      ["a", "positional-only", null],
      ["b", "positional-only", "2"],
      ["c", "positional", "'x,y'"],
      ["args", "var-positional", null],
      ["d", "keyword-only", null],
      ["e", "keyword-only", 'f"{1:>{2}}"'],
      ["kw", "var-keyword", null],
    ],
  );
  assert.equal(p.docstring, "One line doc.");
  assert.equal(p.returns, "None");
  assert.equal(
    signatureText(p),
    `def pos_only(a, b=2, /, c: "str" = 'x,y', *args: int, d, e=f"{1:>{2}}", **kw) -> None`,
  );
  assert.deepEqual(
    m.functions
      .get("with_lambda")!
      .parameters.map((x) => [x.name, x.annotation ?? null, x.default]),
    [
      ["f", null, "lambda x, y=1: x + y"],
      ["g", "tuple[int, ...]", "(1, 2)"],
    ],
  );
  assert.equal(m.functions.get("continued")!.docstring, "Raw \\d doc.");
  assert.deepEqual(
    m.functions.get("redefined")!.parameters.map((x) => x.name),
    ["new", "more"],
  );
  assert.equal(m.functions.get("brackets")!.parameters.length, 3);
  assert.equal(m.functions.get("brackets")!.docstring, "doc after comment");
  for (const name of [
    "os",
    "j",
    "Literal",
    "Optional",
    "run_helper",
    "X",
    "Y",
    "a",
    "b",
    "Tool",
    "Tool2",
    "lambda_tool",
  ])
    assert.ok(m.others.has(name), name);
  assert.equal(m.open, false);
  assert.equal(read("from x import *\n").open, true);
});

test("an @overload keeps the implementation's signature; a later assignment hides a def", () => {
  const m = read(
    "from typing import overload\n@overload\ndef f(a: int) -> int: ...\n@overload\ndef f(a: str) -> str: ...\ndef f(a, b=None):\n    return a\n",
  );
  assert.deepEqual(
    m.functions.get("f")!.parameters.map((p) => p.name),
    ["a", "b"],
  );
  const calls = read(
    "def x(a): pass\ndef k(b): pass\napp.add(x=1)\nd[k] = 2\nobj.x = 3\nn: int = 4\n(p, *q) = r, s = 1, 2\nn += 1\n",
  );
  assert.deepEqual([...calls.functions.keys()], ["x", "k"]);
  assert.deepEqual([...calls.others].sort(), ["n", "p", "q", "r", "s"]);
  const blocks = read(
    "try:\n    from fast import search\nexcept ImportError:\n    def search(q):\n        def deep(): pass\nif X:\n    import json as j\n    rank = None\nelse:\n    class Rank: pass\ndef after(z):\n    inner = 1\n",
  );
  assert.deepEqual([...blocks.functions.keys()], ["after"]);
  assert.deepEqual([...blocks.others].sort(), ["Rank", "deep", "j", "rank", "search"]);
  const hidden = read("def g(x): pass\ng = something_else\n");
  assert.equal(hidden.functions.has("g"), false);
  assert.equal(hidden.others.has("g"), true);
});

test("type parameters (Python 3.12) before the parameters; a def without parameters is reported", () => {
  const m = read(
    "def first[T: (int, str)](items: list[T], \\\n  n: int = 1) -> T:\n    return items[0]\n",
  );
  const first = m.functions.get("first")!;
  assert.deepEqual(
    first.parameters.map((p) => [p.name, p.annotation, p.default ?? null]),
    [
      ["items", "list[T]", null],
      ["n", "int", "1"],
    ],
  );
  assert.equal(first.returns, "T");
  const bad = readPythonModule("x = 1\ndef broken:\n    pass\n");
  assert.ok(bad instanceof PythonSyntaxError);
  assert.equal(bad.message, "line 2: `def broken` has no `(` for its parameters");
});

test("CRLF, tabs, a byte order mark and f-strings with nested quotes", () => {
  const m = read('\uFEFFdef a(x,\r\n\ty=f"{\'}\'}"):\r\n\t"""Doc\r\n\tmore."""\r\n\treturn x\r\n');
  const a = m.functions.get("a")!;
  assert.deepEqual(
    a.parameters.map((p) => p.name),
    ["x", "y"],
  );
  assert.equal(a.docstring, "Doc\nmore.");
  assert.equal(a.at, 1);
});

test("what the reader cannot read is a PythonSyntaxError with its line, never a throw", () => {
  const cases: [string, number][] = [
    ['def f(x):\n    return """never closed\n', 2],
    ["x = 1\ndef f(a, b:\n    pass\n", 2],
    ["def f(a):\n    return (1, 2]\n", 2],
    ["x = 'open\n", 1],
    ["def f(1a): pass\n", 1],
  ];
  for (const [source, line] of cases) {
    const m = readPythonModule(source);
    assert.ok(m instanceof PythonSyntaxError, source);
    assert.equal(m.line, line, source);
  }
});

/** Python's view of the same module, by `ast` (parsed, never imported). */
function astView(source: string): unknown {
  const script = `
import ast, json, sys
tree = ast.parse(sys.stdin.read())
out = {}
for node in tree.body:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        a = node.args
        params = []
        for p in a.posonlyargs: params.append([p.arg, "positional-only"])
        for p in a.args: params.append([p.arg, "positional"])
        if a.vararg: params.append([a.vararg.arg, "var-positional"])
        for p in a.kwonlyargs: params.append([p.arg, "keyword-only"])
        if a.kwarg: params.append([a.kwarg.arg, "var-keyword"])
        defaults = [None] * (len(a.posonlyargs) + len(a.args) - len(a.defaults)) + a.defaults
        required = [p for p, d in zip(a.posonlyargs + a.args, defaults) if d is None]
        required += [p for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is None]
        out[node.name] = {"params": params, "required": sorted(p.arg for p in required),
                          "async": isinstance(node, ast.AsyncFunctionDef),
                          "doc": ast.get_docstring(node), "line": node.lineno - len(node.decorator_list)}
print(json.dumps(out))
`;
  const r = spawnSync("python3", ["-c", script], { input: source, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function ourView(source: string): unknown {
  const m = read(source);
  const out: Record<string, unknown> = {};
  for (const [name, fn] of m.functions) {
    if (fn.decorators.includes("overload")) continue;
    out[name] = {
      params: fn.parameters.map((p) => [p.name, p.kind]),
      required: fn.parameters
        .filter((p) => p.default === undefined && !p.kind.startsWith("var-"))
        .map((p) => p.name)
        .sort(),
      async: fn.async,
      doc: fn.docstring ?? null,
      line: fn.line + 1 - fn.decorators.length,
    };
  }
  return out;
}

test("agrees with Python's ast on every top-level function of tricky modules", () => {
  const modules = [
    TRICKY.replace(/^@staticmethod\n/m, ""),
    "def a(): pass\ndef b(x, /): pass\ndef c(*, k): pass\ndef d(*a, **k): pass\n",
    'def e(x=[1, {2: (3,)}], y="#", z=\'\'\'\n"\'\'\') -> "t":\n    """\n    Indented\n      more\n    """\n',
    "async def f(session: 'Session', url: str, *, timeout: float | None = None) -> dict[str, Any]:\n  '''Fetch.'''\n  async with session.get(url) as r:\n    return await r.json()\n",
    "x = {\n  'def fake(y)': 1,\n}\ndef g(a: Annotated[int, Field(ge=0, le=10)] = 5, b: Callable[[int], str] = str): ...\n",
    "def h(a,\n      # comment, with a comma\n      b,  # and here\n      ): 'doc'; return 1\n",
  ];
  for (const source of modules) assert.deepEqual(ourView(source), astView(source), source);
});

test("a module cut, with a character dropped or a quote or bracket added anywhere, never throws", () => {
  for (let i = 0; i <= TRICKY.length; i++) {
    const head = TRICKY.slice(0, i);
    for (const source of [
      head,
      head + TRICKY.slice(i + 1),
      `${head}(${TRICKY.slice(i)}`,
      `${head}"${TRICKY.slice(i)}`,
    ]) {
      const m = readPythonModule(source);
      assert.ok(m instanceof PythonSyntaxError || m.functions instanceof Map, source);
    }
  }
});
