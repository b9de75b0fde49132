// Query and path parameters of the REST operations, worded after the Kubernetes API
// reference. kubectl reads one of them for real: `fieldValidation` on PATCH, whose
// presence tells it the server validates fields itself.

type Parameter = { [key: string]: unknown };

function query(name: string, type: 'string' | 'boolean' | 'integer', description: string): Parameter {
  return { description, in: 'query', name, schema: { type, uniqueItems: true } };
}

function path(name: string, description: string): Parameter {
  return { description, in: 'path', name, required: true, schema: { type: 'string', uniqueItems: true } };
}

export const NAMESPACE_PARAM = path('namespace', 'object name and auth scope, such as for teams and projects');
export const nameParam = (kind: string): Parameter => path('name', `name of the ${kind}`);
export const PRETTY_PARAM = query('pretty', 'string', "If 'true', then the output is pretty printed.");

const DRY_RUN = query('dryRun', 'string', 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed');
const FIELD_MANAGER = query('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.');
const FIELD_MANAGER_APPLY = query('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).');
const FIELD_VALIDATION = query('fieldValidation', 'string', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default. - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.');
const FORCE = query('force', 'boolean', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.');

const GRACE_PERIOD = query('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.');
const ORPHAN = query('orphanDependents', 'boolean', 'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the "orphan" finalizer will be added to/removed from the object\'s finalizers list. Either this field or PropagationPolicy may be set, but not both.');
const PROPAGATION = query('propagationPolicy', 'string', "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.");

const LIST = [
  query('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server\'s discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.'),
  query('continue', 'string', 'The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize.'),
  query('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  query('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  query('limit', 'integer', 'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.'),
  query('resourceVersion', 'string', 'resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset'),
  query('resourceVersionMatch', 'string', 'resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset'),
  query('sendInitialEvents', 'boolean', '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic "Bookmark" event will be sent.'),
  query('timeoutSeconds', 'integer', 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.'),
  query('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.'),
];

const LOG = [
  query('container', 'string', 'The container for which to stream logs. Defaults to only container if there is one container in the pod.'),
  query('follow', 'boolean', 'Follow the log stream of the pod. Defaults to false.'),
  query('insecureSkipTLSVerifyBackend', 'boolean', 'insecureSkipTLSVerifyBackend indicates that the apiserver should not confirm the validity of the serving certificate of the backend it is connecting to.'),
  query('limitBytes', 'integer', 'If set, the number of bytes to read from the server before terminating the log output.'),
  query('previous', 'boolean', 'Return previous terminated container logs. Defaults to false.'),
  query('sinceSeconds', 'integer', 'A relative time in seconds before the current time from which to show logs.'),
  query('stream', 'string', 'Specify which container log stream to return to the client. Acceptable values are "All", "Stdout" and "Stderr". If not specified, "All" is used.'),
  query('tailLines', 'integer', 'If set, the number of lines from the end of the logs to show.'),
  query('timestamps', 'boolean', 'If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false.'),
];

const EXEC = [
  query('command', 'string', 'Command is the remote command to execute. argv array. Not executed within a shell.'),
  query('container', 'string', 'Container in which to execute the command. Defaults to only container if there is only one container in the pod.'),
  query('stderr', 'boolean', 'Redirect the standard error stream of the pod for this call.'),
  query('stdin', 'boolean', 'Redirect the standard input stream of the pod for this call. Defaults to false.'),
  query('stdout', 'boolean', 'Redirect the standard output stream of the pod for this call.'),
  query('tty', 'boolean', 'TTY if true indicates that a tty will be allocated for the exec call. Defaults to false.'),
];

export const PARAMS = {
  list: LIST,
  create: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
  update: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
  patch: [DRY_RUN, FIELD_MANAGER_APPLY, FIELD_VALIDATION, FORCE],
  delete: [DRY_RUN, GRACE_PERIOD, ORPHAN, PROPAGATION],
  deletecollection: [DRY_RUN, GRACE_PERIOD, ORPHAN, PROPAGATION, ...LIST.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks')],
  log: LOG,
  exec: EXEC,
  attach: EXEC.filter((p) => p.name !== 'command'),
  portforward: [{ description: 'List of ports to forward Required when using WebSockets', in: 'query', name: 'ports', schema: { type: 'integer', uniqueItems: true } }],
  proxy: [query('path', 'string', 'Path is the URL path to use for the current proxy request to node.')],
};
