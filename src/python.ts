// Masakari's messages embed Python's str() and repr() of request values
// (jsonschema and the "Invalid input for field/attribute" wrapper;
// docs/upstream.md, "Validation messages"), and its JSON bodies are written by
// Python's json.dumps. These functions reproduce both so our bodies are the
// bytes a Masakari client expects.

const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

/** Python's str.isprintable() for one code point (a space is printable). */
function isStrPrintable(ch: string): boolean {
  return ch === " " || !NON_PRINTABLE.test(ch);
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}

/** repr() of a Python str. */
export function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
    else if (code < 0x7f || isStrPrintable(ch)) out += ch;
    else if (code <= 0xff) out += `\\x${hex(code, 2)}`;
    else if (code <= 0xffff) out += `\\u${hex(code, 4)}`;
    else out += `\\U${hex(code, 8)}`;
  }
  return out + quote;
}

function reprNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  if (Number.isNaN(n)) return "nan";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  // Python writes 1e+16 as 1e+16 and 1e-05 with two exponent digits.
  return String(n).replace(/e([+-])(\d)$/, "e$10$2");
}

/** repr() of a value decoded from JSON, as Python's json module decodes it. */
export function repr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return reprNumber(value);
  if (typeof value === "string") return reprString(value);
  if (Array.isArray(value)) return `[${value.map(repr).join(", ")}]`;
  if (typeof value === "object") {
    const items = Object.entries(value).map(([k, v]) => `${reprString(k)}: ${repr(v)}`);
    return `{${items.join(", ")}}`;
  }
  return String(value);
}

/** str() of a value decoded from JSON: strings bare, everything else repr(). */
export function str(value: unknown): string {
  return typeof value === "string" ? value : repr(value);
}

/** repr() of a Python tuple of strings, e.g. ('STARTED', 'STOPPED'). */
/** Printable ASCII other than `"` and `\\`: nothing to escape. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** What json.dumps escapes and JSON.stringify leaves as is: DEL and non-ASCII. */
const BEYOND_ASCII = /[\u007f-\uffff]/g;

function escapeJsonString(s: string): string {
  // The common case (names, uuids, timestamps) is returned as it is.
  if (PLAIN.test(s)) return `"${s}"`;
  // JSON.stringify escapes `"`, `\\` and control characters exactly as
  // json.dumps does (\n, \r, \t, \b, \f, else \u00xx); ensure_ascii also
  // escapes every code unit from DEL up, surrogates one by one.
  return JSON.stringify(s).replace(BEYOND_ASCII, (c) => `\\u${hex(c.charCodeAt(0), 4)}`);
}

/** repr() of a Python float: `1.0`, `0.3`, `1e-05`. */
export function floatRepr(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return `${n}.0`;
  return reprNumber(n);
}

/** A number that Python holds as a float: pythonJson writes it as json.dumps writes a float (`1.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/**
 * json.dumps(value) with Python's defaults: `", "` and `": "` separators and
 * ensure_ascii (every character outside printable ASCII as a \uXXXX escape).
 */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (typeof value === "string") return escapeJsonString(value);
  if (value instanceof PyFloat) return Number.isFinite(value.value) ? floatRepr(value.value) : "null";
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ", ") + pythonJson(value[i]);
    return `${out}]`;
  }
  if (typeof value === "object") {
    let out = "{";
    let first = true;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      out += `${first ? "" : ", "}${escapeJsonString(key)}: ${pythonJson(item)}`;
      first = false;
    }
    return `${out}}`;
  }
  return "null";
}
