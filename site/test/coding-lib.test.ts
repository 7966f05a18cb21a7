import { describe, expect, it } from "vitest";
import { type AddForm, identifierAt, validateAddForm } from "../src/lib/coding.js";

const form = (over: Partial<AddForm>): AddForm => ({
  id: "shop",
  kind: "local",
  path: "shop",
  url: "",
  ref: "",
  ...over,
});

describe("the Coding page's add form check", () => {
  it("accepts a local directory and a git URL with a branch", () => {
    expect(validateAddForm(form({}))).toEqual({});
    expect(validateAddForm(form({ kind: "git", url: "https://github.com/o/r.git", ref: "main" }))).toEqual(
      {},
    );
    expect(validateAddForm(form({ kind: "git", url: "git@github.com:o/r.git" }))).toEqual({});
  });

  it("names each missing or malformed field", () => {
    expect(validateAddForm(form({ id: "", path: "" }))).toEqual({
      id: expect.stringMatching(/Give the repository an id/),
      path: expect.stringMatching(/workspace root/),
    });
    expect(validateAddForm(form({ id: "-bad id" })).id).toMatch(/letters, digits/);
    expect(validateAddForm(form({ kind: "git", url: "" })).url).toMatch(/Give a git URL/);
    expect(validateAddForm(form({ kind: "git", url: "ftp://host/r.git" })).url).toMatch(/https:\/\/ or ssh/);
    expect(validateAddForm(form({ kind: "git", url: "https://h/r", ref: "x".repeat(251) })).ref).toMatch(
      /250/,
    );
  });
});

describe("identifierAt", () => {
  const line = "  const total = cartTotal(items);";
  it("finds the name around an offset, at its start, middle and end", () => {
    const start = line.indexOf("cartTotal");
    expect(identifierAt(line, start)).toBe("cartTotal");
    expect(identifierAt(line, start + 4)).toBe("cartTotal");
    expect(identifierAt(line, start + "cartTotal".length)).toBe("cartTotal");
    expect(identifierAt("a $el_1 b", 3)).toBe("$el_1");
  });

  it("is undefined on spaces, punctuation and numbers", () => {
    expect(identifierAt(line, 0)).toBeUndefined();
    expect(identifierAt(line, line.indexOf("=") + 1)).toBeUndefined();
    expect(identifierAt("x = 42;", 5)).toBeUndefined();
  });
});
