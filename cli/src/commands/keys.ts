import { unwrap } from "@aat/sdk";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { UsageError } from "../errors.js";
import { formatTime, printJson, table } from "../output.js";
import { examples } from "../program.js";

const ROLES = ["admin", "responder", "analyst", "developer", "viewer"] as const;
type Role = (typeof ROLES)[number];

export function registerKeys(program: Command): void {
  const keys = examples(program.command("keys").description("API keys (admin): create, list, revoke."), [
    "aat keys create --name ci --role developer",
    "aat keys list",
  ]);

  examples(
    keys
      .command("create")
      .description("Create an API key; the key is printed once, store it.")
      .requiredOption("-n, --name <name>", "what the key is for")
      .requiredOption("-r, --role <role...>", `roles it grants (${ROLES.join(", ")})`)
      .option("--expires <iso>", "when it stops working (ISO 8601)")
      .action(async (options: { name: string; role: string[]; expires?: string }, command: Command) => {
        const ctx = contextOf(command);
        const unknown = options.role.filter((role) => !ROLES.includes(role as Role));
        if (unknown.length > 0)
          throw new UsageError(`unknown role ${unknown.join(", ")}; use ${ROLES.join(", ")}`);
        const client = await ctx.client();
        const created = await unwrap(
          client.api.POST("/v1/keys", {
            body: {
              name: options.name,
              roles: options.role as Role[],
              ...(options.expires ? { expiresAt: options.expires } : {}),
            },
          }),
        );
        if (ctx.json) return printJson(created);
        console.log(created.key);
        console.error(
          ctx.colors.dim(`key ${created.id} (${created.record.roles.join(", ")}): shown only this once`),
        );
      }),
    [
      "aat keys create --name ci --role developer",
      "aat keys create --name oncall --role responder viewer --json",
    ],
  );

  examples(
    keys
      .command("list")
      .description("Every API key (never the secret).")
      .action(async (_options: unknown, command: Command) => {
        const ctx = contextOf(command);
        const client = await ctx.client();
        const { keys: items } = await unwrap(client.api.GET("/v1/keys"));
        if (ctx.json) return printJson(items);
        console.log(
          table(
            ["ID", "NAME", "ROLES", "STATUS", "CREATED", "LAST USED"],
            items.map((key) => [
              key.id,
              key.name,
              key.roles.join(","),
              key.status,
              formatTime(Date.parse(key.createdAt)),
              key.lastUsedAt ? formatTime(Date.parse(key.lastUsedAt)) : "",
            ]),
            ctx.colors,
          ),
        );
      }),
    ["aat keys list", "aat keys list --json"],
  );

  examples(
    keys
      .command("revoke")
      .description("Revoke an API key at once.")
      .argument("<id>", "key id (see `aat keys list`)")
      .action(async (id: string, _options: unknown, command: Command) => {
        const ctx = contextOf(command);
        const client = await ctx.client();
        const result = await unwrap(client.api.DELETE("/v1/keys/{id}", { params: { path: { id } } }));
        if (ctx.json) return printJson(result ?? { id, revoked: true });
        console.log(`revoked key ${id}`);
      }),
    ["aat keys revoke ab12cd34"],
  );
}
