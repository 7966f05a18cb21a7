import { trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { startTracing, tracesExporter } from "../src/tracing.js";

describe("tracing from the OTEL_* variables", () => {
  it("is off unless an exporter or an OTLP endpoint is named", () => {
    expect(tracesExporter({})).toBeUndefined();
    expect(tracesExporter({ OTEL_SERVICE_NAME: "aat" })).toBeUndefined();
    expect(tracesExporter({ OTEL_TRACES_EXPORTER: "otlp" })).toBe("otlp");
    expect(tracesExporter({ OTEL_TRACES_EXPORTER: " Console " })).toBe("console");
    expect(tracesExporter({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe("otlp");
    expect(tracesExporter({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" })).toBe(
      "otlp",
    );
    expect(
      tracesExporter({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }),
    ).toBeUndefined();
    expect(
      tracesExporter({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }),
    ).toBeUndefined();
  });

  it("names the exporters it has when asked for another", () => {
    expect(() => tracesExporter({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(
      /OTEL_TRACES_EXPORTER=zipkin .* use otlp, console or none/,
    );
  });

  it("registers a global tracer provider only when on", async () => {
    expect(await startTracing({}, { version: "0.0.0", role: "all" })).toBeUndefined();
    expect(trace.getTracer("probe").startSpan("x").isRecording()).toBe(false);
    const tracing = await startTracing(
      { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" },
      { version: "0.0.0", role: "all" },
    );
    expect(tracing?.exporter).toBe("otlp");
    const span = trace.getTracer("probe").startSpan("x");
    expect(span.isRecording()).toBe(true);
    // Nothing listens on port 9: shutdown gives up on the export instead of hanging the test.
    await tracing!.shutdown().catch(() => undefined);
  });
});
