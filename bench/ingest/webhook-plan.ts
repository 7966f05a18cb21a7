import type { Tool } from "@aat/core";
import { z } from "zod";
import { SECRET_NAME, TRIGGER_ID } from "./protocol.js";

/** A plan started by a signed webhook; its first step is a tool step, so a start enqueues it on NATS. */
export const WEBHOOK_PLAN = `
id: bench.hook
workflow: automation
title: Started by a signed webhook
triggers:
  - type: webhook
    id: ${TRIGGER_ID}
    secret: ${SECRET_NAME}
inputs:
  type: object
  properties: { n: { type: integer }, id: { type: string } }
  required: [n, id]
steps:
  - id: handle
    type: tool
    tool: bench.handle
    with: { n: "{% input.n %}" }
`;

export const stubTool: Tool<{ n: number }, { n: number }> = {
  name: "bench.handle",
  description: "Stub step: answers at once (the ingest bench runs no worker)",
  input: z.object({ n: z.number() }),
  output: z.object({ n: z.number() }),
  run: async (input) => input,
};
