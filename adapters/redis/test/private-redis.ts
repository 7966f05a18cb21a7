import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "@aat/core/testing";

/**
 * Throwaway redis-server processes on loopback for what the shared server cannot show (TLS, a cluster):
 * started from the installed binary in a temp directory, no persistence, stopped and removed by `stop`.
 */
export class PrivateRedis {
  private readonly processes: ChildProcess[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), "aat-redis-"));

  static requireBinaries(...names: string[]): void {
    for (const name of names) {
      try {
        execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
      } catch {
        throw new Error(
          `${name} is not installed; these tests start their own loopback Redis servers (apt-get install redis-server openssl)`,
        );
      }
    }
  }

  /** Starts one redis-server with `args` and resolves once `port` accepts connections. */
  async start(port: number, args: string[]): Promise<void> {
    const nodeDir = join(this.dir, String(port));
    execFileSync("mkdir", ["-p", nodeDir]);
    const child = spawn(
      "redis-server",
      [
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        nodeDir,
        "--port",
        String(port),
        ...args,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    this.processes.push(child);
    try {
      await eventually(
        `redis-server on 127.0.0.1:${port} to accept connections`,
        async () => ((await portOpen(port)) ? true : undefined),
        15_000,
        50,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; its stderr: ${stderr || "(empty)"}`);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.processes.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A loopback port free at the time of asking. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("could not pick a free port");
  return address.port;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}
