import { PGlite } from "@electric-sql/pglite";

/**
 * The embedded sample: 90 days of generated security activity (hosts, users, logins, events) starting
 * 2026-01-01 UTC. `setseed` makes PostgreSQL's random() deterministic, so every start has the same data.
 * Tables are documented in docs/workflows-analytics.md.
 */
export const SAMPLE_DATASET_SQL = `
SELECT setseed(0.42);
CREATE TABLE users (
  id integer PRIMARY KEY,
  username text NOT NULL UNIQUE,
  department text NOT NULL,
  is_admin boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE users IS 'People with accounts; is_admin marks administrators';
CREATE TABLE hosts (
  id integer PRIMARY KEY,
  hostname text NOT NULL UNIQUE,
  os text NOT NULL,
  environment text NOT NULL,
  owner_id integer REFERENCES users(id)
);
COMMENT ON TABLE hosts IS 'Machines that send events; environment is prod, staging or dev';
CREATE TABLE logins (
  id integer PRIMARY KEY,
  user_id integer NOT NULL REFERENCES users(id),
  host_id integer NOT NULL REFERENCES hosts(id),
  at timestamptz NOT NULL,
  success boolean NOT NULL,
  source_ip inet NOT NULL,
  method text NOT NULL
);
COMMENT ON TABLE logins IS 'Authentication attempts, successful or not';
CREATE TABLE events (
  id integer PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  host_id integer NOT NULL REFERENCES hosts(id),
  user_id integer REFERENCES users(id),
  category text NOT NULL,
  severity text NOT NULL,
  action text NOT NULL,
  source_ip inet,
  message text NOT NULL
);
COMMENT ON TABLE events IS 'Security events from hosts: category, severity (info, low, medium, high, critical), action taken';
INSERT INTO users
SELECT i, (ARRAY['alice','bob','carol','dave','erin','frank','grace','heidi','ivan','judy','mallory','niaj','olivia','peggy','rupert','sybil','trent','victor','walter','zoe'])[i],
       (ARRAY['engineering','finance','sales','security','support'])[1 + (i % 5)], i IN (4, 9, 17)
FROM generate_series(1, 20) AS i;
INSERT INTO hosts
SELECT i, (ARRAY['web','db','api','mail','build','vpn'])[1 + (i % 6)] || '-' || lpad(i::text, 2, '0'),
       (ARRAY['linux','linux','windows','macos'])[1 + (i % 4)],
       (ARRAY['prod','prod','staging','dev'])[1 + (i % 4)], 1 + (i % 20)
FROM generate_series(1, 24) AS i;
INSERT INTO logins
SELECT i, 1 + floor(random() * 20)::int, 1 + floor(random() * 24)::int,
       timestamptz '2026-01-01 00:00:00+00' + (random() * interval '90 days'),
       random() > 0.12,
       ('10.' || floor(random() * 4)::int || '.' || floor(random() * 255)::int || '.' || (1 + floor(random() * 254)::int))::inet,
       (ARRAY['password','sso','ssh-key','mfa'])[1 + floor(random() * 4)::int]
FROM generate_series(1, 3000) AS i;
INSERT INTO events
SELECT i, timestamptz '2026-01-01 00:00:00+00' + (random() * interval '90 days'),
       1 + floor(random() * 24)::int,
       CASE WHEN random() < 0.7 THEN 1 + floor(random() * 20)::int END,
       c.category,
       (ARRAY['info','info','low','low','medium','medium','high','critical'])[1 + floor(random() * 8)::int],
       (ARRAY['allowed','blocked','quarantined','alerted'])[1 + floor(random() * 4)::int],
       ('203.0.113.' || (1 + floor(random() * 254)::int))::inet,
       c.category || ' detected by sensor ' || (1 + floor(random() * 5)::int)
FROM generate_series(1, 6000) AS i,
     LATERAL (SELECT (ARRAY['malware','phishing','brute_force','port_scan','data_exfiltration','policy_violation','privilege_escalation'])[1 + floor(random() * 7)::int + (i * 0)] AS category) AS c;
CREATE INDEX events_occurred_at ON events (occurred_at);
CREATE INDEX logins_at ON logins (at);
ANALYZE;
`;

/** An in-memory PGlite with the sample dataset loaded (about a second to start). */
export async function createSamplePglite(): Promise<PGlite> {
  const db = await PGlite.create();
  await db.exec(SAMPLE_DATASET_SQL);
  return db;
}
