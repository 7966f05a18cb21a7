/**
 * Provider responses recorded from the vendors' documented examples (trimmed to the fields a lookup
 * reads plus a few neighbours), with documentation addresses and example names substituted.
 */

/** AbuseIPDB APIv2 GET /check?ipAddress=203.0.113.66&maxAgeInDays=90. */
export const abuseIpDbCheck = {
  data: {
    ipAddress: "203.0.113.66",
    isPublic: true,
    ipVersion: 4,
    isWhitelisted: false,
    abuseConfidenceScore: 100,
    countryCode: "CN",
    usageType: "Data Center/Web Hosting/Transit",
    isp: "Example Hosting",
    domain: "example.com",
    hostnames: [],
    isTor: false,
    totalReports: 1337,
    numDistinctUsers: 212,
    lastReportedAt: "2026-11-25T21:04:13+00:00",
  },
};

/** AbuseIPDB 429 body (the API also sends Retry-After and X-RateLimit-* headers). */
export const abuseIpDbRateLimited = {
  errors: [{ detail: "Daily rate limit of 1000 requests exceeded for this endpoint.", status: 429 }],
};

/** VirusTotal API v3 GET /ip_addresses/198.51.100.23. */
export const virusTotalIp = {
  data: {
    id: "198.51.100.23",
    type: "ip_address",
    links: { self: "https://www.virustotal.com/api/v3/ip_addresses/198.51.100.23" },
    attributes: {
      as_owner: "Example Networks",
      country: "NL",
      last_analysis_stats: { harmless: 55, malicious: 9, suspicious: 1, undetected: 29, timeout: 0 },
      reputation: -12,
      tags: [],
    },
  },
};

/** VirusTotal API v3 GET /domains/www.example.org (clean). */
export const virusTotalCleanDomain = {
  data: {
    id: "www.example.org",
    type: "domain",
    attributes: {
      last_analysis_stats: { harmless: 66, malicious: 0, suspicious: 0, undetected: 28, timeout: 0 },
      reputation: 3,
      tags: [],
    },
  },
};

/** VirusTotal API v3 404 for an unknown file. */
export const virusTotalNotFound = {
  error: { code: "NotFoundError", message: 'File "0123456789abcdef0123456789abcdef" not found' },
};

/** AlienVault OTX GET /indicators/domain/malware.example.com/general. */
export const otxDomainGeneral = {
  sections: ["general", "geo", "url_list", "passive_dns", "malware", "whois", "http_scans"],
  indicator: "malware.example.com",
  type: "domain",
  type_title: "Domain",
  validation: [],
  base_indicator: { id: 3005713, indicator: "malware.example.com", type: "domain" },
  pulse_info: {
    count: 6,
    pulses: [
      { id: "6150d0b8c1f2a3e5d4c3b2a1", name: "Dropper infrastructure", tags: ["dropper", "malware"] },
      { id: "6150d0b8c1f2a3e5d4c3b2a2", name: "Loader C2 domains", tags: ["loader"] },
    ],
    references: [],
  },
  alexa: "http://www.alexa.com/siteinfo/malware.example.com",
  whois: "http://whois.domaintools.com/malware.example.com",
};

/** AlienVault OTX GET /indicators/IPv4/198.51.100.10/general for an allow-listed address. */
export const otxAllowListed = {
  indicator: "198.51.100.10",
  type: "IPv4",
  type_title: "IPv4",
  validation: [{ source: "false_positive", message: "Known False Positive", name: "Known False Positive" }],
  pulse_info: { count: 0, pulses: [], references: [] },
  reputation: 0,
};

/** GreyNoise Community API GET /v3/community/203.0.113.66. */
export const greyNoiseMalicious = {
  ip: "203.0.113.66",
  noise: true,
  riot: false,
  classification: "malicious",
  name: "unknown",
  link: "https://viz.greynoise.io/ip/203.0.113.66",
  last_seen: "2026-11-25",
  message: "Success",
};

/** GreyNoise Community API 404 for an address it never saw. */
export const greyNoiseNotObserved = {
  ip: "198.51.100.77",
  noise: false,
  riot: false,
  message: "IP not observed scanning the internet or contained in RIOT data set.",
};
