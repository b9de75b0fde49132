// `$(VAR)` references in env values, command and args, and subPathExpr: the kubelet's
// third_party/forked/golang/expansion. `$$` is an escaped `$`; a reference to an unknown
// variable stays as written; a `$` not followed by `(` or `$` is copied with the next byte.

/** Looks the name up in each map in turn; unknown names come back as `$(name)`. */
export function mappingFuncFor(...context: Map<string, string>[]): (name: string) => string {
  return (name) => {
    for (const vars of context) {
      const v = vars.get(name);
      if (v !== undefined) return v;
    }
    return `$(${name})`;
  };
}

export function expand(input: string, mapping: (name: string) => string): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') {
      out += '$';
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close >= 0) {
        out += mapping(rest.slice(1, close));
        advance = close + 1;
      } else {
        out += '$(';
      }
    } else {
      out += '$' + rest[0];
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
