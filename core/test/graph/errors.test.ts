import { describe, expect, it } from "vitest";
import { z } from "zod";
import * as zm from "zod/mini";
import { StepFailure, toStepError } from "../../src/graph/errors.js";

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("nothing thrown");
}

describe("toStepError", () => {
  const expected = {
    message: "invalid value: to[0]: Invalid input: expected string, received number",
    code: "validation",
    retryable: false,
    details: [{ path: ["to", "0"], message: "Invalid input: expected string, received number" }],
  };

  it("reports a classic zod error as a validation failure naming the field", () => {
    const error = thrown(() => z.object({ to: z.array(z.string()) }).parse({ to: [1] }));
    expect(toStepError(error)).toEqual(expected);
  });

  it("reports a zod/mini error the same way", () => {
    const schema = zm.object({ to: zm.array(zm.string()) });
    expect(toStepError(thrown(() => schema.parse({ to: [1] })))).toEqual(expected);
    expect(toStepError(thrown(() => zm.parse(schema, { to: [1] })))).toEqual(expected);
  });

  it("keeps a StepFailure's code and an Error's message", () => {
    expect(toStepError(new StepFailure("no", { code: "x", retryable: false }))).toMatchObject({
      message: "no",
      code: "x",
      retryable: false,
    });
    expect(toStepError(new Error("boom"))).toMatchObject({ message: "boom" });
  });
});
