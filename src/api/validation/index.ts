// Generic validators shared by every kind: names, labels, selectors, ports, quantities,
// and object metadata. Messages follow Kubernetes' wording exactly.
export * from './names.ts';
export * from './labels.ts';
export * from './label-selector.ts';
export * from './ports.ts';
export * from './numbers.ts';
export * from './quantity.ts';
export * from './object-meta.ts';
export * from './go-format.ts';
export * from './errors.ts';
