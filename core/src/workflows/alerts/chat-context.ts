import type { ChatContextResolver } from "../chat/context.js";
import type { AlertStore } from "./store.js";

/**
 * `alert`: the chat context kind of the alerts workflow. The model sees the normalised alert, its
 * status and resolution, observables, enrichment, notes and the latest timeline entries — not the raw
 * payload, which the normalised fields already carry and which can be large.
 */
export function alertContextResolver(store: Pick<AlertStore, "get">): ChatContextResolver {
  return {
    kind: "alert",
    description:
      "An alert: title, severity, status, observables, threat-intel enrichment, notes and timeline.",
    async resolve(id) {
      const record = await store.get(id);
      if (!record) return undefined;
      const a = record.alert;
      const lines = [
        `title: ${a.title}`,
        `severity: ${a.severity}; status: ${record.status}${record.resolution ? `; resolution: ${record.resolution.kind}${record.resolution.comment ? ` (${record.resolution.comment})` : ""}` : ""}`,
        `product: ${a.metadata.product.name}`,
        ...(a.desc ? [`description: ${a.desc}`] : []),
        `observables: ${a.observables.map((o) => `${o.type} ${o.value}`).join(", ") || "none"}`,
        `enrichment: ${JSON.stringify(record.enrichment)}`,
        ...(record.assignee ? [`assignee: ${record.assignee}`] : []),
        ...record.notes.map((n) => `note by ${n.by}: ${n.text}`),
        `timeline: ${record.timeline
          .slice(-10)
          .map((t) => `${new Date(t.at).toISOString()} ${t.type}`)
          .join("; ")}`,
      ];
      return { title: `${a.title} (${record.status})`, text: lines.join("\n") };
    },
  };
}
