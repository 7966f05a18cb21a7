export { checkGcpConfig, type GcpDeployConfig, loadGcpConfig } from "./config.js";
export { fitName } from "./names.js";
export { type SiteFile, SiteNotBuiltError, siteFiles } from "./site.js";
export { buildGcpSources, type GcpFunctionName, type GcpFunctionSources } from "./source.js";
export { GcpStack, type GcpStackProps, secretId } from "./stack.js";
