import { existsSync } from "node:fs";
import type { ThreatIntelConfig } from "@aat/core/config";
import type { CompositionLogger } from "./alerts.js";

/**
 * The threat-intel settings from configuration, minus feed files that are not there. A bundle carries
 * no repository files: a feed path that pointed at one (the shipped examples/threatintel/sample-feed.csv,
 * say) would otherwise stop every instance at start. Such a feed is left out with an error line naming
 * it and the fix; lookups then report the remaining providers (or degraded enrichment when none is
 * left). A feed that exists but is malformed still stops the start, with the feed's own error.
 */
export function readableThreatIntel(
  threatintel: ThreatIntelConfig,
  logger: Pick<CompositionLogger, "error">,
  exists: (path: string) => boolean = existsSync,
): ThreatIntelConfig {
  const missing = threatintel.feeds.filter((feed) => !exists(feed));
  if (missing.length === 0) return threatintel;
  logger.error(
    { feeds: missing },
    "threat-intel feed file(s) not found in this function's files; they are left out. Ship the file with the function (or mount it) and point threatintel.feeds (AAT_THREATINTEL_FEEDS) at its path there",
  );
  return { ...threatintel, feeds: threatintel.feeds.filter((feed) => !missing.includes(feed)) };
}
