import { isPrintable, PRINTABLE, pattern } from "./formats";
import { component } from "./json-schema";
import { jsonBoolean, jsonString } from "./primitives";

// Masakari's shared parameter types (masakari/api/validation/parameter_types),
// one definition each, used by every resource schema.

/** 1-255 printable characters, not starting or ending with a space. */
export const name = () =>
  component("Name", jsonString({ minLength: 1, maxLength: 255, format: "name", examples: ["rack-4"] }));

/** String or null, newlines and printable characters (tab and CR rejected). */
export const description = () =>
  component(
    "Description",
    jsonString({
      nullable: true,
      minLength: 0,
      examples: ["Hosts behind PDU 4"],
      pattern: {
        // Upstream's pattern is a 4 KB class of every printable BMP character,
        // quoted whole in its message; this quotes its shape instead.
        source: "^[\\n<printable characters>]*$",
        test: (v) => [...v].every((ch) => ch === "\n" || isPrintable(ch)),
        json: `^(?:\\n|${PRINTABLE})*$`,
      },
    }),
  );

/** A host type: letters and digits, up to 255. */
export const hostType = () =>
  component(
    "HostType",
    jsonString({ nullable: true, minLength: 0, maxLength: 255, pattern: pattern("^[a-zA-Z0-9]*$", /^[a-zA-Z0-9]*$/) }),
  );

/** Boolean-like: true/false or the strings upstream lists. */
export const boolean = () => component("Boolean", jsonBoolean());

/** A notification's hostname. */
export const hostname = () =>
  component(
    "Hostname",
    jsonString({
      minLength: 1,
      maxLength: 255,
      pattern: pattern("^[a-zA-Z0-9-._]*$", /^[a-zA-Z0-9\-._]*$/),
      examples: ["compute-1"],
    }),
  );
