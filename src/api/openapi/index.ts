// Kubernetes schemas for the kinds Skiff serves: the resolved graph patching and
// validation walk, the OpenAPI v3 documents kubectl reads, and strict field checks.

export { schemaForKind, schemaForDefinition } from './resolve.ts';
export { openapiV3Index, openapiV3Document, openapiV3DocumentBytes, definitionNameForKind, groupVersionPath } from './documents.ts';
export type { DocumentBytes } from './documents.ts';
export { validateAgainstSchema } from './validate.ts';
export type { FieldTypeError, SchemaValidationResult, ValidateOptions } from './validate.ts';
export { PATCH_MEDIA_TYPES } from './operations.ts';
export type { SchemaNode, SchemaType } from './types.ts';
