import type { AlertFormat } from "../ocsf.js";
import { mapAlertmanager } from "./alertmanager.js";
import { mapElastic } from "./elastic.js";
import { mapFalco } from "./falco.js";
import { mapGeneric } from "./generic.js";
import { mapGuardDuty } from "./guardduty.js";
import { mapSplunk } from "./splunk.js";
import { mapSuricata } from "./suricata.js";
import type { AlertMapper } from "./types.js";
import { mapWazuh } from "./wazuh.js";

export { AlertMappingError } from "./read.js";
export type { AlertMapper, MappedAlert } from "./types.js";

export const MAPPERS: Record<AlertFormat, AlertMapper> = {
  generic: mapGeneric,
  alertmanager: mapAlertmanager,
  guardduty: mapGuardDuty,
  wazuh: mapWazuh,
  elastic: mapElastic,
  splunk: mapSplunk,
  falco: mapFalco,
  suricata: mapSuricata,
};
