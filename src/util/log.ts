// Structured logs: one JSON object per line on stderr, quiet by default (warn and up).
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export function createLogger(opts: { level?: Level; component?: string; write?: (line: string) => void } = {}): Logger {
  const min = ORDER[opts.level ?? 'warn'];
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const at = (level: Level) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, ...(opts.component ? { component: opts.component } : {}), msg, ...fields }));
  };
  return {
    debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'),
    child: (component) => createLogger({ ...opts, component: opts.component ? `${opts.component}/${component}` : component }),
  };
}

export const silentLogger: Logger = createLogger({ write: () => {} });
