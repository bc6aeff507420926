// A VM move's uuid, derived from what it is the move of: the notification,
// the run, the flow, the attempt and the instance. Prepare run again (a
// retried Workflow step) derives the same uuids, so its rows are written
// once (the unique uuid index turns a repeat into a no-op).

export async function vmoveUuid(
  notificationUuid: string,
  run: number,
  flow: number,
  attempt: string,
  instanceUuid: string,
): Promise<string> {
  const text = `${notificationUuid}/${run}/${flow}/${attempt}/${instanceUuid}`;
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).slice(0, 16);
  // RFC 9562 version 8 (custom) with the RFC variant bits.
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
