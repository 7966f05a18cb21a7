import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AlertMappingError, MAPPERS } from "../../../src/workflows/alerts/index.js";

const sample = (format: string) =>
  JSON.parse(readFileSync(new URL(`../../../../examples/alerts/${format}.json`, import.meta.url), "utf8"));

// biome-ignore lint/suspicious/noExplicitAny: the samples are edited loosely to cut one field.
type Loose = Record<string, any>;

/** Each format with a field its mapper cannot do without, and the path the 422 must name. */
const MISSING: Array<[keyof typeof MAPPERS, (p: Loose) => void, string]> = [
  ["generic", (p) => delete p.title, "title"],
  ["alertmanager", (p) => delete p.alerts[1].startsAt, "alerts[1].startsAt"],
  ["guardduty", (p) => delete p.detail.id, "detail.id"],
  ["wazuh", (p) => delete p.rule.level, "rule.level"],
  ["elastic", (p) => delete p.alerts, "alerts"],
  ["splunk", (p) => delete p.result, "result"],
  ["falco", (p) => delete p.priority, "priority"],
  ["suricata", (p) => delete p.alert.signature, "alert.signature"],
];

describe("alert mappers", () => {
  for (const [format, cut, path] of MISSING) {
    it(`${format}: a payload without ${path} is refused naming it`, () => {
      const payload = sample(format);
      cut(payload);
      let error: unknown;
      try {
        MAPPERS[format](payload, 0);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AlertMappingError);
      expect((error as AlertMappingError).path).toBe(path);
    });
  }

  it("batches yield one alert per item and keep unknown fields in raw", () => {
    expect(MAPPERS.alertmanager(sample("alertmanager"), 0)).toHaveLength(2);
    expect(MAPPERS.splunk(sample("splunk"), 0)).toHaveLength(1);
    expect(MAPPERS.splunk(sample("splunk-results"), 0)).toHaveLength(2);
    const [generic] = MAPPERS.generic(sample("generic"), 0);
    expect((generic!.raw as { tenant: string }).tenant).toBe("acme");
  });

  it("observables are typed and checked: ports stripped, bad values dropped, hash algorithm named", () => {
    const [a] = MAPPERS.generic(
      {
        title: "t",
        observables: [
          { type: "ip", value: "192.0.2.1:443" },
          { type: "ip", value: "not-an-ip" },
          { type: "hash", value: "D41D8CD98F00B204E9800998ECF8427E" },
          { type: "domain", value: "Example.COM." },
        ],
      },
      0,
    );
    expect(a!.observables.map((o) => [o.type, o.value, o.algorithm])).toEqual([
      ["ip", "192.0.2.1", undefined],
      ["hash", "d41d8cd98f00b204e9800998ecf8427e", "md5"],
      ["domain", "example.com", undefined],
    ]);
  });

  it("splunk: the documented payload of a search that is not saved (search_name null) is named after its sid", () => {
    const payload = { ...sample("splunk"), search_name: null };
    const [a] = MAPPERS.splunk(payload, 0);
    expect(a!.title).toBe(`Splunk search ${payload.sid}`);
    expect(a!.src_url).toBe(payload.results_link);
    expect((a!.raw as { _envelope: { search_name: unknown } })._envelope.search_name).toBeNull();
  });
});
