// Sends a run's spans (spans.ts) to an OpenTelemetry collector over OTLP/HTTP (JSON), with the
// recorded start and end times. The trace id is derived from the run id, so every export of one
// run lands in one trace and a run's trace can be found from its id; span ids are random.
// This module loads the OpenTelemetry SDK: import it only where an export is asked for (the CLI's
// `--otel`), never from the extension's or the server's start.
import { createHash, randomBytes } from "node:crypto";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { TracerProvider, type ReadableSpan, type SpanProcessor } from "@opentelemetry/sdk-trace";
import type { SpanSpec } from "./spans";

export interface OtelTarget {
  /**
   * The collector: a base URL (`http://host:4318`, to which `/v1/traces` is added) or the full
   * traces URL (ending in `/v1/traces`).
   */
  readonly endpoint: string;
  /** Extra request headers (an API key for a hosted backend). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** The traces URL of an endpoint. */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (!url.pathname.endsWith("/v1/traces")) {
    url.pathname = url.pathname.replace(/\/*$/, "") + "/v1/traces";
  }
  return url.toString();
}

/** The trace id of a run: the first 16 bytes of the sha256 of its id, in hex. */
export function traceIdOf(runId: string): string {
  return createHash("sha256").update(`keel.run:${runId}`).digest("hex").slice(0, 32);
}

/**
 * Spans per OTLP request: about 0.8 kB of JSON each without content (measured on a 10,000-item
 * map), so a request stays near 1 MB, under a collector's default 20 MiB body limit and the 4 MiB
 * of a gRPC hop behind it.
 */
export const EXPORT_BATCH = 1000;

/** Sends the spans of one run; resolves with how many were sent, rejects when the collector did not take them. */
export async function exportSpans(
  root: SpanSpec,
  runId: string,
  target: OtelTarget,
  version = "0",
): Promise<number> {
  const spans = buildSpans(root, runId, version);
  const exporter = new OTLPTraceExporter({
    url: tracesUrl(target.endpoint),
    headers: { ...target.headers },
    // Unless given, OTEL_EXPORTER_OTLP_TIMEOUT (ms) or the exporter's 10 s.
    ...(target.timeoutMs !== undefined ? { timeoutMillis: target.timeoutMs } : {}),
  });
  try {
    // A large map is many spans: one request per batch keeps each body small enough for a
    // collector's limit; the first batch refused ends the export (and decides the exit code).
    for (let i = 0; i < spans.length; i += EXPORT_BATCH) {
      const batch = spans.slice(i, i + EXPORT_BATCH);
      await new Promise<void>((resolve, reject) => {
        exporter.export(batch, (result) => {
          // ExportResultCode.SUCCESS is 0 (@opentelemetry/core).
          if (result.code === 0) resolve();
          else reject(result.error ?? new Error("the collector did not accept the spans"));
        });
      });
    }
  } finally {
    await exporter.shutdown();
  }
  return spans.length;
}

/** The finished SDK spans of a run's span tree, made with the recorded times. */
export function buildSpans(root: SpanSpec, runId: string, version = "0"): ReadableSpan[] {
  // Each ended span is kept as it ends: no export per span (the SDK's simple processor starts an
  // export, a promise, per span: 2.7 s for the 20,000 spans of a 10,000-item map, against 0.6 s).
  const finished: ReadableSpan[] = [];
  const collect: SpanProcessor = {
    onStart: () => {},
    onEnd: (span) => void finished.push(span),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const traceId = traceIdOf(runId);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "keel", "service.version": version }),
    spanProcessors: [collect],
    idGenerator: {
      generateTraceId: () => traceId,
      generateSpanId: () => randomBytes(8).toString("hex"),
    },
  });
  const tracer = provider.getTracer("keel", version);
  const emit = (spec: SpanSpec, parent: Context) => {
    const span = tracer.startSpan(
      spec.name,
      {
        kind: spec.kind === "client" ? SpanKind.CLIENT : SpanKind.INTERNAL,
        startTime: new Date(spec.startedAt),
        attributes: spec.attributes as Record<string, string | number | boolean | string[]>,
      },
      parent,
    );
    if (spec.error !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: spec.error });
    for (const e of spec.events ?? []) {
      span.addEvent(
        e.name,
        e.attributes as Record<string, string | number | boolean | string[]>,
        new Date(e.at),
      );
    }
    const inner = trace.setSpan(parent, span);
    for (const child of spec.children) emit(child, inner);
    span.end(new Date(spec.endedAt));
  };
  emit(root, ROOT_CONTEXT);
  void provider.shutdown();
  return finished;
}
