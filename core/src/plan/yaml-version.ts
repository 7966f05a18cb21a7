import { createHash } from "node:crypto";
import { isMap, isScalar, parseDocument } from "yaml";
import { keyText } from "./yaml-locate.js";

/**
 * The YAML text with its top-level `version` set to `version`, touching nothing else: the value is
 * replaced in place, or a `version:` line is added after `id:` when the file has none.
 */
export function withVersion(text: string, version: number): string {
  const doc = parseDocument(text, { uniqueKeys: false });
  const root = doc.contents;
  if (!isMap(root) || root.flow) {
    doc.set("version", version);
    return doc.toString();
  }
  const pairs = root.items;
  const existing = [...pairs].reverse().find((p) => keyText(p.key) === "version");
  if (existing && isScalar(existing.value) && existing.value.range) {
    const [start, end] = existing.value.range;
    return text.slice(0, start) + String(version) + text.slice(end);
  }
  const idPair = pairs.find((p) => keyText(p.key) === "id");
  const anchor = idPair ?? pairs[0];
  if (!anchor || !isScalar(anchor.key) || !anchor.key.range) {
    doc.set("version", version);
    return doc.toString();
  }
  const keyStart = anchor.key.range[0];
  const lineStart = text.lastIndexOf("\n", keyStart - 1) + 1;
  const indent = text.slice(lineStart, keyStart);
  const valueEnd = isScalar(anchor.value) && anchor.value.range ? anchor.value.range[1] : anchor.key.range[1];
  const lineEnd = text.indexOf("\n", valueEnd);
  const line = `${indent}version: ${version}`;
  if (lineEnd === -1) return `${text}\n${line}\n`;
  return `${text.slice(0, lineEnd + 1)}${line}\n${text.slice(lineEnd + 1)}`;
}

/** Identity of a plan's content, ignoring its `version` field (which publishing assigns). */
export function planContentHash(text: string): string {
  return createHash("sha256").update(withVersion(text, 0)).digest("hex");
}
