// A plugin's verdict. Plugins return one of these instead of throwing, so the framework
// can count reasons per node and decide whether preemption could help.
export type Code = 'Success' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error' | 'Skip';

export interface Status {
  readonly code: Code;
  /** Human reasons, worded as Kubernetes words them ("Insufficient cpu"). */
  readonly reasons: readonly string[];
  /** The plugin that returned it; filled in by the framework. */
  readonly plugin?: string;
}

export const SUCCESS: Status = Object.freeze({ code: 'Success', reasons: Object.freeze([]) as readonly string[] });
export const SKIP: Status = Object.freeze({ code: 'Skip', reasons: Object.freeze([]) as readonly string[] });

/** Not fitting now, but evicting pods (or other cluster changes) might help. */
export const unschedulable = (...reasons: string[]): Status => ({ code: 'Unschedulable', reasons });
/** Not fitting, and preempting pods on this node cannot change that. */
export const unresolvable = (...reasons: string[]): Status => ({ code: 'UnschedulableAndUnresolvable', reasons });
export const errorStatus = (message: string): Status => ({ code: 'Error', reasons: [message] });

export const isSuccess = (s: Status): boolean => s.code === 'Success';
export const isRejection = (s: Status): boolean => s.code === 'Unschedulable' || s.code === 'UnschedulableAndUnresolvable';
export const withPlugin = (s: Status, plugin: string): Status => (s.plugin === plugin ? s : { ...s, plugin });
export const message = (s: Status): string => s.reasons.join(', ');
