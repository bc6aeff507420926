import { badRequest, messages } from "./faults";

// oslo strutils.bool_from_string(strict=True), which upstream applies to the
// hosts `on_maintenance` and `reserved` filters (and we to `enabled`, D5).
const TRUE_STRINGS = ["1", "t", "true", "on", "y", "yes"];
const FALSE_STRINGS = ["0", "f", "false", "off", "n", "no"];

/** A boolean list filter; 400 naming the parameter for anything else. */
export function booleanFilter(name: string, value: string): boolean {
  const lowered = value.trim().toLowerCase();
  if (TRUE_STRINGS.includes(lowered)) return true;
  if (FALSE_STRINGS.includes(lowered)) return false;
  throw badRequest(messages.invalidBooleanFilter(name, value));
}
