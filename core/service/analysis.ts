// A document's analysis: everything the language features need, computed once per version of
// the text and shared by all of them (diagnostics, completion, hover, navigation, ...).
// Invariant: an Analysis is immutable; a new version of the document gets a new Analysis. An
// analysis made incrementally from the previous version (check/incremental.ts) has the
// diagnostics a full validation would give; its model is built by a full validation only when a
// feature first asks for it.
import { validateInDetail, type ValidateOptions, type WorkflowModel } from "../check/validate";
import type { ValidationHost } from "../check/tools";
import { incrementalState, revalidate, type IncrementalState } from "../check/incremental";
import { splicedModel } from "../check/splice";
import type { Diagnostic } from "../model/diagnostic";
import { LineIndex } from "../model/line-index";

export interface Analysis {
  readonly text: string;
  /** Absolute path of the workflow file, when it has one. */
  readonly file?: string;
  /** The validator's diagnostics, before severity settings. */
  readonly diagnostics: readonly Diagnostic[];
  readonly model: WorkflowModel;
  readonly index: LineIndex;
  /** Absolute paths of the files validation asked the host for (tool modules), found or not. */
  readonly reads: ReadonlySet<string>;
  /** How this version was analysed: all of it, or the edited step only. */
  readonly how: "full" | "incremental";
  /** What the next version needs to be analysed incrementally; absent when it cannot be. */
  readonly incremental?: IncrementalState;
  /**
   * The newest model already built, for features that need the workflow's names and relations
   * but no positions (completion): this version's when it was analysed in full or its model was
   * asked for, else the model an earlier version had. An incremental version only edited the
   * inside of one step (no key, `type` or `output` changed), so what it lacks is that step's
   * latest references; building the model afresh costs a full validation (~0.3 s at 1,000
   * steps), which completion after each keystroke cannot pay.
   */
  readonly semanticModel: WorkflowModel;
}

/** Validates `text` once and keeps what the features need. Never throws. */
export function analyze(text: string, options: ValidateOptions = {}): Analysis {
  const reads = new Set<string>();
  const host: ValidationHost | undefined = options.host && {
    resolve: (from, relative) => options.host!.resolve(from, relative),
    readFile: (path) => {
      reads.add(path);
      return options.host!.readFile(path);
    },
  };
  const detail = validateInDetail(text, { ...options, host });
  const { diagnostics, model } = detail.result;
  return {
    text,
    file: options.file,
    diagnostics,
    model,
    index: new LineIndex(text),
    reads,
    how: "full",
    incremental: incrementalState(text, options, detail),
    semanticModel: model,
  };
}

/**
 * Analyses `text`, a later version of `previous`'s text: incrementally when the edit between them
 * allows it (check/incremental.ts), else in full. Never throws.
 */
export function reanalyze(
  previous: Analysis,
  text: string,
  options: ValidateOptions = {},
): Analysis {
  const again = previous.incremental && revalidate(previous.incremental, text);
  if (!again) return analyze(text, options);
  const { edit } = again;
  return new IncrementalAnalysis(
    text,
    options,
    again.diagnostics,
    previous.index.afterEdit(text, edit.start, edit.oldEnd, edit.newEnd),
    again.reads,
    again.state,
    previous.semanticModel,
  );
}

class IncrementalAnalysis implements Analysis {
  readonly how = "incremental";
  private built?: WorkflowModel;

  constructor(
    readonly text: string,
    private readonly options: ValidateOptions,
    readonly diagnostics: readonly Diagnostic[],
    readonly index: LineIndex,
    readonly reads: ReadonlySet<string>,
    readonly incremental: IncrementalState,
    private readonly earlier: WorkflowModel,
  ) {}

  get semanticModel(): WorkflowModel {
    return this.built ?? this.earlier;
  }

  get file(): string | undefined {
    return this.options.file;
  }

  /**
   * Spliced on first use from the steps' own parses (check/splice.ts), without parsing the text
   * again: most versions typed are never asked for more than their diagnostics.
   */
  get model(): WorkflowModel {
    this.built ??= splicedModel(this.incremental);
    return this.built;
  }
}
