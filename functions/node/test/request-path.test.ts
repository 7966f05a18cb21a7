import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { requestPath } from "../src/request-path.js";

describe("requestPath", () => {
  it("gives URL.pathname for the URLs the runtime sees", () => {
    for (const url of [
      "http://127.0.0.1:8080/v1/hooks/abc",
      "http://localhost/",
      "http://localhost",
      "https://example.com/v1?x=/y",
      "http://h:1/metrics?format=text#frag",
      "http://h/a#b?c",
      "http://h/%7Euser/a%20b",
      "http://[::1]:3000/healthz",
      "http://h/a/../v1/runs",
      "http://h/./v1//runs/",
    ]) {
      const href = new URL(url).href;
      expect(requestPath(href), href).toBe(new URL(href).pathname);
    }
  });

  it("agrees with URL.pathname on generated normalised URLs", () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9._~%:@!$&'()*+,;=-]{0,12}$/);
    fc.assert(
      fc.property(
        fc.constantFrom("http", "https"),
        fc.constantFrom("localhost", "127.0.0.1:8080", "[::1]:3000", "example.com"),
        fc.array(segment, { maxLength: 5 }),
        fc.option(fc.string({ maxLength: 12 })),
        fc.option(fc.string({ maxLength: 8 })),
        (scheme, host, segments, query, fragment) => {
          let raw = `${scheme}://${host}/${segments.join("/")}`;
          if (query !== null) raw += `?${query}`;
          if (fragment !== null) raw += `#${fragment}`;
          let href: string;
          try {
            href = new URL(raw).href;
          } catch {
            return;
          }
          expect(requestPath(href)).toBe(new URL(href).pathname);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
