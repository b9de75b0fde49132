// What a simulated container "runs": its command line, read against a table of rules
// (data, in the spirit of KWOK's stages), becomes a Program — how long it runs and how
// it exits. Anything the table does not know runs until it is stopped, like a server.
export interface Program {
  /** How long one run lasts; Infinity runs until the pod is deleted. */
  durationMs: number;
  exitCode: number;
}

export const FOREVER: Program = Object.freeze({ durationMs: Infinity, exitCode: 0 });

export interface ProgramRule {
  name: string;
  /** Matched against one shell step, e.g. `sleep 5` (a leading /bin/ or /usr/bin/ is dropped). */
  pattern: RegExp;
  program(m: RegExpMatchArray): Program;
}

const UNITS: Record<string, number> = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The rules, first match wins. Add a row to teach the simulator a command. */
export const PROGRAM_RULES: readonly ProgramRule[] = [
  { name: 'true', pattern: /^(?:true|:)$/, program: () => ({ durationMs: 0, exitCode: 0 }) },
  { name: 'false', pattern: /^false$/, program: () => ({ durationMs: 0, exitCode: 1 }) },
  { name: 'exit', pattern: /^exit(?:\s+(\d+))?$/, program: (m) => ({ durationMs: 0, exitCode: Number(m[1] ?? 0) & 255 }) },
  { name: 'sleep infinity', pattern: /^sleep\s+inf(?:inity)?$/, program: () => FOREVER },
  {
    name: 'sleep', pattern: /^sleep\s+(\d+(?:\.\d+)?)([smhd]?)$/,
    program: (m) => ({ durationMs: Math.round(Number(m[1]) * UNITS[m[2] ?? '']!), exitCode: 0 }),
  },
  { name: 'echo', pattern: /^(?:echo|printf|date|hostname|env|printenv|ls|cat|uname|id|whoami|pwd)(?:\s.*)?$/, program: () => ({ durationMs: 0, exitCode: 0 }) },
];

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh']);

function basename(arg: string): string {
  return arg.replace(/^(?:\/usr)?\/s?bin\//, '');
}

/** One step of a script: a rule's program, or FOREVER when no rule matches. */
export function stepProgram(step: string, rules: readonly ProgramRule[] = PROGRAM_RULES): Program {
  const words = step.trim().split(/\s+/);
  const line = [basename(words[0] ?? ''), ...words.slice(1)].join(' ');
  for (const rule of rules) {
    const m = line.match(rule.pattern);
    if (m) return rule.program(m);
  }
  return FOREVER;
}

/**
 * A shell script (`sh -c "sleep 2; exit 3"`): steps separated by `;`, `&&` or newlines
 * run one after another; `&&` stops at the first failure. Durations add up; the exit
 * code is the last step's.
 */
export function scriptProgram(script: string, rules: readonly ProgramRule[] = PROGRAM_RULES): Program {
  let durationMs = 0;
  let exitCode = 0;
  let skip = false;
  for (const part of script.split(/(;|&&|\n)/)) {
    if (part === ';' || part === '\n') { skip = false; continue; }
    if (part === '&&') { skip = exitCode !== 0; continue; }
    if (!part.trim() || skip) continue;
    const p = stepProgram(part, rules);
    durationMs += p.durationMs;
    exitCode = p.exitCode;
    if (!Number.isFinite(durationMs)) return FOREVER;
    if (/^\s*exit\b/.test(part)) break; // `exit N` ends the script
  }
  return { durationMs, exitCode };
}

/** The program a container runs: its command and args (no command at all: the image's, FOREVER). */
export function containerProgram(container: { command?: unknown; args?: unknown }, rules: readonly ProgramRule[] = PROGRAM_RULES): Program {
  const argv = [...strings(container.command), ...strings(container.args)];
  if (!argv.length) return FOREVER;
  const shell = basename(argv[0]!);
  if (SHELLS.has(shell)) {
    const c = argv.indexOf('-c');
    if (c > 0 && argv[c + 1] !== undefined) return scriptProgram(argv[c + 1]!, rules);
    if (argv[1] === '-ec' || argv[1] === '-xc' || argv[1] === '-exc') return scriptProgram(argv[2] ?? '', rules);
    return FOREVER; // an interactive shell waits for input
  }
  return stepProgram(argv.join(' '), rules);
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}
