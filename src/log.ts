import { createRequire } from 'node:module';
import os from 'node:os';
import { pino, stdSerializers, type DestinationStream, type Logger as PinoLogger } from 'pino';

/**
 * hookgraph's logger: a thin adapter over pino, so callers keep one small
 * interface. JSON lines on stderr; pretty-printed when stderr is a terminal.
 * Callers pass ids and counts, never secrets, keys, payloads or header
 * values; the redaction below is a second line of defence, not the first.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** Whether `debug` lines are written: hot paths skip building their fields otherwise. */
  readonly debugEnabled: boolean;
}

/** Field names whose values are never written, at the top level or one level down (e.g. `request.headers`). */
const REDACTED_FIELDS = ['authorization', 'headers', 'requestHeaders', 'responseHeaders', 'secret', 'secrets', 'password', 'apiKey', 'rootKey', 'secretKey'];
const REDACT_PATHS = REDACTED_FIELDS.flatMap((name) => [name, `*.${name}`]);

/**
 * pino's errWithCause keeps every enumerable property (pg errors carry
 * `code`, `detail`, `hint`, `where`, `constraint`) and serializes an Error
 * `cause` chain; a cause that is not an Error (Error.cause is non-enumerable) is kept as is.
 */
export function serializeError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const serialized = stdSerializers.errWithCause(value) as unknown as Record<string, unknown>;
  if (serialized.cause === undefined && value.cause !== undefined) serialized.cause = value.cause;
  return serialized;
}

/**
 * `destination` replaces stderr (tests pass one that collects lines; a
 * destination is always written JSON).
 */
export function createLogger(level: Level = 'info', base: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  const pretty = destination === undefined && process.stderr.isTTY === true;
  const logger = pino(
    {
      level,
      base: { pid: process.pid, hostname: os.hostname(), ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names in JSON ("level":"info"), as log pipelines match on them; pino-pretty wants pino's numbers.
      formatters: pretty ? undefined : { level: (label) => ({ level: label }) },
      serializers: { err: serializeError, error: serializeError },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination ?? (pretty ? prettyStream() : pino.destination({ fd: 2, sync: true })),
  );
  return adapt(logger);
}

function adapt(logger: PinoLogger): Logger {
  return {
    debug: (message, fields) => logger.debug(fields ?? {}, message),
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
    child: (fields) => adapt(logger.child(fields)),
    get debugEnabled() {
      return logger.isLevelEnabled('debug');
    },
  };
}

/** Loaded only for a terminal; synchronous, so lines written just before `process.exit` are not lost. */
function prettyStream(): DestinationStream {
  const require = createRequire(import.meta.url);
  const pretty = require('pino-pretty') as typeof import('pino-pretty');
  return pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' });
}

const noop = () => undefined;
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => silentLogger, debugEnabled: false };
