import pino, { type Logger } from "pino";

export type { Logger };

// Token-shaped strings are masked wherever they appear in a log line, not only in known keys.
const SECRET_PATTERNS: RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{8,}/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\bltx_[A-Za-z0-9_-]{16,}/g,
];

function maskSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return SECRET_PATTERNS.reduce((s, re) => s.replace(re, "[redacted]"), value);
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskSecrets(v, depth + 1);
  return out;
}

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Where lines go; defaults to stdout. The CLI sends logs to stderr so stdout stays llms.txt. */
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? "info",
      name: opts.name,
      redact: {
        paths: [
          "authorization",
          "cookie",
          "apiKey",
          "password",
          "*.password",
          "*.authorization",
          "*.cookie",
          "*.apiKey",
          "req.headers.authorization",
          "req.headers.cookie",
          "headers.authorization",
          "headers.cookie",
        ],
        censor: "[redacted]",
      },
      formatters: { log: (obj) => maskSecrets(obj) as Record<string, unknown> },
      serializers: { err: pino.stdSerializers.err },
    },
    opts.destination ?? pino.destination(1),
  );
}

/** A logger that drops everything: for library callers and tests that don't want output. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
