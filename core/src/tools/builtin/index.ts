import type { ToolRegistry } from "../registry.js";
import { type AlertToolsOptions, alertTools } from "./alert-tools.js";
import { type HttpRequestOptions, httpRequestTool } from "./http-request.js";
import { humanAskTool } from "./human-ask.js";
import { type NotesOptions, RunNotes } from "./notes/store.js";
import { notesGetTool } from "./notes-get.js";
import { notesListTool } from "./notes-list.js";
import { notesPutTool } from "./notes-put.js";
import { planRunTool, type StartPlanRun } from "./plan-run.js";
import { type ScriptOptions, scriptJsTool } from "./script-js.js";

export interface BuiltinToolDeps {
  /** `http.request`: the configuration's `http` section (plus an optional resolver). */
  http?: HttpRequestOptions;
  /** `notes.put` / `notes.get` / `notes.list`: the KeyValue store and limits. */
  notes?: NotesOptions;
  /** `plan.run`: the runtime passes `(request) => runner.start(request)`. */
  startRun?: StartPlanRun;
  /** `script.js` limits; the tool is always registered. */
  script?: ScriptOptions;
  /** `threatintel.*`, `notify.send`, `ticket.create`, `response.*`: their config sections and the KV store. */
  alerts?: AlertToolsOptions;
}

/**
 * Registers the built-in tools whose dependencies are given (`human.ask` and `script.js` need none)
 * and returns their names. A plan naming a tool left out gets "unknown tool" at load time.
 */
export function registerBuiltinTools(registry: ToolRegistry, deps: BuiltinToolDeps = {}): string[] {
  const before = new Set(registry.names());
  registry.register(humanAskTool());
  registry.register(scriptJsTool(deps.script));
  if (deps.http) registry.register(httpRequestTool(deps.http));
  if (deps.notes) {
    const notes = new RunNotes(deps.notes);
    registry.register(notesPutTool(notes)).register(notesGetTool(notes)).register(notesListTool(notes));
  }
  if (deps.startRun) registry.register(planRunTool(deps.startRun));
  for (const tool of deps.alerts ? alertTools(deps.alerts) : []) registry.register(tool);
  return registry.names().filter((name) => !before.has(name));
}

export { type AlertToolsOptions, alertTools } from "./alert-tools.js";
export { type HostResolver, type ResolvedAddress, systemResolver } from "./http/egress-guard.js";
export { type HttpRequestOptions, type HttpRequestOutput, httpRequestTool } from "./http-request.js";
export { humanAskTool } from "./human-ask.js";
export { type NotesOptions, RunNotes } from "./notes/store.js";
export { notesGetTool } from "./notes-get.js";
export { notesListTool } from "./notes-list.js";
export { notesPutTool } from "./notes-put.js";
export { planRunTool, type StartPlanRun } from "./plan-run.js";
export { type ScriptOptions, scriptJsTool } from "./script-js.js";
export { type FeedEntry, FeedError, FeedProvider, readFeedFile } from "./threatintel/providers/feed.js";
export { ThreatIntelService } from "./threatintel/service.js";
export type { Enrichment, ProviderResult, ThreatIntelProvider } from "./threatintel/types.js";
