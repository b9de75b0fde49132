// Volume access modes: validation shared by PV and PVC, and kubectl's short form.
import { notSupported, type FieldError } from '../field-error.ts';
import { arr } from './access.ts';

export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];

export function validateAccessModes(field: string, modes: unknown): FieldError[] {
  return arr(modes).flatMap((m) => (ACCESS_MODES.includes(m as string) ? [] : [notSupported(field, m, ACCESS_MODES)]));
}

/** "RWO,ROX,RWX,RWOP" in that fixed order, duplicates dropped. */
export function accessModesString(modes: unknown): string {
  const set = new Set(arr(modes));
  const short: [string, string][] = [['ReadWriteOnce', 'RWO'], ['ReadOnlyMany', 'ROX'], ['ReadWriteMany', 'RWX'], ['ReadWriteOncePod', 'RWOP']];
  return short.filter(([mode]) => set.has(mode)).map(([, s]) => s).join(',');
}
