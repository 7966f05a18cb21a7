import type { Transporter } from "nodemailer";
import type { ActionsConfig } from "../../config/actions.js";
import type { ThreatIntelConfig } from "../../config/threatintel.js";
import type { Clock } from "../../ports/clock.js";
import type { KeyValue } from "../../ports/kv.js";
import type { Tool } from "../types.js";
import { notifySendTool } from "./actions/notify.js";
import { responseTools } from "./actions/response.js";
import { ticketCreateTool } from "./actions/ticket.js";
import { EgressClient } from "./egress/client.js";
import type { HostResolver } from "./http/egress-guard.js";
import { AbuseIpDbProvider } from "./threatintel/providers/abuseipdb.js";
import { FeedProvider } from "./threatintel/providers/feed.js";
import { GreyNoiseProvider } from "./threatintel/providers/greynoise.js";
import { OtxProvider } from "./threatintel/providers/otx.js";
import { VirusTotalProvider } from "./threatintel/providers/virustotal.js";
import { ThreatIntelService, type ThreatIntelServiceOptions } from "./threatintel/service.js";
import { threatIntelTools } from "./threatintel/tools.js";

/** What the alert-workflow tools need: their config sections, the SSRF allow-list and the KV store. */
export interface AlertToolsOptions {
  threatintel: ThreatIntelConfig;
  actions: ActionsConfig;
  /** `http.allowHosts`: configured services at private or loopback addresses must be listed. */
  allowHosts: readonly string[];
  /** Cache and rate-limit counters of the threat-intel providers. */
  kv: KeyValue;
  /** Time limit of one notification, ticket or response call (default 10 s). */
  actionTimeoutMs?: number;
  resolve?: HostResolver;
  clock?: Clock;
  mailer?: Transporter;
  onLookup?: ThreatIntelServiceOptions["onLookup"];
}

/**
 * The enrichment tools (`threatintel.ip|domain|url|hash`) and the response-action tools (`notify.send`,
 * `ticket.create`, `response.block_indicator|isolate_host|disable_user`, all dangerous). The tools are
 * always registered so plans load everywhere; a provider or action that is not configured is reported
 * by the call (degraded enrichment, or a configuration error naming the setting).
 */
export function alertTools(options: AlertToolsOptions): Tool[] {
  const http = new EgressClient({
    allowHosts: options.allowHosts,
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  const ti = options.threatintel;
  const providers: ThreatIntelServiceOptions["providers"][number][] = [];
  if (ti.feeds.length > 0) providers.push({ provider: FeedProvider.fromFiles(ti.feeds), cache: false });
  if (ti.abuseipdb.apiKey) {
    providers.push({
      provider: new AbuseIpDbProvider({
        apiKey: ti.abuseipdb.apiKey,
        baseUrl: ti.abuseipdb.baseUrl,
        maxAgeInDays: ti.abuseipdb.maxAgeInDays,
      }),
      limits: { perMinute: ti.abuseipdb.perMinute },
    });
  }
  if (ti.virustotal.apiKey) {
    providers.push({
      provider: new VirusTotalProvider({ apiKey: ti.virustotal.apiKey, baseUrl: ti.virustotal.baseUrl }),
      limits: { perMinute: ti.virustotal.perMinute },
    });
  }
  if (ti.otx.apiKey) {
    providers.push({
      provider: new OtxProvider({ apiKey: ti.otx.apiKey, baseUrl: ti.otx.baseUrl }),
      limits: { perMinute: ti.otx.perMinute },
    });
  }
  if (ti.greynoise.apiKey || ti.greynoise.enabled) {
    providers.push({
      provider: new GreyNoiseProvider({
        baseUrl: ti.greynoise.baseUrl,
        ...(ti.greynoise.apiKey ? { apiKey: ti.greynoise.apiKey } : {}),
      }),
      limits: { perMinute: ti.greynoise.perMinute },
    });
  }
  const service = new ThreatIntelService({
    kv: options.kv,
    http,
    providers,
    cacheTtlMs: ti.cacheTtlMs,
    timeoutMs: ti.timeoutMs,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.onLookup ? { onLookup: options.onLookup } : {}),
  });
  const timeoutMs = options.actionTimeoutMs ?? 10_000;
  return [
    ...threatIntelTools(service, ti.timeoutMs),
    notifySendTool({
      config: options.actions,
      http,
      timeoutMs,
      ...(options.mailer ? { mailer: options.mailer } : {}),
    }),
    ticketCreateTool({ config: options.actions, http, timeoutMs }),
    ...responseTools({ config: options.actions, http, timeoutMs }),
  ];
}
