import { readFileSync } from "node:fs";
import { isMap, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import {
  type AwsDeploy,
  type AzureDeploy,
  type DeployConfig,
  type DeployTarget,
  deployConfigSchema,
  type GcpDeploy,
  type OnpremDeploy,
} from "./schema.js";

export interface DeployConfigProblem {
  /** Dotted key, e.g. `aws.queue.batchSize`. */
  key: string;
  /** 1-based position in the file, when the file has the key (or its nearest parent). */
  line?: number;
  column?: number;
  problem: string;
}

/** A deploy configuration that cannot be used: every problem with its key and place, then how to fix it. */
export class DeployConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly DeployConfigProblem[],
  ) {
    super(
      [
        `${file} is not a valid deploy configuration:`,
        ...problems.map((p) => `  ${file}${p.line ? `:${p.line}:${p.column}` : ""} ${p.key}: ${p.problem}`),
        "Fix the keys above; docs/deploy-config.md describes every key and deploy.config.example.yaml shows one that works.",
      ].join("\n"),
    );
    this.name = "DeployConfigError";
  }
}

/** Where the IaC apps look for the file: AAT_DEPLOY_CONFIG, else deploy.config.yaml in the working directory. */
export function deployConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.AAT_DEPLOY_CONFIG ?? "deploy.config.yaml";
}

export function loadDeployConfig(path: string = deployConfigPath()): DeployConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DeployConfigError(path, [
      {
        key: "(file)",
        problem:
          code === "ENOENT"
            ? "not found; copy deploy.config.example.yaml to deploy.config.yaml or set AAT_DEPLOY_CONFIG"
            : `cannot be read (${code ?? String(error)})`,
      },
    ]);
  }
  return parseDeployConfig(text, path);
}

/** Parses and checks YAML (or JSON) text; `file` names it in errors. */
export function parseDeployConfig(text: string, file = "deploy.config.yaml"): DeployConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const syntax = doc.errors[0];
  if (syntax) {
    const at = syntax.linePos?.[0];
    throw new DeployConfigError(file, [
      {
        key: "(file)",
        ...(at ? { line: at.line, column: at.col } : {}),
        problem: `not valid YAML (${syntax.code})`,
      },
    ]);
  }
  const parsed = deployConfigSchema.safeParse(doc.toJS() ?? {});
  if (parsed.success) return parsed.data;
  throw new DeployConfigError(
    file,
    parsed.error.issues.map((issue) => locate(issue, doc, lines)),
  );
}

function locate(
  issue: z.core.$ZodIssue,
  doc: ReturnType<typeof parseDocument>,
  lines: LineCounter,
): DeployConfigProblem {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
  const key = [...path, ...keys.slice(0, 1)].join(".") || "(top level)";
  const problem =
    issue.code === "unrecognized_keys"
      ? `unknown key${keys.length > 1 ? `s ${keys.join(", ")}` : ""}; check its spelling and section`
      : issue.message;
  // Point at the deepest node that exists: the value itself, or the mapping a missing key belongs in.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const offset = (node as { range?: [number, number] } | undefined)?.range?.[0];
    if (offset !== undefined && (depth > 0 || isMap(node))) {
      const { line, col } = lines.linePos(offset);
      return { key, line, column: col, problem };
    }
  }
  return { key, problem };
}

type Section = { aws: AwsDeploy; gcp: GcpDeploy; azure: AzureDeploy; onprem: OnpremDeploy };

/** The config with the target's section required: a missing section is a clear error, not an undefined. */
export function forTarget<T extends DeployTarget>(
  config: DeployConfig,
  target: T,
  file = deployConfigPath(),
): DeployConfig & { [K in T]: Section[T] } {
  if (!config[target]) {
    const hint: Record<DeployTarget, string> = {
      aws: "aws: { region: eu-west-1 }",
      gcp: "gcp: { project: my-project, region: europe-west1 }",
      azure: "azure: { location: westeurope }",
      onprem: "onprem: {}",
    };
    throw new DeployConfigError(file, [
      {
        key: target,
        problem: `missing: deploying to ${target} needs this section, e.g. \`${hint[target]}\``,
      },
    ]);
  }
  return config as DeployConfig & { [K in T]: Section[T] };
}

/** `<name>-<environment>`: the prefix of every resource name. */
export function resourcePrefix(config: Pick<DeployConfig, "name" | "environment">): string {
  return `${config.name}-${config.environment}`;
}
