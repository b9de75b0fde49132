// Some Kubernetes messages print values with Go's %#v (`map[string]string{"app":"x"}`).
// Clients and people match on them, so we render those few shapes the same way.

const q = (s: string): string => JSON.stringify(s);

/** map[string]string{"a":"1", "b":"2"} — Go prints map keys sorted. */
export function goStringMap(m: Record<string, string> | undefined | null): string {
  if (!m) return 'map[string]string(nil)';
  const entries = Object.keys(m).sort().map((k) => `${q(k)}:${q(String(m[k]))}`);
  return `map[string]string{${entries.join(', ')}}`;
}

/** []string{"a", "b"} */
export function goStringSlice(a: readonly string[] | undefined | null): string {
  if (!a) return '[]string(nil)';
  return `[]string{${a.map((s) => q(String(s))).join(', ')}}`;
}

interface SelectorLike {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key?: string; operator?: string; values?: string[] }[];
}

/** v1.LabelSelector{MatchLabels:map[string]string{...}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)} */
export function goLabelSelector(s: SelectorLike | undefined | null): string {
  if (!s) return '(*v1.LabelSelector)(nil)';
  const exprs = s.matchExpressions
    ? `[]v1.LabelSelectorRequirement{${s.matchExpressions
      .map((e) => `v1.LabelSelectorRequirement{Key:${q(e.key ?? '')}, Operator:${q(e.operator ?? '')}, Values:${goStringSlice(e.values)}}`)
      .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `&v1.LabelSelector{MatchLabels:${goStringMap(s.matchLabels)}, MatchExpressions:${exprs}}`;
}
