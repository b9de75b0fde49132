// Hand-built schema graphs for the tests: just enough of Pod, Deployment and Service to
// carry the patch and apply extensions the real OpenAPI documents carry.

import type { SchemaNode } from '../../api/openapi/types.ts';

const string: SchemaNode = { type: 'string' };
const integer: SchemaNode = { type: 'integer' };
const stringMap: SchemaNode = { type: 'object', additionalProperties: string };

export const objectMeta: SchemaNode = {
  type: 'object',
  properties: {
    name: string,
    namespace: string,
    uid: string,
    resourceVersion: string,
    labels: stringMap,
    annotations: stringMap,
    finalizers: {
      type: 'array',
      items: string,
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-list-type': 'set',
    },
  },
};

const envVar: SchemaNode = { type: 'object', properties: { name: string, value: string } };
const containerPort: SchemaNode = { type: 'object', properties: { name: string, containerPort: integer, protocol: string } };

export const container: SchemaNode = {
  type: 'object',
  properties: {
    name: string,
    image: string,
    args: { type: 'array', items: string },
    env: {
      type: 'array',
      items: envVar,
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    },
    ports: {
      type: 'array',
      items: containerPort,
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-patch-merge-key': 'containerPort',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
    },
  },
};

const volume: SchemaNode = {
  type: 'object',
  properties: {
    name: string,
    emptyDir: { type: 'object', properties: { medium: string } },
    configMap: { type: 'object', properties: { name: string } },
  },
};

export const podSpec: SchemaNode = {
  type: 'object',
  properties: {
    containers: {
      type: 'array',
      items: container,
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    },
    volumes: {
      type: 'array',
      items: volume,
      'x-kubernetes-patch-strategy': 'merge,retainKeys',
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    },
    nodeSelector: { ...stringMap, 'x-kubernetes-map-type': 'atomic' },
  },
};

export const podSchema: SchemaNode = {
  type: 'object',
  properties: { apiVersion: string, kind: string, metadata: objectMeta, spec: podSpec, status: { type: 'object', properties: { phase: string } } },
};

export const deploymentSchema: SchemaNode = {
  type: 'object',
  properties: {
    apiVersion: string,
    kind: string,
    metadata: objectMeta,
    spec: {
      type: 'object',
      properties: {
        replicas: integer,
        selector: {
          type: 'object',
          properties: { matchLabels: stringMap },
          'x-kubernetes-map-type': 'atomic',
        },
        strategy: {
          type: 'object',
          'x-kubernetes-patch-strategy': 'retainKeys',
          properties: {
            type: string,
            rollingUpdate: { type: 'object', properties: { maxSurge: string, maxUnavailable: string } },
          },
        },
        template: { type: 'object', properties: { metadata: objectMeta, spec: podSpec } },
      },
    },
    status: { type: 'object', properties: { replicas: integer, readyReplicas: integer } },
  },
};

export const serviceSchema: SchemaNode = {
  type: 'object',
  properties: {
    apiVersion: string,
    kind: string,
    metadata: objectMeta,
    spec: {
      type: 'object',
      properties: {
        type: string,
        selector: { ...stringMap, 'x-kubernetes-map-type': 'atomic' },
        ports: {
          type: 'array',
          items: { type: 'object', properties: { name: string, port: integer, protocol: string, targetPort: integer } },
          'x-kubernetes-patch-strategy': 'merge',
          'x-kubernetes-patch-merge-key': 'port',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['port', 'protocol'],
        },
      },
    },
  },
};
