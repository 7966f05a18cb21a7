import type { AatConfig } from "@aat/core";
import { type DestinationStream, type Logger, pino } from "pino";

export type RuntimeLogger = Logger;

/**
 * JSON lines (pino) at the configured level. Fields that may hold credentials are censored wherever
 * they appear, so a careless `logger.info({ headers })` cannot leak a key.
 */
export function createLogger(config: AatConfig, destination?: DestinationStream): RuntimeLogger {
  return pino(
    {
      level: config.telemetry.logLevel,
      base: { service: config.telemetry.serviceName },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          "authorization",
          "*.authorization",
          "headers.authorization",
          "key",
          "*.apiKey",
          "token",
          "*.token",
        ],
        censor: "<redacted>",
      },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
