// Per-cycle scratch space: PreFilter computes once per pod what Filter and Score read per
// node. Values clone themselves so preemption can simulate evictions on a copy.
export interface StateData {
  clone(): StateData;
}

export class CycleState {
  readonly #data = new Map<string, StateData>();
  /** Plugins whose PreFilter / PreScore returned Skip: their Filter / Score do not run. */
  readonly skipFilter = new Set<string>();
  readonly skipScore = new Set<string>();

  write(key: string, value: StateData): void {
    this.#data.set(key, value);
  }

  read<T extends StateData>(key: string): T | undefined {
    return this.#data.get(key) as T | undefined;
  }

  clone(): CycleState {
    const copy = new CycleState();
    for (const [k, v] of this.#data) copy.#data.set(k, v.clone());
    for (const n of this.skipFilter) copy.skipFilter.add(n);
    for (const n of this.skipScore) copy.skipScore.add(n);
    return copy;
  }
}
