// Log lines that say which request or recovery they belong to: every line
// starts with its subject, e.g. `[req-…]` for a /v1 request or
// `[notification …]` for a recovery, so one can be followed through the
// Worker's logs (wrangler tail, Workers Logs).

export interface Log {
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

export function logFor(subject: string): Log {
  const prefix = `[${subject}]`;
  return {
    info: (message, ...details) => console.info(prefix, message, ...details),
    warn: (message, ...details) => console.warn(prefix, message, ...details),
    error: (message, ...details) => console.error(prefix, message, ...details),
  };
}
