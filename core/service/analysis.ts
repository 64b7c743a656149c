// A document's analysis: everything the language features need, computed once per version of
// the text and shared by all of them (diagnostics, completion, hover, navigation, ...).
// Invariant: an Analysis is immutable; a new version of the document gets a new Analysis.
import { validate, type ValidateOptions, type WorkflowModel } from "../check/validate";
import type { ValidationHost } from "../check/tools";
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
  const { diagnostics, model } = validate(text, { ...options, host });
  return { text, file: options.file, diagnostics, model, index: new LineIndex(text), reads };
}
