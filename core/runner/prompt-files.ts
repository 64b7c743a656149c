// The prompt files a run reads (docs/format.md "Prompt files"; docs/dev/authoring.md): each file
// is read once per run, its text stored in the run's record by hash, so that every attempt of the
// run renders the same text and a replay can render it again from the record.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { lineOf, parsePromptFile, type PromptFile } from "../model/prompt-file";
import { StepError } from "./errors";
import { sha256 } from "./recorder";

export interface PromptText {
  /** As written in the step (`./prompts/x.md`). */
  readonly path: string;
  readonly text: string;
  /** The hash of the text in the record (the blob's). */
  readonly hash: string;
  readonly file: PromptFile;
}

export class PromptFiles {
  private readonly read = new Map<string, PromptText>();

  constructor(
    /** The workflow's folder: prompt file paths are relative to it. */
    private readonly dir: string,
    /** Texts by path as written, instead of the files on disk (a replay's recorded texts). */
    private readonly texts?: ReadonlyMap<string, string>,
    /** Stores a text in the run's record, returning its hash. */
    private readonly store: (text: string) => string = sha256,
  ) {}

  /** The prompt file `path` (as written) names; a `config` StepError naming it when unreadable. */
  get(path: string): PromptText {
    const hit = this.read.get(path);
    if (hit) return hit;
    let text = this.texts?.get(path);
    if (text === undefined) {
      try {
        text = readFileSync(resolve(this.dir, path), "utf8");
      } catch (e) {
        const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : String(e);
        throw new StepError("config", `the prompt file ${path} ${why}`);
      }
    }
    const file = parsePromptFile(text, path);
    const first = file.problems[0];
    if (first) {
      throw new StepError("config", `${path}:${lineOf(file, first.start)}: ${first.message}`);
    }
    const prompt = { path, text, hash: this.store(text), file };
    this.read.set(path, prompt);
    return prompt;
  }
}
