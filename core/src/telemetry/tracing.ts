import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";

/** Name of the tracer every core span comes from (the instrumentation scope in a trace backend). */
export const CORE_TRACER_NAME = "@aat/core";

/**
 * The propagation fields of a span context (W3C `traceparent`, `tracestate`, or whatever propagator
 * the process registered), as carried in queue message attributes and stored with a run.
 */
export type TraceCarrier = Record<string, string>;

/**
 * The global tracer: OpenTelemetry's proxy, a no-op until the process registers a tracer provider
 * (functions/node does when OTEL_* variables ask for it). Looked up per call, not cached, so a provider
 * registered after the core was loaded is used.
 */
export function coreTracer(): Tracer {
  return trace.getTracer(CORE_TRACER_NAME);
}

/**
 * The propagation fields of `ctx` (default: the active context), or undefined when it holds no valid
 * span, so nothing is stored or sent while tracing is off.
 */
export function traceCarrier(ctx: Context = context.active()): TraceCarrier | undefined {
  const spanContext = trace.getSpanContext(ctx);
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/** The context a carrier describes (a remote parent), or undefined when it holds none. */
export function contextFromCarrier(
  carrier: Readonly<Record<string, string>> | undefined,
): Context | undefined {
  if (!carrier) return undefined;
  const ctx = propagation.extract(ROOT_CONTEXT, carrier);
  const spanContext = trace.getSpanContext(ctx);
  return spanContext && trace.isSpanContextValid(spanContext) ? ctx : undefined;
}

/** Message attributes with the active context's propagation fields added (unchanged when there are none). */
export function withTraceAttributes(
  attributes: Record<string, string> | undefined,
): Record<string, string> | undefined {
  const carrier = traceCarrier();
  if (!carrier) return attributes;
  return attributes ? { ...attributes, ...carrier } : carrier;
}

/**
 * The parent for work on a run: the active context when it already belongs to the run's trace (a step
 * span in a worker, the request that started the run), otherwise the run's stored context, with a link
 * to the active span (an approval request, a sweeper) so that cause is still one click away.
 */
export function runParent(stored: TraceCarrier | undefined): { parent: Context; links?: Link[] } {
  const active = context.active();
  const runContext = contextFromCarrier(stored);
  if (!runContext) return { parent: active };
  const activeSpan = trace.getSpanContext(active);
  const runSpan = trace.getSpanContext(runContext)!;
  if (!activeSpan || !trace.isSpanContextValid(activeSpan)) return { parent: runContext };
  if (activeSpan.traceId === runSpan.traceId) return { parent: active };
  return { parent: runContext, links: [{ context: activeSpan }] };
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
}

/**
 * Run `fn` in a new active span under `parent` (default: the active context); the span records an
 * error and ends when the promise settles.
 */
export function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  const span = coreTracer().startSpan(name, options, parent);
  // Tracing off (no provider, no remote parent): nothing to make active or end, so no context switch.
  if (!span.isRecording() && !trace.isSpanContextValid(span.spanContext())) return fn(span);
  return context
    .with(trace.setSpan(parent, span), () => fn(span))
    .then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        recordError(span, error);
        span.end();
        throw error;
      },
    );
}

/** Mark a span failed with the error's name and message. */
export function recordError(span: Span, error: unknown): void {
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  if (error instanceof Error) span.recordException(error);
}

/**
 * True when the active span records. Spans that would be many and small (inline steps, plan loads,
 * adapter calls) are made only then, so with tracing off they cost this one check.
 */
export function recording(): boolean {
  return trace.getActiveSpan()?.isRecording() === true;
}
