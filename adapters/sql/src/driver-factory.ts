import type { SqlDriverFactory } from "@aat/core";
import { MysqlDriver } from "./mysql-driver.js";
import { PostgresDriver } from "./postgres-driver.js";
import { SqliteDriver } from "./sqlite-driver.js";

/** Opens the driver for a stored data source (PGlite sources are built in, not created through the API). */
export const createSqlDriver: SqlDriverFactory = (source, connection) => {
  switch (source.engine) {
    case "postgres":
      return new PostgresDriver(requireUrl(source.id, connection.url));
    case "mysql":
    case "mariadb":
      return new MysqlDriver(requireUrl(source.id, connection.url), { engine: source.engine });
    case "sqlite":
      if (!source.path) throw new Error(`data source "${source.id}" has no SQLite path`);
      return new SqliteDriver(source.path);
    case "pglite":
      throw new Error(`data source "${source.id}": PGlite data sources are built in (the embedded sample)`);
  }
};

function requireUrl(id: string, url: string | undefined): string {
  if (!url) throw new Error(`data source "${id}" has no connection URL`);
  return url;
}
