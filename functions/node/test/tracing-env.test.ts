import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
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

  it("registers a global tracer provider only when on, which sends spans to the OTLP endpoint", async () => {
    expect(await startTracing({}, { version: "0.0.0", role: "all" })).toBeUndefined();
    expect(trace.getTracer("probe").startSpan("x").isRecording()).toBe(false);

    const received: Array<{ path: string; body: string }> = [];
    const collector = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += String(chunk);
      });
      request.on("end", () => {
        received.push({ path: request.url ?? "", body });
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const { port } = collector.address() as AddressInfo;
    // The exporter and the resource detector read process.env, as in a real start.
    const saved = { ...process.env };
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_SERVICE_NAME: "aat-test-service",
    });
    try {
      const tracing = await startTracing(process.env, { version: "1.2.3", role: "worker" });
      expect(tracing?.exporter).toBe("otlp");
      const span = trace.getTracer("probe").startSpan("probe-span");
      expect(span.isRecording()).toBe(true);
      span.end();
      await tracing!.shutdown();
    } finally {
      process.env = saved;
      collector.close();
    }
    expect(received.map((request) => request.path)).toEqual(["/v1/traces"]);
    const body = received[0]!.body;
    expect(body).toContain('"name":"probe-span"');
    expect(body).toContain('"stringValue":"aat-test-service"');
    expect(body).toContain('"stringValue":"worker"');
  });
});
