import { describe, expect, it } from "vitest";
import {
  configSettings,
  httpUrl,
  mapKeyName,
  nonNegativeInt,
  positiveInt,
  setting,
  text,
} from "../../src/config/meta.js";
import { configFields } from "../../src/config/schema.js";

describe("shared value schemas of the configuration", () => {
  const shared = { positiveInt, nonNegativeInt, text, httpUrl, mapKeyName };

  it("are built once", () => {
    for (const make of Object.values(shared)) expect(make()).toBe(make());
  });

  it("never carry a setting's metadata: setting() registers a copy", () => {
    const a = setting(text(), { description: "first" });
    const b = setting(text(), { description: "second" });
    expect(a).not.toBe(text());
    expect(configSettings.get(a)?.description).toBe("first");
    expect(configSettings.get(b)?.description).toBe("second");
    for (const make of Object.values(shared)) expect(configSettings.get(make())).toBeUndefined();
    // The copy validates as the shared schema does.
    expect(a.safeParse("").success).toBe(false);
    expect(a.safeParse("x").success).toBe(true);
  });

  it("keep their checks", () => {
    expect(positiveInt().safeParse(0).success).toBe(false);
    expect(positiveInt().safeParse(1.5).success).toBe(false);
    expect(nonNegativeInt().safeParse(0).success).toBe(true);
    expect(httpUrl().safeParse("ftp://x.example").success).toBe(false);
    expect(httpUrl().safeParse("https://x.example").success).toBe(true);
    expect(mapKeyName().safeParse("Bad").success).toBe(false);
    expect(configFields.safeParse({}).success).toBe(true);
  });
});
