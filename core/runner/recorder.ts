// The recording boundary's write side: buffers a run's records and commits them in one transaction
// per event-loop turn (group commit).
// Invariant: `durable()` resolves only when everything recorded before the call is committed; the
// scheduler awaits it before any effect starts, so an effect never depends on an unrecorded result.
import * as crypto from "node:crypto";
import type {
  AttemptRecord,
  Blob,
  CacheEntry,
  EventRecord,
  EventType,
  Finding,
  ProcessRecord,
  RunRecord,
  WriteBatch,
} from "../record/records";
import type { RunStore } from "../store/run-store";
import type { Redactor } from "./redact";
import { INLINE_MAX, inlineRef } from "../record/refs";
import { linkText } from "../store/chains";

/** The sha256 of a text in hex; `crypto.hash` (Node ≥ 20.12) does it in one call, twice as fast. */
export const sha256: (text: string) => string =
  typeof crypto.hash === "function"
    ? (text) => crypto.hash("sha256", text, "hex")
    : (text) => crypto.createHash("sha256").update(text).digest("hex");

export class Recorder {
  private runs: RunRecord[] = [];
  private events: EventRecord[] = [];
  private attempts: AttemptRecord[] = [];
  private blobs: Blob[] = [];
  private cache: CacheEntry[] = [];
  private findings: Finding[] = [];
  private processes: ProcessRecord[] = [];
  private readonly knownBlobs = new Set<string>();
  /** The references of an agent's turn inputs, by object: the next turn links to them. */
  private readonly refs = new WeakMap<object, string>();
  private scheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private seq: number;

  constructor(
    private readonly store: RunStore,
    readonly runId: string,
    private readonly redactor: Redactor,
    lastSeq = 0,
    private readonly onEvent?: (e: EventRecord) => void,
    /**
     * False for a recorder whose records are taken (`take`) and written by its owner: a
     * distributed run writes them in its own transactions (core/executor/dbos-record.ts).
     */
    private readonly autoCommit = true,
  ) {
    this.seq = lastSeq;
  }

  /** True when something was recorded and not yet committed or taken. */
  get holding(): boolean {
    return this.pending();
  }

  /** What was recorded and not yet taken, as one batch; the recorder is empty after it. */
  take(): WriteBatch | undefined {
    if (!this.pending()) return undefined;
    const batch = {
      runs: this.runs,
      events: this.events,
      attempts: this.attempts,
      blobs: this.blobs,
      cache: this.cache,
      findings: this.findings,
      processes: this.processes,
    };
    this.runs = [];
    this.events = [];
    this.attempts = [];
    this.blobs = [];
    this.cache = [];
    this.findings = [];
    this.processes = [];
    return batch;
  }

  // Only a record's free text and values are redacted, never its ids, hashes and times: they
  // cannot hold a secret, and rewriting them would break the record (docs/runner.md, Secrets).
  run(record: RunRecord): void {
    this.runs.push(
      record.error === null ? record : { ...record, error: this.redactor.text(record.error) },
    );
    this.schedule();
  }

  event(
    type: EventType,
    stepId: string | null,
    attempt: number | null,
    at: string,
    data: Record<string, unknown> | null = null,
    scope: string | null = null,
  ): EventRecord {
    const e: EventRecord = {
      runId: this.runId,
      seq: ++this.seq,
      type,
      stepId,
      scope,
      attempt,
      at,
      data: data && this.redactor.value(data),
    };
    this.events.push(e);
    this.onEvent?.(e);
    this.schedule();
    return e;
  }

  /**
   * Records a JSON value (after redaction) and returns its reference: the value itself when it is
   * short, else its content hash, the text stored once (core/record/refs.ts).
   */
  blob(value: unknown, chain?: { readonly base: unknown; readonly keep: number }): string {
    const known = chain && typeof value === "object" && value !== null && this.refs.get(value);
    if (known) return known;
    const redacted = value === undefined ? null : this.redactor.value(value);
    const raw = JSON.stringify(redacted);
    if (raw.length <= INLINE_MAX) return inlineRef(raw);
    if (!chain) return this.storeText(raw);
    // An agent's turn: stored as a link to the turn before (core/store/chains.ts).
    const hash = sha256(raw);
    this.refs.set(value as object, hash);
    if (this.knownBlobs.has(hash)) return hash;
    const base = this.blob(chain.base, { base: null, keep: 0 });
    const link = base.startsWith("=")
      ? undefined
      : linkText(redacted as Record<string, unknown>, base, chain.keep);
    if (link === undefined || link.length >= raw.length) return this.storeText(raw);
    this.knownBlobs.add(hash);
    this.blobs.push({ hash, text: link });
    this.schedule();
    return hash;
  }

  /**
   * Tells the recorder that `value` was recorded under `ref` (read back from the store): an
   * agent's next turn, prepared on another process than the one before, links to it.
   */
  recorded(value: object, ref: string): void {
    this.refs.set(value, ref);
    this.knownBlobs.add(ref);
  }

  /** A text with the run's secrets replaced by their marks, as anything recorded is. */
  redact(text: string): string {
    return this.redactor.text(text);
  }

  /** Stores a text (a workflow's source) once by the hash of its redacted text. */
  textBlob(raw: string): string {
    return this.storeText(this.redactor.text(raw));
  }

  /** Stores a text already redacted once by its hash. */
  private storeText(text: string): string {
    const hash = sha256(text);
    if (!this.knownBlobs.has(hash)) {
      this.knownBlobs.add(hash);
      this.blobs.push({ hash, text });
      this.schedule();
    }
    return hash;
  }

  attempt(record: AttemptRecord): void {
    this.attempts.push(
      record.errorMessage === null && record.meta === null
        ? record
        : {
            ...record,
            errorMessage: record.errorMessage && this.redactor.text(record.errorMessage),
            meta: this.redactor.value(record.meta),
          },
    );
    this.schedule();
  }

  cacheEntry(entry: CacheEntry): void {
    this.cache.push(entry);
    this.schedule();
  }

  /** A process group a command started: committed at once, so a resume can end it (resume.ts). */
  process(p: ProcessRecord): void {
    this.processes.push(p);
    this.schedule();
  }

  finding(f: Omit<Finding, "runId"> | Finding): void {
    this.findings.push({
      ...f,
      runId: this.runId,
      message: this.redactor.text(f.message),
      data: this.redactor.value(f.data),
    });
    this.schedule();
  }

  /** Resolves when everything recorded so far is committed; rejects if a commit failed. */
  async durable(): Promise<void> {
    if (this.pending()) {
      this.scheduled = false;
      this.flushing = this.flushing.then(() => this.flush());
    }
    await this.flushing;
    if (this.failure) throw this.failure;
  }

  private pending(): boolean {
    return (
      this.runs.length +
        this.events.length +
        this.attempts.length +
        this.blobs.length +
        this.cache.length +
        this.findings.length +
        this.processes.length >
      0
    );
  }

  private schedule(): void {
    if (this.scheduled || !this.autoCommit) return;
    this.scheduled = true;
    setImmediate(() => {
      if (!this.scheduled) return;
      this.scheduled = false;
      this.flushing = this.flushing.then(() => this.flush());
    });
  }

  private async flush(): Promise<void> {
    if (this.failure) return;
    const batch = this.take();
    if (!batch) return;
    try {
      await this.store.commit(batch);
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
    }
  }
}
