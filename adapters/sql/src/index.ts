export * from "./driver-factory.js";
export * from "./mysql-driver.js";
export * from "./pglite-driver.js";
export * from "./postgres-driver.js";
export * from "./sample-dataset.js";
export * from "./sqlite-driver.js";
