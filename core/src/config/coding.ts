import * as z from "zod/mini";
import { setting, text } from "./meta.js";
import { configSection } from "./section.js";

/**
 * The `coding` section: repository workspaces, the indexer's limits, git sources and the optional
 * test command (docs/workflows-coding.md). Every repository lives under `workspaceRoot`; paths that
 * would leave it (.., absolute paths, symbolic links out) are refused.
 */

const git = configSection("coding.git", () =>
  z.strictObject({
    enabled: setting(z._default(z.boolean(), true), {
      env: "AAT_CODING_GIT_ENABLED",
      description:
        "Allow repositories added from a git URL (cloned with the system git into the workspace root). Local paths are always allowed.",
    }),
    schemes: setting(
      z._default(z.array(z.enum(["https", "ssh", "git", "file"])).check(z.minLength(1)), ["https", "ssh"]),
      {
        env: "AAT_CODING_GIT_SCHEMES",
        description:
          "URL schemes git sources may use (`user@host:path` counts as ssh). `file` lets callers clone any repository on this machine's disk: only for a single user or tests.",
        example: "https,ssh",
      },
    ),
    allowedHosts: setting(
      z._default(z.array(text()), ["github.com", "gitlab.com", "bitbucket.org", "codeberg.org"]),
      {
        env: "AAT_CODING_GIT_ALLOWED_HOSTS",
        description:
          "Hosts git URLs may name: exact names or `*.example.com` wildcards; `*` allows any host (the server then fetches from wherever a caller points it, internal hosts included). Not checked for file URLs.",
        example: "github.com,git.example.com",
      },
    ),
  }),
);

const runTests = configSection("coding.runTests", () =>
  z.strictObject({
    command: setting(z._default(z.array(text()), []), {
      env: "AAT_CODING_RUN_TESTS_COMMAND",
      description:
        "The test command code.run_tests runs in a repository's working tree, as an argument vector (no shell). Empty (the default) means there is no code.run_tests tool. RISK: the command runs the repository's own code (its tests, build scripts, package hooks) with this server's user and network: configure it only for repositories you trust, or run the server in a sandbox.",
      example: '["npm","test"]',
    }),
    timeoutMs: setting(
      z._default(z.number().check(z.int(), z.minimum(1000), z.maximum(3_600_000)), 300_000),
      {
        env: "AAT_CODING_RUN_TESTS_TIMEOUT_MS",
        description: "The test command is killed (its whole process group) after this long.",
      },
    ),
    requireApproval: setting(z._default(z.boolean(), true), {
      env: "AAT_CODING_RUN_TESTS_REQUIRE_APPROVAL",
      description:
        "Ask a person before each test run (code.run_tests is a dangerous tool unless this is false).",
    }),
  }),
);

export const codingSection = configSection("coding", () =>
  z.strictObject({
    enabled: setting(z._default(z.boolean(), true), {
      env: "AAT_CODING_ENABLED",
      description:
        "Offer the coding workflow on the Node runtime: the code.* tools and /v1/coding. The serverless runtimes leave it off (the tree-sitter grammars are 22 MB).",
    }),
    workspaceRoot: setting(z.optional(text()), {
      env: "AAT_CODING_WORKSPACE_ROOT",
      description:
        "Directory holding every repository: git sources are cloned into it, and local sources must lie inside it (after resolving symbolic links). Default `<dataDir>/workspaces`; point it at the folder of your checkouts to index them in place.",
      path: true,
      example: "/srv/checkouts",
    }),
    maxFileBytes: setting(
      z._default(z.number().check(z.int(), z.minimum(1024), z.maximum(64 * 1024 * 1024)), 1024 * 1024),
      {
        env: "AAT_CODING_MAX_FILE_BYTES",
        description: "Files larger than this are not indexed (nor searched, nor listed by code.tree).",
      },
    ),
    git,
    runTests,
  }),
);

export type CodingConfig = z.output<typeof codingSection>;
