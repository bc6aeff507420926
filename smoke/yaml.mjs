// A reader for the YAML that clouds.yaml and secure.yaml files are written in:
// block mappings and sequences, plain and quoted scalars, comments, and
// one-line flow collections. Scalars resolve as PyYAML (YAML 1.1, what
// openstacksdk uses) resolves them: yes/no/on/off are booleans too. Anchors,
// aliases, tags, block scalars (| >) and several documents are refused with
// the line, never guessed at; such a file can be rewritten as JSON, which is
// read as JSON.

export class YamlError extends Error {}

export function parseYaml(text, source = "YAML") {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      return JSON.parse(trimmed);
    } catch {
      // a flow mapping that is YAML but not JSON: read it below
    }
  }
  const lines = logicalLines(text, source);
  if (lines.length === 0) return null;
  const state = { lines, i: 0, source };
  const value = readBlock(state, lines[0].indent);
  if (state.i < lines.length) fail(state, lines[state.i], "does not continue the block above it");
  return value;
}

/** The meaningful lines: no comments, no blank lines, no document markers. */
function logicalLines(text, source) {
  const out = [];
  let documents = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const number = index + 1;
    if (/^ *\t/.test(raw)) {
      throw new YamlError(`${source} line ${number}: tabs cannot indent YAML`);
    }
    const content = stripComment(raw).trimEnd();
    if (content.trim() === "") return;
    if (/^(---|\.\.\.)(\s|$)/.test(content)) {
      if (content.startsWith("---") && ++documents > 1) {
        throw new YamlError(`${source} line ${number}: several YAML documents are not supported`);
      }
      if (content.slice(3).trim() !== "") {
        throw new YamlError(`${source} line ${number}: content after a document marker is not supported`);
      }
      return;
    }
    const indent = content.length - content.trimStart().length;
    out.push({ indent, text: content.trimStart(), number });
  });
  return out;
}

/** The line without a trailing `# comment` (a `#` after whitespace, outside quotes). */
function stripComment(line) {
  let quote = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === "\\" && quote === '"') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      if (i === 0 || /[\s:[{,-]/.test(line[i - 1])) quote = ch;
    } else if (ch === "#" && (i === 0 || /\s/.test(line[i - 1]))) {
      return line.slice(0, i);
    }
  }
  return line;
}

function fail(state, line, message) {
  throw new YamlError(`${state.source} line ${line.number}: ${message}`);
}

function readBlock(state, indent) {
  const line = state.lines[state.i];
  return isSequenceItem(line.text) ? readSequence(state, indent) : readMapping(state, indent);
}

const isSequenceItem = (text) => text === "-" || text.startsWith("- ");

function readSequence(state, indent) {
  const items = [];
  while (state.i < state.lines.length) {
    const line = state.lines[state.i];
    if (line.indent < indent) break;
    if (line.indent > indent) fail(state, line, "unexpected indentation");
    // a sequence at its key's own indentation ends at the next key
    if (!isSequenceItem(line.text)) break;
    const rest = line.text.slice(1).trimStart();
    if (rest === "") {
      state.i++;
      items.push(nestedOrNull(state, indent));
    } else if (isMappingEntry(rest) || isSequenceItem(rest)) {
      // "- key: value" opens a mapping whose keys sit where "key" starts
      const column = line.indent + (line.text.length - rest.length);
      state.lines[state.i] = { ...line, indent: column, text: rest };
      items.push(readBlock(state, column));
    } else {
      items.push(readInline(state, line, rest));
      state.i++;
    }
  }
  return items;
}

function readMapping(state, indent) {
  const map = {};
  while (state.i < state.lines.length) {
    const line = state.lines[state.i];
    if (line.indent < indent) break;
    if (line.indent > indent) fail(state, line, "unexpected indentation");
    const entry = splitEntry(state, line);
    if (Object.hasOwn(map, entry.key)) fail(state, line, `duplicate key ${JSON.stringify(entry.key)}`);
    if (entry.rest === "") {
      state.i++;
      const next = state.lines[state.i];
      // a sequence may sit at its key's own indentation
      if (next && next.indent === indent && isSequenceItem(next.text)) map[entry.key] = readSequence(state, indent);
      else map[entry.key] = nestedOrNull(state, indent);
    } else {
      map[entry.key] = readInline(state, line, entry.rest);
      state.i++;
    }
  }
  return map;
}

/** The block nested under a line at `indent`, or null when there is none. */
function nestedOrNull(state, indent) {
  const next = state.lines[state.i];
  return next && next.indent > indent ? readBlock(state, next.indent) : null;
}

const isMappingEntry = (text) => entryColon(text) >= 0;

/** Where a mapping entry's `: ` is, or -1. */
function entryColon(text) {
  if (text.startsWith('"') || text.startsWith("'")) {
    const end = closingQuote(text, 0);
    if (end < 0) return -1;
    return text[end + 1] === ":" && (end + 2 === text.length || text[end + 2] === " ") ? end + 1 : -1;
  }
  if (/^[[{]/.test(text)) return -1;
  const match = /:( |$)/.exec(text);
  return match ? match.index : -1;
}

function splitEntry(state, line) {
  const colon = entryColon(line.text);
  if (colon < 0) fail(state, line, "expected key: value");
  const rawKey = line.text.slice(0, colon).trim();
  const key = rawKey.startsWith('"') || rawKey.startsWith("'") ? quoted(state, line, rawKey) : rawKey;
  return { key: String(key), rest: line.text.slice(colon + 1).trim() };
}

function readInline(state, line, text) {
  const first = text[0];
  if (first === "&" || first === "*") fail(state, line, "anchors and aliases are not supported");
  if (first === "!") fail(state, line, "tags are not supported");
  if (first === "|" || first === ">") fail(state, line, "block scalars (| >) are not supported");
  if (first === "[" || first === "{") {
    const cursor = { text, pos: 0 };
    const value = readFlow(state, line, cursor);
    if (cursor.text.slice(cursor.pos).trim() !== "") fail(state, line, "unexpected text after a flow collection");
    return value;
  }
  if (first === '"' || first === "'") return quoted(state, line, text);
  const next = state.lines[state.i + 1];
  if (next && next.indent > line.indent && !isMappingEntry(next.text) && !isSequenceItem(next.text)) {
    fail(state, next, "multi-line scalars are not supported");
  }
  return plain(text);
}

function closingQuote(text, start) {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") i++;
    else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else return i;
    }
  }
  return -1;
}

/** A whole quoted scalar: "..." with JSON's escapes, '...' with '' for '. */
function quoted(state, line, text) {
  const end = closingQuote(text, 0);
  if (end < 0) fail(state, line, "unterminated quoted string (multi-line strings are not supported)");
  if (text.slice(end + 1).trim() !== "") fail(state, line, "unexpected text after a quoted string");
  return unquote(state, line, text.slice(0, end + 1));
}

function unquote(state, line, token) {
  const body = token.slice(1, -1);
  if (token[0] === "'") return body.replaceAll("''", "'");
  try {
    return JSON.parse(`"${body.replace(/\\x([0-9a-fA-F]{2})/g, "\\u00$1")}"`);
  } catch {
    return fail(state, line, "unsupported escape in a double-quoted string");
  }
}

const BOOLEANS = new Map(
  ["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"]
    .map((word) => [word, true])
    .concat(["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"].map((word) => [word, false])),
);

/** A plain scalar as PyYAML resolves it; numbers only when JavaScript holds them exactly. */
function plain(text) {
  if (BOOLEANS.has(text)) return BOOLEANS.get(text);
  if (text === "~" || text === "null" || text === "Null" || text === "NULL") return null;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  if (/^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  return text;
}

/** `[a, b]` and `{a: b}` on one line, nested as deep as they go. */
function readFlow(state, line, cursor) {
  const open = cursor.text[cursor.pos++];
  const close = open === "[" ? "]" : "}";
  const out = open === "[" ? [] : {};
  skipSpace(cursor);
  if (cursor.text[cursor.pos] === close) {
    cursor.pos++;
    return out;
  }
  for (;;) {
    skipSpace(cursor);
    if (open === "[") {
      out.push(flowValue(state, line, cursor, ",]"));
    } else {
      const key = flowValue(state, line, cursor, ":,}");
      skipSpace(cursor);
      if (cursor.text[cursor.pos] === ":") {
        cursor.pos++;
        skipSpace(cursor);
        out[String(key)] = flowValue(state, line, cursor, ",}");
      } else {
        out[String(key)] = null;
      }
    }
    skipSpace(cursor);
    const ch = cursor.text[cursor.pos++];
    if (ch === close) return out;
    if (ch !== ",") fail(state, line, `expected , or ${close} in a flow collection`);
  }
}

function flowValue(state, line, cursor, stops) {
  const ch = cursor.text[cursor.pos];
  if (ch === "[" || ch === "{") return readFlow(state, line, cursor);
  if (ch === '"' || ch === "'") {
    const end = closingQuote(cursor.text, cursor.pos);
    if (end < 0) fail(state, line, "unterminated quoted string");
    const value = unquote(state, line, cursor.text.slice(cursor.pos, end + 1));
    cursor.pos = end + 1;
    return value;
  }
  let end = cursor.pos;
  while (end < cursor.text.length && !stops.includes(cursor.text[end])) end++;
  if (end >= cursor.text.length) fail(state, line, "unterminated flow collection");
  const token = cursor.text.slice(cursor.pos, end).trim();
  cursor.pos = end;
  return plain(token);
}

function skipSpace(cursor) {
  while (cursor.text[cursor.pos] === " ") cursor.pos++;
}
