// YAML text → plain value + a tree of source locations, in one pass over the parsed document.
// Invariant: parsing never throws; every problem becomes a diagnostic with a range inside the text.
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Scalar } from "yaml";
import type { Node as YamlNode, YAMLMap, YAMLSeq } from "yaml";
import type { DiagnosticSink, Span } from "./diagnostic";
import { recover } from "./recover";

/** Where a value came from. Values copied through an alias point at the alias and have no children. */
export interface Loc {
  readonly span: Span;
  /** The key that introduced this value, when its parent is a mapping. */
  readonly keySpan?: Span;
  /** Children by mapping key or sequence index, in document order. */
  readonly children?: Map<string | number, Loc>;
  /** The scalar node, so offsets inside a string value can be mapped back to the text. */
  readonly scalar?: ScalarNode;
  /** True when the value was copied from an anchor through an alias. */
  readonly viaAlias?: boolean;
}

/**
 * What is read of a scalar node: its value, its style and where it lies in the text. A parse
 * gives `yaml`'s own node; a location moved by an edit (check/splice.ts) gets a plain copy.
 */
export interface ScalarNode {
  readonly value: unknown;
  readonly type?: Scalar.Type;
  /**
   * `yaml`'s offsets: where the node starts, where its value ends, and where it ends with what
   * trails it. Only the first two are read: the third depends on what follows the node (a step
   * parsed on its own can differ there from the whole document).
   */
  readonly range?: readonly [number, number, number] | null;
}

export interface ParsedYaml {
  readonly text: string;
  /** The document as plain data: null-prototype objects, arrays, strings, numbers, booleans, null. */
  readonly value: unknown;
  /** Absent when the document has no content. */
  readonly root: Loc | undefined;
  /** True when the document defines an anchor or uses an alias. */
  readonly anchors: boolean;
  /**
   * With YAML syntax errors: the parts of the text set aside to read the rest (model/recover.ts).
   * Their values read as null; diagnostics that start inside them are not reported. The whole
   * text when no recovery was found.
   */
  readonly setAside?: readonly Span[];
}

/** One entry of a block mapping, parsed on its own (see parseEntry). */
export interface ParsedEntry {
  readonly key: string;
  readonly keySpan: Span;
  readonly value: unknown;
  readonly loc: Loc;
}

/** At most this many nodes may be created by expanding aliases, in the whole document. */
export const ALIAS_EXPANSION_LIMIT = 100_000;

const CORE_TAGS = new Set(
  ["str", "int", "float", "bool", "null", "map", "seq"].map((t) => `tag:yaml.org,2002:${t}`),
);

// uniqueKeys: false — yaml's own duplicate check is quadratic in the keys of a mapping; we
// detect duplicates here with a Map instead.
const OPTIONS = { uniqueKeys: false, prettyErrors: false, strict: true } as const;

export function parseYaml(text: string, sink: DiagnosticSink): ParsedYaml {
  let doc = parseDocument(text, OPTIONS);
  const syntax = doc.errors.filter((e) => e.code !== "MULTIPLE_DOCS");
  for (const e of doc.errors) {
    if (e.code !== "MULTIPLE_DOCS") continue;
    const span = clampSpan(text, e.pos[0], e.pos[1]);
    sink.add("KEEL003", span, "a workflow file holds exactly one YAML document: remove `---`");
  }
  let setAside: readonly Span[] | undefined;
  if (syntax.length > 0) {
    const { problems, recovery } = recover(text, syntax, (t) => parseDocument(t, OPTIONS).errors);
    for (const p of problems) {
      sink.add("KEEL001", clampSpan(text, p.span.start, p.span.end), p.message);
    }
    if (recovery && doc.errors.length === syntax.length) {
      doc = parseDocument(recovery.text, OPTIONS);
      setAside = recovery.setAside;
    } else setAside = [{ start: 0, end: text.length + 1 }];
  }
  for (const w of doc.warnings) {
    const span = clampSpan(text, w.pos[0], w.pos[1]);
    if (w.code === "TAG_RESOLVE_FAILED") {
      sink.add(
        "KEEL006",
        span,
        `${w.message.replace(/^Unresolved tag: /, "custom tag ")}: Keel files use plain YAML without tags`,
      );
    } else sink.add("KEEL001", span, `YAML: ${w.message}`);
  }
  if (doc.contents == null) {
    return { text, value: undefined, root: undefined, anchors: false, setAside };
  }
  const builder = new Builder(text, sink);
  const { value, loc } = builder.build(doc.contents, undefined);
  return { text, value, root: loc, anchors: builder.anchors, setAside };
}

/**
 * Parses `text.slice(start, end)`, the text of one entry of a block mapping (its key line and its
 * indented value), with locations in `text`'s offsets. Returns undefined, leaving the caller to
 * parse the whole document, unless the slice parses cleanly as exactly one entry without anchors
 * or aliases: the only case where its parse is the one the whole document would give.
 */
export function parseEntry(
  text: string,
  start: number,
  end: number,
  sink: DiagnosticSink,
): ParsedEntry | undefined {
  const doc = parseDocument(text.slice(start, end), OPTIONS);
  if (doc.errors.length > 0 || doc.warnings.length > 0 || !isMap(doc.contents)) return undefined;
  const pairs = doc.contents.items;
  if (pairs.length !== 1 || !isScalar(pairs[0]!.key)) return undefined;
  let plain = true;
  visit(doc, (_key, node) => {
    if (!node) return;
    if (isAlias(node) || (node as { anchor?: string }).anchor) plain = false;
    const r = (node as { range?: [number, number, number] | null }).range;
    if (r) (node as { range: number[] }).range = [r[0] + start, r[1] + start, r[2] + start];
  });
  if (!plain) return undefined;
  const builder = new Builder(text, sink);
  const built = builder.build(doc.contents, undefined);
  const [key, loc] = [...built.loc.children!][0] ?? [];
  if (typeof key !== "string" || !loc?.keySpan) return undefined;
  return { key, keySpan: loc.keySpan, value: (built.value as Record<string, unknown>)[key], loc };
}

/** Finds the deepest location along `path`; stops at aliases and at missing children. */
export function locate(root: Loc, path: readonly PropertyKey[]): { loc: Loc; depth: number } {
  let loc = root;
  let depth = 0;
  for (const key of path) {
    const child = loc.children?.get(typeof key === "number" ? key : String(key));
    if (!child) break;
    loc = child;
    depth++;
  }
  return { loc, depth };
}

export function clampSpan(text: string, start: number, end: number): Span {
  const s = Math.max(0, Math.min(start, text.length));
  return { start: s, end: Math.max(s, Math.min(end, text.length)) };
}

interface Built {
  value: unknown;
  loc: Loc;
}

class Builder {
  /** Set when an anchor or an alias was met. */
  anchors = false;
  private expanded = 0;
  private limitReported = false;
  private readonly expanding = new Set<YamlNode>();
  /** The latest node defining each anchor, in document order (yaml's own lookup walks the document per alias). */
  private readonly anchorNodes = new Map<string, YamlNode>();
  /** Each alias's target, fixed when the alias is first met in document order. */
  private readonly resolved = new Map<YamlNode, YamlNode | undefined>();

  constructor(
    private readonly text: string,
    private readonly sink: DiagnosticSink,
  ) {}

  build(node: YamlNode, keySpan: Span | undefined): Built {
    const span = this.spanOf(node);
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) {
      this.anchors = true;
      this.anchorNodes.set(anchor, node);
    }
    if (isScalar(node)) {
      return { value: node.value ?? null, loc: { span, keySpan, scalar: node } };
    }
    if (isMap(node)) return this.buildMap(node, span, keySpan);
    if (isSeq(node)) return this.buildSeq(node, span, keySpan);
    if (isAlias(node)) {
      this.anchors = true;
      const value = this.expandAlias(node, span);
      return { value, loc: { span, keySpan, viaAlias: true } };
    }
    return { value: null, loc: { span, keySpan } };
  }

  private buildMap(node: YAMLMap, span: Span, keySpan: Span | undefined): Built {
    const value: Record<string, unknown> = Object.create(null);
    const children = new Map<string | number, Loc>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      const kSpan = keyNode ? this.spanOf(keyNode) : span;
      const key = this.keyText(keyNode, kSpan);
      if (key === undefined) continue;
      const previous = children.get(key);
      if (previous) {
        this.sink.add("KEEL005", kSpan, `duplicate key '${key}': it is already set above`, {
          related: [{ span: previous.keySpan ?? previous.span, message: `first '${key}'` }],
        });
        continue;
      }
      const valueNode = pair.value as YamlNode | null;
      const built = valueNode
        ? this.build(valueNode, kSpan)
        : { value: null, loc: { span: { start: kSpan.end, end: kSpan.end }, keySpan: kSpan } };
      value[key] = built.value;
      children.set(key, built.loc);
    }
    return { value, loc: { span: this.blockEnd(node, span, children), keySpan, children } };
  }

  private buildSeq(node: YAMLSeq, span: Span, keySpan: Span | undefined): Built {
    const value: unknown[] = [];
    const children = new Map<string | number, Loc>();
    node.items.forEach((item, i) => {
      const built = item ? this.build(item as YamlNode, undefined) : { value: null, loc: { span } };
      value.push(built.value);
      children.set(i, built.loc);
    });
    return { value, loc: { span: this.blockEnd(node, span, children), keySpan, children } };
  }

  /**
   * A block collection ends where its last entry's value ends. `yaml` may extend it over trailing
   * comment lines, by an amount that depends on what follows; this end does not, so a step parsed
   * on its own (parseEntry) has the locations the whole document gives it.
   */
  private blockEnd(node: YAMLMap | YAMLSeq, span: Span, children: Map<string | number, Loc>): Span {
    if (node.flow || children.size === 0) return span;
    let last: Loc | undefined;
    for (const loc of children.values()) last = loc;
    return { start: span.start, end: Math.max(span.start, last!.span.end) };
  }

  private keyText(keyNode: YamlNode | null, span: Span): string | undefined {
    if (keyNode && isScalar(keyNode)) {
      if (keyNode.tag && !CORE_TAGS.has(keyNode.tag)) return undefined; // reported as a tag warning
      const key = keyNode.value == null ? (keyNode.source ?? "") : String(keyNode.value);
      if (key === "<<" && keyNode.type === "PLAIN") {
        this.sink.add(
          "KEEL006",
          span,
          "merge keys (`<<`) are not part of YAML 1.2: repeat the fields, or move shared settings to `defaults`",
        );
        return undefined;
      }
      return key;
    }
    if (keyNode && isAlias(keyNode)) {
      this.sink.add("KEEL006", span, "an alias cannot be used as a key: write the key as text");
      return undefined;
    }
    this.sink.add("KEEL006", span, "keys must be plain text, not a list or a mapping");
    return undefined;
  }

  /** Copies the anchored value as plain data, counting nodes against the expansion limit. */
  private expandAlias(
    node: YamlNode & { source: string },
    span: Span,
    shownAs = node.source,
  ): unknown {
    let target = this.resolved.get(node);
    if (!this.resolved.has(node)) {
      target = this.anchorNodes.get(node.source);
      this.resolved.set(node, target);
    }
    if (!target) {
      this.sink.add(
        "KEEL004",
        span,
        `unknown anchor '&${node.source}': define it before this alias`,
      );
      return null;
    }
    if (this.expanding.has(target)) {
      this.sink.add(
        "KEEL004",
        span,
        `alias '*${node.source}' refers to the value that contains it`,
      );
      return null;
    }
    this.expanding.add(target);
    try {
      return this.copy(target, span, shownAs);
    } finally {
      this.expanding.delete(target);
    }
  }

  private copy(node: YamlNode, aliasSpan: Span, anchor: string): unknown {
    if (++this.expanded > ALIAS_EXPANSION_LIMIT) {
      if (!this.limitReported) {
        this.limitReported = true;
        this.sink.add(
          "KEEL004",
          aliasSpan,
          `aliases expand to more than ${ALIAS_EXPANSION_LIMIT} nodes (at '*${anchor}'): the file is refused as a "billion laughs" document`,
        );
      }
      return null;
    }
    if (isScalar(node)) return node.value ?? null;
    if (isMap(node)) {
      const out: Record<string, unknown> = Object.create(null);
      for (const pair of node.items) {
        const k = pair.key as YamlNode | null;
        if (!k || !isScalar(k)) continue;
        const key = k.value == null ? (k.source ?? "") : String(k.value);
        if (key in out) continue;
        out[key] = pair.value ? this.copy(pair.value as YamlNode, aliasSpan, anchor) : null;
      }
      return out;
    }
    if (isSeq(node)) {
      return node.items.map((item) =>
        item ? this.copy(item as YamlNode, aliasSpan, anchor) : null,
      );
    }
    if (isAlias(node)) return this.expandAlias(node, aliasSpan, anchor);
    return null;
  }

  private spanOf(node: YamlNode): Span {
    const r = node.range;
    if (!r) return { start: 0, end: 0 };
    return clampSpan(this.text, r[0], r[1]);
  }
}
