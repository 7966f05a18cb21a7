export { SCHEMA_VERSION } from "./migrations.js";
export { openSqlite, SqliteDatabase, type SqliteOptions } from "./sqlite-database.js";
export { SqliteKeyValue, type SqliteKeyValueOptions } from "./sqlite-key-value.js";
export { SqliteQueue, type SqliteQueueOptions } from "./sqlite-queue.js";
