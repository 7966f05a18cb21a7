import type { z } from "zod";
import { ToolError } from "../../errors.js";
import type { SecretRedactor } from "./redact.js";
import type { ReceivedResponse } from "./transport.js";

export type ParsedBody =
  | { type: "empty"; body: null }
  | { type: "json"; body: z.core.util.JSONType }
  | { type: "text"; body: string }
  | { type: "base64"; body: string };

/**
 * The body as the caller asked for it: `json` (parsed, or a non-retryable error), `text`, or `auto`
 * (JSON when the content type says so and it parses, text for textual types, base64 for the rest).
 * Secret values are masked in whatever comes back.
 */
export function parseBody(
  response: ReceivedResponse,
  method: string,
  wanted: "auto" | "json" | "text",
  redactor: SecretRedactor,
): ParsedBody {
  if (method === "HEAD" || response.body.length === 0) return { type: "empty", body: null };
  const contentType = response.headers["content-type"]?.toLowerCase() ?? "";
  const text = () => redactor.text(decodeText(response.body, contentType));
  if (wanted === "text") return { type: "text", body: text() };
  const looksJson = /[/+]json\b/.test(contentType);
  if (wanted === "json" || looksJson) {
    try {
      return {
        type: "json",
        body: redactor.json(JSON.parse(decodeText(response.body, contentType)) as z.core.util.JSONType),
      };
    } catch {
      if (wanted === "json") {
        throw new ToolError(
          `the response (status ${response.status}, ${contentType || "no content type"}) is not JSON: ${text().slice(0, 200)}`,
          { code: "response_not_json", retryable: false },
        );
      }
      return { type: "text", body: text() };
    }
  }
  if (isTextual(contentType)) return { type: "text", body: text() };
  return { type: "base64", body: redactor.bytes(response.body).toString("base64") };
}

function isTextual(contentType: string): boolean {
  if (contentType === "") return true;
  return (
    contentType.startsWith("text/") ||
    /[/+](xml|javascript|ecmascript|x-www-form-urlencoded|yaml|csv)\b/.test(contentType) ||
    contentType.includes("charset=")
  );
}

function decodeText(body: Buffer, contentType: string): string {
  const charset = /charset="?([^";\s]+)/.exec(contentType)?.[1];
  if (charset) {
    try {
      return new TextDecoder(charset).decode(body);
    } catch {
      // An unknown charset label: UTF-8 is the best guess the web has.
    }
  }
  return new TextDecoder("utf-8").decode(body);
}
