import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("./fixtures/tools-without-classic-zod.ts", import.meta.url));
const root = fileURLToPath(new URL("../../..", import.meta.url));

describe("built-in tools on zod/mini, in a process where classic zod built nothing", () => {
  it("word input errors in English and parse JSON with a reference cycle as classic zod does", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", script], {
      cwd: root,
    });
    const result = JSON.parse(stdout);
    // Nothing had set them: the tools' modules did (zod/mini alone sets neither).
    expect(result.before).toEqual({ locale: false, memoizer: false });
    expect(result.question).toEqual(["Invalid input: expected string, received number"]);
    expect(result.limit).toEqual(["Too small: expected number to be >=1"]);
    expect(result.cyclic).toBe(true);
  });
});
