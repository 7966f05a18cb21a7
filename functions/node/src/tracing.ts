/**
 * OpenTelemetry tracing for the Node runtime, switched on by the standard OTEL_* variables and off
 * otherwise. The SDK and the exporter are imported only when tracing is on, so a start without
 * tracing loads none of them. The core creates its spans through @opentelemetry/api, which stays a
 * no-op until the provider registered here takes over.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export interface Tracing {
  /** Which exporter sends the spans (for the start-up log). */
  exporter: string;
  /** Export what is buffered and stop; call before the process exits. */
  shutdown(): Promise<void>;
}

const EXPORTERS = ["otlp", "console", "none"] as const;

/**
 * The exporter the variables ask for, or undefined when tracing is off: OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none turn it off; OTEL_TRACES_EXPORTER=otlp|console or an OTLP endpoint
 * (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) turn it on. Unlike the SDK's own
 * default (otlp to localhost:4318), nothing set means off: a server should not send spans to a
 * collector nobody configured.
 */
export function tracesExporter(env: Env): "otlp" | "console" | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  const names = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  for (const name of names) {
    if (!(EXPORTERS as readonly string[]).includes(name)) {
      throw new Error(
        `OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER} names an exporter this runtime does not have; use otlp, console or none`,
      );
    }
  }
  if (names.includes("none")) return undefined;
  if (names.includes("otlp")) return "otlp";
  if (names.includes("console")) return "console";
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return "otlp";
  return undefined;
}

/**
 * Registers a global tracer provider (with the AsyncLocalStorage context manager and the W3C trace
 * context propagator) when the variables ask for tracing; undefined when they do not. The OTLP
 * exporter (HTTP) reads its endpoint, headers and timeout from the OTEL_EXPORTER_OTLP_* variables, the
 * sampler from OTEL_TRACES_SAMPLER, the batch sizes from OTEL_BSP_*.
 */
export async function startTracing(
  env: Env,
  service: { version: string; role: string },
): Promise<Tracing | undefined> {
  const exporterName = tracesExporter(env);
  if (!exporterName) return undefined;
  const [
    { NodeTracerProvider },
    { BatchSpanProcessor, ConsoleSpanExporter },
    { detectResources, envDetector, resourceFromAttributes },
  ] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/resources"),
  ]);
  const exporter =
    exporterName === "otlp"
      ? new (await import("@opentelemetry/exporter-trace-otlp-http")).OTLPTraceExporter()
      : new ConsoleSpanExporter();
  const provider = new NodeTracerProvider({
    // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME (the env detector) win over these defaults.
    resource: resourceFromAttributes({
      "service.name": env.AAT_SERVICE_NAME || "aat",
      "service.version": service.version,
      "aat.role": service.role,
    }).merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  return { exporter: exporterName, shutdown: () => provider.shutdown() };
}
