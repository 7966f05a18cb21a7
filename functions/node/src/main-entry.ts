import { ConfigError, loadConfig } from "@aat/core";
import {
  type NodeRuntime,
  type NodeRuntimeOptions,
  RUNTIME_VERSION,
  type RuntimeRole,
  startNodeRuntime,
} from "./runtime.js";
import { startTracing, type Tracing } from "./tracing.js";

const ROLES: readonly RuntimeRole[] = ["api", "worker", "all"];

export interface MainOptions extends Partial<Omit<NodeRuntimeOptions, "config" | "role">> {
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
}

/**
 * The process entry point: read the configuration (environment and optional AAT_CONFIG file), start
 * the runtime, and shut it down gracefully on SIGTERM or SIGINT, exiting 0. A configuration error
 * prints every bad key and exits 2; any other start-up failure prints its reason and exits 1.
 */
export async function runMain(options: MainOptions = {}): Promise<NodeRuntime | undefined> {
  const argv = options.argv ?? process.argv.slice(2);
  const role = parseRole(argv);
  if (role instanceof Error) return fail(role.message, 2);

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({
      ...(options.env ? { env: options.env } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
  } catch (error) {
    if (error instanceof ConfigError) return fail(`aat cannot start. ${error.message}`, 2);
    throw error;
  }
  for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`);

  // Before the runtime starts, so its first request and its start-up reconciliation are traced too.
  let tracing: Tracing | undefined;
  try {
    tracing = await startTracing(options.env ?? process.env, {
      version: RUNTIME_VERSION,
      role: role ?? config.config.server.role,
    });
  } catch (error) {
    return fail(`aat cannot start. ${error instanceof Error ? error.message : String(error)}`, 2);
  }

  let runtime: NodeRuntime;
  try {
    runtime = await startNodeRuntime({
      ...options,
      config: config.config,
      ...(role ? { role } : {}),
      ...(options.env ? { env: options.env } : {}),
      // The caller may have registered a provider of its own (tests use an in-memory exporter).
      tracing: options.tracing === true || tracing !== undefined,
    });
  } catch (error) {
    await tracing?.shutdown().catch(() => undefined);
    return fail(`aat could not start: ${error instanceof Error ? error.message : String(error)}`, 1);
  }
  if (tracing) runtime.logger.info({ exporter: tracing.exporter }, "tracing is on");
  const stop = async () => {
    await runtime.stop();
    // Export the last spans (the shutdown's own included) before the process exits.
    await tracing?.shutdown();
  };

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`${signal} again: exiting without waiting for in-flight work\n`);
      process.exit(1);
    }
    runtime.logger.info({ signal }, `${signal} received`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return runtime;
}

function parseRole(argv: readonly string[]): RuntimeRole | undefined | Error {
  const index = argv.findIndex((arg) => arg === "--role" || arg.startsWith("--role="));
  if (index === -1) return undefined;
  const arg = argv[index]!;
  const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[index + 1];
  if (value !== undefined && (ROLES as readonly string[]).includes(value)) return value as RuntimeRole;
  return new Error(
    `--role ${value ?? "(missing)"} is not a role; use --role api, --role worker or --role all (or AAT_SERVER_ROLE)`,
  );
}

function fail(message: string, code: number): undefined {
  process.stderr.write(`${message}\n`);
  process.exitCode = code;
  return undefined;
}
