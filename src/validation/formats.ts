import { parseIsoTime } from "../datetime";

// Upstream's string checks, as Python runs them: its regexes are applied with
// re.search, whose `$` also matches just before one final newline, so a value
// ending in one "\n" passes a pattern its other characters pass
// (docs/upstream.md, "Name and description formats"). Each check has its JSON
// Schema pattern beside it (ECMA-262 with the `u` flag, Python's `$` spelled
// out as `\n?$`) for the OpenAPI document.

const withoutFinalNewline = (s: string) => (s.endsWith("\n") ? s.slice(0, -1) : s);

/** Python's `$` at the end of an anchored pattern: also before one final newline. */
const pythonEnd = (source: string) => (source.endsWith("$") ? `${source.slice(0, -1)}\\n?$` : source);

/** A character Masakari counts as printable (below), as a pattern class. */
export const PRINTABLE = "[^\\p{C}\\p{Zl}\\p{Zp}\\u{10000}-\\u{10FFFF}]";
/** Printable and not a space: the first and last character of a name. */
const PRINTABLE_NOT_SPACE = "[^\\p{C}\\p{Z}\\u{10000}-\\u{10FFFF}]";

// Masakari's "printable" (parameter_types._is_printable): any BMP character
// but controls, format, surrogates, private use, unassigned and line or
// paragraph separators. Spaces (Zs) are printable; astral characters are not.
const NOT_PRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/u;
export const isPrintable = (ch: string) => (ch.codePointAt(0) ?? 0) <= 0xfffe && !NOT_PRINTABLE.test(ch);
const isSpace = (ch: string) => /\p{Zs}/u.test(ch);

/** The "name" format: printable, not starting or ending with a space. */
function isValidName(value: string): boolean {
  const chars = [...withoutFinalNewline(value)];
  const first = chars[0];
  const last = chars[chars.length - 1];
  if (first === undefined || last === undefined) return false;
  return chars.every(isPrintable) && !isSpace(first) && !isSpace(last);
}

/** oslo_utils.uuidutils.is_uuid_like. */
export function isUuidLike(value: string): boolean {
  const hex = value
    .replaceAll("urn:", "")
    .replaceAll("uuid:", "")
    .replace(/^[{}]+|[{}]+$/g, "")
    .replaceAll("-", "")
    .toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex);
}

export interface Pattern {
  /** Upstream's regular expression, as its messages quote it. */
  readonly source: string;
  readonly test: (value: string) => boolean;
  /** The same, as a JSON Schema (ECMA-262, `u` flag) pattern. */
  readonly json: string;
}

/** A regex pattern with Python's re.search semantics (see above). */
export function pattern(source: string, jsRegex: RegExp): Pattern {
  return { source, test: (v) => jsRegex.test(withoutFinalNewline(v)), json: pythonEnd(jsRegex.source) };
}

export type Format = "name" | "date-time" | "uuid";

interface FormatRule {
  readonly test: (value: string) => boolean;
  /** What the OpenAPI document says of it. */
  readonly text: string;
  /** Its JSON Schema pattern. */
  readonly json: string;
}

/** Upstream's formats. */
export const FORMATS: Record<Format, FormatRule> = {
  name: {
    test: isValidName,
    text: "Upstream's 'name' format: printable characters, not starting or ending with whitespace.",
    // Printable, not starting or ending with a space, one final newline allowed.
    json: `^${PRINTABLE_NOT_SPACE}(?:${PRINTABLE}*${PRINTABLE_NOT_SPACE})?\\n?$`,
  },
  "date-time": {
    test: (s) => parseIsoTime(s) !== undefined,
    text: "An ISO 8601 time as Python's iso8601 parses it (no offset is UTC).",
    // The grammar of Python's iso8601 (src/datetime.ts); the ranges of each
    // field are checked too, the calendar (a 30 February) is not.
    json: "^[0-9]{4}(?:(?:-(?:0?[1-9]|1[0-2])|(?:0[1-9]|1[0-2])(?!$|\\n$))(?:(?:-(?:0?[1-9]|[12][0-9]|3[01])|(?:0[1-9]|[12][0-9]|3[01]))(?:[ T](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?(?::?(?:[0-5]?[0-9])(?:[.,][0-9]+)?)?(?:Z|[-+](?:[01][0-9]|2[0-3]):?(?:[0-5][0-9])?)?)?)?)?\\n?$",
  },
  uuid: {
    test: isUuidLike,
    text: "A UUID as oslo's is_uuid_like reads it (dashes, braces and a urn:uuid: prefix allowed).",
    // oslo's is_uuid_like: 32 hex digits once "urn:", "uuid:", braces and dashes are dropped.
    json: "^(?:urn:|uuid:)*[{}]*(?:-*[0-9a-fA-F]){32}-*[{}]*$",
  },
};
