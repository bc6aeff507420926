// D1's binding API (the part the Worker uses: prepare/bind/all/raw/first/run,
// batch, withSession) over Node's own SQLite, in memory, synchronous. For
// bench/cpu.mjs: the Worker's code then runs alone on one Node thread, with
// no emulator, socket or second thread between its requests, so what a
// request costs in JavaScript can be timed to a few percent.
import { DatabaseSync } from "node:sqlite";

const bindable = (v) => (v === undefined ? null : typeof v === "boolean" ? (v ? 1 : 0) : v);

class Statement {
  constructor(d1, sql, params = []) {
    this.d1 = d1;
    this.sql = sql;
    this.params = params;
  }
  bind(...params) {
    return new Statement(this.d1, this.sql, params.map(bindable));
  }
  // D1 answers every statement with its rows and what it changed.
  execute(arrays = false) {
    const stmt = this.d1.statement(this.sql);
    stmt.setReturnArrays(arrays);
    const rows = stmt.all(...this.params);
    const { changes, last } = this.d1.changed.get();
    return {
      columns: stmt.columns().map((c) => c.name),
      rows,
      meta: { changes, last_row_id: last, rows_read: rows.length, rows_written: changes, duration: 0 },
    };
  }
  async all() {
    const { rows, meta } = this.execute();
    return { success: true, results: rows, meta };
  }
  async run() {
    return this.all();
  }
  async first(column) {
    const [row] = this.execute().rows;
    if (row === undefined) return null;
    return column === undefined ? row : row[column];
  }
  async raw({ columnNames = false } = {}) {
    const { columns, rows } = this.execute(true);
    return columnNames ? [columns, ...rows] : rows;
  }
}

export class NodeD1 {
  constructor() {
    this.db = new DatabaseSync(":memory:");
    this.statements = new Map();
    this.changed = this.db.prepare("SELECT changes() AS changes, last_insert_rowid() AS last");
  }
  statement(sql) {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }
  exec(sql) {
    this.db.exec(sql);
  }
  prepare(sql) {
    return new Statement(this, sql);
  }
  // One transaction, as D1 runs a batch.
  async batch(statements) {
    this.db.exec("BEGIN");
    try {
      const results = statements.map((s) => {
        const { rows, meta } = s.execute();
        return { success: true, results: rows, meta };
      });
      this.db.exec("COMMIT");
      return results;
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }
  withSession() {
    return {
      prepare: (sql) => this.prepare(sql),
      batch: (statements) => this.batch(statements),
      getBookmark: () => "00000001-00000000-00000000-00000000000000000000000000000000",
    };
  }
}
