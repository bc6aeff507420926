// Datetimes as Masakari keeps them: naive UTC. In the database they are text
// in SQLAlchemy's SQLite form (`YYYY-MM-DD HH:MM:SS.ffffff`); in responses
// they are `YYYY-MM-DDTHH:MM:SS.ffffff` (docs/upstream.md,
// "Resource fields and timestamps").

/** A naive UTC datetime with microsecond precision. */
export interface UtcDateTime {
  readonly epochSeconds: number; // whole seconds since 1970-01-01T00:00:00Z
  readonly microsecond: number; // 0..999999
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

export function formatDb(t: UtcDateTime): string {
  const d = new Date(t.epochSeconds * 1000);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(t.microsecond, 6)}`
  );
}

/** A stored datetime as the API shows it; null stays null. */
export function formatApi(stored: string | null): string | null {
  return stored === null ? null : stored.replace(" ", "T");
}

export function addSeconds(t: UtcDateTime, seconds: number): UtcDateTime {
  return { epochSeconds: t.epochSeconds + seconds, microsecond: t.microsecond };
}

/**
 * Now, but strictly after `previous` when given: one microsecond after it
 * when the clock has not moved on (a Worker's clock stands still between
 * I/O), so that entries stamped one after another sort in that order.
 */
export function nowAfter(previous: UtcDateTime | undefined): UtcDateTime {
  const t = now();
  if (previous === undefined) return t;
  if (t.epochSeconds > previous.epochSeconds) return t;
  if (t.epochSeconds === previous.epochSeconds && t.microsecond > previous.microsecond) return t;
  const micro = previous.microsecond + 1;
  return micro < 1_000_000
    ? { epochSeconds: previous.epochSeconds, microsecond: micro }
    : { epochSeconds: previous.epochSeconds + 1, microsecond: 0 };
}

/** Now, with microseconds (upstream keeps them in deleted_at). */
export function now(): UtcDateTime {
  const ms = Date.now();
  return { epochSeconds: Math.floor(ms / 1000), microsecond: (ms % 1000) * 1000 };
}

/**
 * Python's str(datetime) of a naive UTC datetime, as upstream's recovery
 * progress messages carry it: a space between date and time, and no fraction
 * at all when the microseconds are 0.
 */
export function pythonStr(t: UtcDateTime): string {
  const text = formatDb(t);
  return t.microsecond === 0 ? text.slice(0, -7) : text;
}

/**
 * Now as created_at/updated_at are written: microseconds zeroed
 * (docs/upstream.md, "Resource fields and timestamps").
 */
export function nowSeconds(): string {
  return formatDb({ epochSeconds: now().epochSeconds, microsecond: 0 });
}

// The grammar of the Python iso8601 library (1.0.2) that oslo's
// parse_isotime uses for generated_time and generated-since: calendar dates
// with or without dashes, an optional time with optional minutes, seconds
// and fraction, and an optional Z or ±hh[:mm] offset. Python's `$` also
// matches before a final newline, so one is tolerated here too.
const ISO8601 = new RegExp(
  "^(?<year>[0-9]{4})" +
    "((-(?<monthdash>[0-9]{1,2})|(?<month>[0-9]{2})(?!$|\\n$))" +
    "((-(?<daydash>[0-9]{1,2})|(?<day>[0-9]{2}))" +
    "([ T](?<hour>[0-9]{2})(:?(?<minute>[0-9]{2}))?" +
    "(:?(?<second>[0-9]{1,2})([.,](?<fraction>[0-9]+))?)?" +
    "(?<timezone>Z|(?<sign>[-+])(?<tzhour>[0-9]{2}):?(?<tzminute>[0-9]{2})?)?)?)?)?\\n?$",
);

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * Parses an ISO 8601 string as oslo's timeutils.parse_isotime does and
 * converts it to naive UTC (no offset means UTC). Undefined when Python
 * would raise ValueError (no match, or a field out of range).
 */
export function parseIsoTime(value: string): UtcDateTime | undefined {
  const g = ISO8601.exec(value)?.groups;
  if (!g) return undefined;
  const int = (s: string | undefined, fallback: number) => (s === undefined ? fallback : Number(s));
  const year = int(g.year, 0);
  const month = int(g.month ?? g.monthdash, 1);
  const day = int(g.day ?? g.daydash, 1);
  const hour = int(g.hour, 0);
  const minute = int(g.minute, 0);
  const second = int(g.second, 0);
  if (year < 1 || month < 1 || month > 12) return undefined;
  const monthDays = month === 2 && isLeap(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) return undefined;
  // Decimal("0.<digits>") * 1e6, truncated.
  const microsecond = g.fraction === undefined ? 0 : Number(`${g.fraction}000000`.slice(0, 6));
  let offsetMinutes = 0;
  if (g.timezone !== undefined && g.timezone !== "Z") {
    offsetMinutes = int(g.tzhour, 0) * 60 + int(g.tzminute, 0);
    // datetime.timezone() refuses offsets of a day or more.
    if (offsetMinutes >= 24 * 60) return undefined;
    if (g.sign === "-") offsetMinutes = -offsetMinutes;
  }
  const epochSeconds = epochOf(year, month, day, hour, minute, second) - offsetMinutes * 60;
  // Python's datetime arithmetic cannot leave years 1-9999.
  if (epochSeconds < MIN_EPOCH || epochSeconds > MAX_EPOCH) return undefined;
  return { epochSeconds, microsecond };
}

function epochOf(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  // Date.UTC reads years 0-99 as 1900-1999; setUTCFullYear does not.
  d.setUTCFullYear(year, month - 1, day);
  return d.getTime() / 1000;
}

const MIN_EPOCH = epochOf(1, 1, 1, 0, 0, 0);
const MAX_EPOCH = epochOf(9999, 12, 31, 23, 59, 59);
