// The agent's container environment: resolveEnv and the downward-API pieces volumes share.
export { EnvError, resolveEnv, decodeData, stringData, getObject, isEnvVarName } from './resolve.ts';
export { expand, mappingFuncFor } from './expansion.ts';
export { extractFieldPathAsString, podFieldValue, formatMap, goQuote, splitMaybeSubscriptedPath } from './fieldpath.ts';
export type { ObjectFieldSelector, PodIPs } from './fieldpath.ts';
export { resourceFieldValue, extractContainerResourceValue, withDefaultLimits, quantityCeil } from './resources.ts';
export type { ResourceFieldSelector } from './resources.ts';
export { fromServices, serviceEnv } from './service-env.ts';
export type { EnvDeps, EnvVar, ObjectSource, ResourceList, WarningSink } from './types.ts';
