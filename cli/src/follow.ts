import type { AatClient, RunStatus, RunStreamItem } from "@aat/sdk";
import spinners from "cli-spinners";
import logUpdate from "log-update";
import type { Colors } from "./output.js";
import { formatDuration } from "./output.js";

type StepStatus = "running" | "succeeded" | "failed" | "skipped" | "waiting" | "timed out" | "retrying";

interface StepView {
  key: string;
  status: StepStatus;
  attempt: number;
  startedAt: number;
  finishedAt?: number;
  note?: string;
  timer?: boolean;
}

export interface FollowResult {
  status: RunStatus;
  output?: unknown;
  error?: unknown;
}

/** What a run's events say about its steps, kept in arrival order. */
class RunView {
  readonly steps = new Map<string, StepView>();

  apply(event: Record<string, unknown>): string | undefined {
    const type = String(event.type);
    const key = typeof event.key === "string" ? event.key : undefined;
    const at = typeof event.at === "number" ? event.at : Date.now();
    const attempt = typeof event.attempt === "number" ? event.attempt : 1;
    if (type === "timer.fired") return this.timerFired(String(event.timerId ?? ""), at);
    if (!key)
      return type === "run.cancelled" ? `run cancelled${event.reason ? `: ${event.reason}` : ""}` : undefined;
    const step = this.steps.get(key) ?? { key, status: "running" as StepStatus, attempt, startedAt: at };
    this.steps.set(key, step);
    step.attempt = attempt;
    switch (type) {
      case "step.started":
        step.status = "running";
        step.startedAt = step.startedAt ?? at;
        delete step.note;
        return `step ${key}: started (attempt ${attempt})`;
      case "step.succeeded":
        step.status = "succeeded";
        step.finishedAt = at;
        return `step ${key}: succeeded`;
      case "step.skipped":
        step.status = "skipped";
        step.finishedAt = at;
        return `step ${key}: skipped`;
      case "step.failed": {
        const message = (event.error as { message?: string } | undefined)?.message ?? "failed";
        const retryable = (event.error as { retryable?: boolean } | undefined)?.retryable;
        step.status = retryable ? "retrying" : "failed";
        step.note = message;
        if (!retryable) step.finishedAt = at;
        return `step ${key}: failed (attempt ${attempt}): ${message}`;
      }
      case "step.timed_out":
        step.status = "timed out";
        step.finishedAt = at;
        return `step ${key}: timed out (attempt ${attempt})`;
      case "step.suspended": {
        const suspension = event.suspension as { kind?: string; until?: number } | undefined;
        step.status = "waiting";
        if (suspension?.kind === "timer") step.timer = true;
        step.note =
          suspension?.kind === "approval"
            ? "waiting for approval"
            : suspension?.kind === "timer"
              ? "waiting for a timer"
              : `waiting (${suspension?.kind ?? "?"})`;
        return `step ${key}: ${step.note}`;
      }
      case "approval.granted":
      case "approval.denied":
        step.status = "running";
        step.note = type === "approval.granted" ? `approved by ${event.by}` : `rejected by ${event.by}`;
        return `step ${key}: ${step.note}`;
      case "step.progress":
        return undefined;
      default:
        return `step ${key}: ${type}`;
    }
  }

  /** A wait step's timer (id `wait:<key>:<attempt>`) fired: the wait is over, no other event says so. */
  private timerFired(timerId: string, at: number): string | undefined {
    for (const step of this.steps.values()) {
      if (step.timer && step.status === "waiting" && timerId.includes(`:${step.key}:`)) {
        step.status = "succeeded";
        step.finishedAt = at;
        delete step.note;
        delete step.timer;
        return `step ${step.key}: timer fired`;
      }
    }
    return undefined;
  }
}

const SYMBOLS: Record<StepStatus, string> = {
  running: "",
  retrying: "↻",
  succeeded: "✔",
  failed: "✖",
  skipped: "↷",
  waiting: "⏸",
  "timed out": "⧗",
};

/**
 * Follows a run over SSE until its stream ends. In a terminal it redraws a step list (spinner and
 * status per step, elapsed time, attempts); otherwise it prints one plain line per event.
 */
export async function followRun(
  client: AatClient,
  runId: string,
  options: { tty: boolean; colors: Colors; quiet?: boolean; signal?: AbortSignal },
): Promise<FollowResult> {
  const { colors } = options;
  const view = new RunView();
  const started = Date.now();
  const spinner = spinners.dots;
  let frame = 0;
  let headline = `run ${runId}`;
  const render = () => {
    const lines = [`${colors.bold(headline)} ${colors.dim(formatDuration(Date.now() - started))}`];
    for (const step of view.steps.values()) {
      const symbol =
        step.status === "running"
          ? colors.cyan(spinner.frames[frame % spinner.frames.length] ?? "-")
          : paint(step.status, SYMBOLS[step.status], colors);
      const elapsed = formatDuration((step.finishedAt ?? Date.now()) - step.startedAt);
      const attempt = step.attempt > 1 ? colors.yellow(` attempt ${step.attempt}`) : "";
      const note = step.note ? colors.dim(` ${step.note}`) : "";
      lines.push(
        `  ${symbol} ${step.key}  ${paint(step.status, step.status, colors)} ${colors.dim(elapsed)}${attempt}${note}`,
      );
    }
    return lines.join("\n");
  };
  const live = options.tty && !options.quiet;
  // A pseudo-terminal nobody sized reports 0 columns and rows; log-update would then draw nothing.
  if (live && !process.stdout.columns) process.stdout.columns = 100;
  if (live && !process.stdout.rows) process.stdout.rows = 40;
  const timer = live
    ? setInterval(() => {
        frame++;
        logUpdate(render());
      }, spinner.interval)
    : undefined;
  let end: Extract<RunStreamItem, { kind: "end" }> | undefined;
  try {
    for await (const item of client.runEvents(runId, {
      ...(options.signal ? { signal: options.signal } : {}),
      onReconnect: (info) => {
        const line = `connection lost; reconnecting after event ${info.lastEventId ?? "0"} in ${formatDuration(info.delayMs)}`;
        if (!live && !options.quiet) console.error(line);
        else headline = `run ${runId} (${line})`;
      },
    })) {
      if (item.kind === "end") {
        end = item;
        break;
      }
      const event = item.event as Record<string, unknown>;
      if (event.type === "run.started") {
        const plan = event.plan as { id?: string; version?: number } | undefined;
        headline = `run ${runId} · ${plan?.id ?? "?"} v${plan?.version ?? "?"}`;
        if (!live && !options.quiet) console.log(`run ${runId}: started (${plan?.id} v${plan?.version})`);
        continue;
      }
      const line = view.apply(event);
      if (live) logUpdate(render());
      else if (line && !options.quiet) console.log(line);
    }
  } finally {
    if (timer) clearInterval(timer);
  }
  if (live) {
    logUpdate(render());
    logUpdate.done();
  }
  const detail = await client.api.GET("/v1/runs/{id}", {
    params: { path: { id: runId }, query: { eventsLimit: 0 } },
  });
  const run = detail.data?.run;
  const status = end?.status ?? run?.status ?? "running";
  if (!options.quiet) {
    const took = run?.finishedAt ? ` in ${formatDuration(run.finishedAt - run.startedAt)}` : "";
    console.log(`run ${runId}: ${paint(status, status, colors)}${took}`);
  }
  return {
    status,
    ...(run?.output !== undefined ? { output: run.output } : {}),
    ...(run?.error ? { error: run.error } : {}),
  };
}

function paint(status: string, text: string, colors: Colors): string {
  if (status === "succeeded") return colors.green(text);
  if (status === "failed" || status === "timed out" || status === "cancelled") return colors.red(text);
  if (status === "waiting" || status === "retrying") return colors.yellow(text);
  return colors.dim(text);
}
