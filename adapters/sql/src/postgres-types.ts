/** Type names by OID for the built-in PostgreSQL types analytics results usually carry. */
export const PG_TYPE_NAMES: Record<number, string> = {
  16: "bool",
  17: "bytea",
  18: "char",
  19: "name",
  20: "int8",
  21: "int2",
  23: "int4",
  25: "text",
  26: "oid",
  114: "json",
  142: "xml",
  700: "float4",
  701: "float8",
  869: "inet",
  650: "cidr",
  1042: "bpchar",
  1043: "varchar",
  1082: "date",
  1083: "time",
  1114: "timestamp",
  1184: "timestamptz",
  1186: "interval",
  1266: "timetz",
  1700: "numeric",
  2950: "uuid",
  3802: "jsonb",
  1000: "_bool",
  1007: "_int4",
  1016: "_int8",
  1009: "_text",
};

export function pgTypeName(oid: number): string {
  return PG_TYPE_NAMES[oid] ?? `oid:${oid}`;
}

/** SQLSTATE 57014 is query_canceled, which statement_timeout raises. */
export function isPgTimeout(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === "57014";
}
