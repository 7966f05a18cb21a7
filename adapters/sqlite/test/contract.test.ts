import { keyValueContract, queueContract } from "@aat/core/testing";
import { afterAll } from "vitest";
import { openSqlite, type SqliteDatabase, SqliteKeyValue, SqliteQueue } from "../src/index.js";
import { makeTempDir } from "./temp-dir.js";

// One file for the whole run: every KeyValue test and every queue share it, as in `npm start`.
const dir = makeTempDir("contract");
let shared: SqliteDatabase | undefined;
const sharedFile = () => {
  shared ??= openSqlite(dir.file("aat.db"));
  return shared;
};
afterAll(() => {
  shared?.close();
  dir.remove();
});

keyValueContract("SqliteKeyValue on a file", async () => ({ kv: new SqliteKeyValue(sharedFile()) }));

queueContract(
  "SqliteQueue on a file",
  async (options) => ({ queue: new SqliteQueue(sharedFile(), options) }),
  { depth: true },
);

keyValueContract("SqliteKeyValue in memory", async () => {
  const db = openSqlite(":memory:");
  return { kv: new SqliteKeyValue(db), cleanup: async () => db.close() };
});

queueContract(
  "SqliteQueue in memory",
  async (options) => {
    const db = openSqlite(":memory:");
    return { queue: new SqliteQueue(db, options), cleanup: async () => db.close() };
  },
  { depth: true },
);

// Pages shorter than the requested limit must not break paging.
keyValueContract("SqliteKeyValue with list pages capped at 3", async () => ({
  kv: new SqliteKeyValue(sharedFile(), { namespace: "capped", maxListLimit: 3 }),
}));
