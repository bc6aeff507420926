import * as drizzle from "drizzle-orm";
import { eq, sql } from "drizzle-orm";
import { drizzle as d1Drizzle } from "drizzle-orm/d1";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import { fromDriver, isNotNull, placeholderValues, toQuery } from "../src/db/drizzle-internals";
import { failoverSegments as segments } from "../src/db/schema";

// src/db/drizzle-internals.ts leans on what drizzle-orm does not document.
// After an upgrade, a failure here names the function that changed: fix it
// there (or go back to the pinned minor version in package.json) before
// anything else.

const changed = (name: string) => `drizzle-orm's ${name} no longer behaves as src/db/drizzle-internals.ts expects`;

// Building a query needs no database: drizzle only wraps the client.
const db = d1Drizzle({} as D1Database);

describe("the drizzle-orm internals src/db/drizzle-internals.ts uses", () => {
  it("fillPlaceholders: a built query's params with its placeholders' values", () => {
    expect(typeof drizzle.fillPlaceholders, changed("fillPlaceholders")).toBe("function");
    const built = db
      .select()
      .from(segments)
      .where(eq(segments.uuid, sql.placeholder("uuid")))
      .limit(3)
      .toSQL();
    expect(placeholderValues(built.params, { uuid: "u-1" }), changed("fillPlaceholders")).toEqual(["u-1", 3]);
  });

  it("Column.mapFromDriverValue: D1's values as drizzle returns them", () => {
    expect(typeof segments.enabled.mapFromDriverValue, changed("Column.mapFromDriverValue")).toBe("function");
    expect(
      [fromDriver(segments.enabled, 1), fromDriver(segments.enabled, 0), fromDriver(segments.name, "rack-1")],
      changed("Column.mapFromDriverValue"),
    ).toEqual([true, false, "rack-1"]);
  });

  it("Column.notNull: whether a column is declared NOT NULL", () => {
    expect([isNotNull(segments.deleted), isNotNull(segments.description)], changed("Column.notNull")).toEqual([
      true,
      false,
    ]);
  });

  it("SQLiteAsyncDialect.sqlToQuery: an SQL fragment's text and values", () => {
    expect(typeof new SQLiteAsyncDialect().sqlToQuery, changed("SQLiteAsyncDialect.sqlToQuery")).toBe("function");
    expect(
      toQuery(sql`${segments.name} = ${"rack-1"} AND ${sql.identifier("x")} IS NULL`),
      changed("SQLiteAsyncDialect.sqlToQuery"),
    ).toEqual({ sql: '"failover_segments"."name" = ? AND "x" IS NULL', params: ["rack-1"] });
  });
});
