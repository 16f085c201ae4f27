/**
 * The error catalogue: every stable error code of the host, its gateway, Pulse, the
 * attestation store and the SDK, declared once with the HTTP status the host answers it with,
 * the default message (what the code means, used when a thrower gives none) and the default
 * hint (what to do, used when a thrower has nothing more specific to say). Modelled on
 * fastify's `lib/errors.js`: one table, so a code cannot be answered with two statuses in two
 * places. docs/errors.md lists the same codes; a test keeps the two in step.
 *
 * A code never changes meaning; messages and hints may be reworded.
 */

/** One entry of the catalogue. */
export interface ErrorSpec {
  /** HTTP status of an answer carrying this code. */
  readonly status: number;
  /** Default message: what the code means, in a sentence that stands on its own. */
  readonly message: string;
  /** Default hint: what the reader can do about it. */
  readonly hint: string;
}

/**
 * Every code, grouped by where it is raised (the groups are for readers; a code is one name
 * space). Statuses: a plugin that cannot be started or answered badly is 502 (the host is a
 * gateway to it); a request the caller got wrong is 4xx.
 */
export const ERROR_CATALOGUE = {
  // Starting a plugin (host, `qntx plugin check`, the SDK's testing helpers).
  BINARY_NOT_FOUND: {
    status: 502,
    message: "the plugin's binary or script was not found",
    hint: "install the plugin in one of the search paths ([plugin] paths, <data_dir>/plugins), or set binary or command in its table",
  },
  BINARY_MISMATCH: {
    status: 502,
    message: "the plugin's file does not have the sha256 pinned in its table, so it was not spawned",
    hint: "reinstall the plugin file that was pinned, or update sha256 in its table to the new file's hash",
  },
  TRANSPORT_UNSUPPORTED: {
    status: 502,
    message: "the spawned plugin did not take the transport the host asked for (auto-mTLS, unix socket)",
    hint: "update the plugin to a qntx SDK that supports it, or turn the transport off in its table",
  },
  SPAWN_FAILED: {
    status: 502,
    message: "the plugin process could not be started",
    hint: "check that the plugin file exists and is executable (build the plugin first?)",
  },
  EXITED_BEFORE_PORT: {
    status: 502,
    message: "the plugin process exited before it announced its port",
    hint: "run the plugin by hand with --port <n> to see why it stops",
  },
  PORT_TIMEOUT: {
    status: 502,
    message: "the plugin announced neither its port nor its socket in time",
    hint: "print QNTX_PLUGIN_PORT=<port> on stdout (and flush it) as soon as the gRPC server listens",
  },
  NO_PORT_LINE: {
    status: 502,
    message: "the plugin process printed no QNTX_PLUGIN_PORT=<port> line within the start deadline",
    hint: "print QNTX_PLUGIN_PORT=<port> on stdout (and flush it) as soon as the gRPC server listens",
  },
  NOT_READY: {
    status: 502,
    message: "the plugin did not answer Metadata in time",
    hint: "check that the plugin serves protocol.DomainPluginService at its port or address",
  },
  WRONG_NAME: {
    status: 502,
    message: "the plugin answers Metadata with another name than the one expected",
    hint: "rename the plugin's table to the name it reports, or point the table at the right binary or address",
  },
  VERSION_MISMATCH: {
    status: 502,
    message: "the plugin's qntx_version range does not accept this host's version",
    hint: "run a host the range accepts, or a plugin release built for this host",
  },
  INITIALIZE_FAILED: {
    status: 502,
    message: "the plugin refused Initialize",
    hint: "the plugin's error says why; its config is what Initialize carries",
  },
  TLS_FAILED: {
    status: 502,
    message: "the TLS connection to the plugin failed: untrusted or expired certificate, wrong name, or a plaintext peer",
    hint: "check tls, server_name and the certificates in the plugin's table",
  },
  CONFIG_INVALID: {
    status: 400,
    message: "the configuration cannot be used",
    hint: "fix the lines the error names",
  },
  DEPENDENCY_FAILED: {
    status: 424,
    message: "a plugin this one depends on is missing, disabled, of the wrong version or failed to start",
    hint: "start or fix the dependency first, or change depends_on",
  },
  IN_USE: {
    status: 409,
    message: "running plugins depend on this one",
    hint: "stop its dependents first, or force it: qntx plugin stop <name> --force",
  },

  // Finding and calling plugins (control API, proxy, WebSocket gateway, commands).
  PLUGIN_NOT_FOUND: {
    status: 404,
    message: "there is no plugin by that name",
    hint: "GET /api/plugins lists the plugins",
  },
  PLUGIN_UNAVAILABLE: {
    status: 503,
    message: "the plugin is not running, or has stopped answering its health checks",
    hint: "retry shortly, or start it: qntx plugin start <name>",
  },
  COMMAND_NOT_FOUND: {
    status: 404,
    message: "the plugin has no command by that name",
    hint: "qntx <plugin> --help lists its commands",
  },
  PLUGIN_TIMEOUT: {
    status: 504,
    message: "the plugin did not answer within the call's deadline",
    hint: "make the plugin answer sooner, or raise [host] request_timeout_ms",
  },
  PLUGIN_UNIMPLEMENTED: {
    status: 404,
    message: "the plugin answered the call with gRPC NOT_FOUND or UNIMPLEMENTED",
    hint: "the plugin does not serve this; qntx plugin check <plugin> shows what it does serve",
  },
  PLUGIN_CALL_FAILED: {
    status: 502,
    message: "the call to the plugin failed with a gRPC error",
    hint: "qntx plugin logs <name> shows the plugin's output",
  },
  PLUGIN_BAD_RESPONSE: {
    status: 502,
    message: "the plugin answered something the host cannot send on (an invalid status or header)",
    hint: "answer an HTTP status from 200 to 599 and header names and values HTTP allows",
  },

  // The host's own HTTP API and gateway.
  UNAUTHORIZED: {
    status: 401,
    message: "this action needs the host's admin token",
    hint: 'send "Authorization: Bearer <token>" with the token from <data_dir>/admin.token (the qntx CLI does this for you)',
  },
  LOGIN_LINK_INVALID: {
    status: 401,
    message: "this dashboard login link is unknown, already used or expired",
    hint: "run qntx dashboard for a new link: each link works once, within 5 minutes",
  },
  CSRF_TOKEN_MISSING: {
    status: 403,
    message: "a state-changing request made with a dashboard session needs the session's CSRF token",
    hint: "send the X-CSRF-Token header with the csrf value of GET /api/dashboard/session (the dashboard does this), or use the admin token instead of the cookie",
  },
  CROSS_SITE_REQUEST: {
    status: 403,
    message: "a state-changing request with a dashboard session came from another site (its Origin is not this host)",
    hint: "act from the dashboard this host serves, or send the admin token (Authorization: Bearer) instead of the cookie",
  },
  INVALID_ARGUMENT: {
    status: 400,
    message: "the request is not valid",
    hint: "fix the request; the error says what is wrong",
  },
  ROUTE_NOT_FOUND: {
    status: 404,
    message: "no route of the host matches the request",
    hint: "plugin routes live under /api/<plugin>/…; GET /api/plugins/routes lists them",
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    message: "the route does not take this method",
    hint: "the Allow header lists the methods it takes",
  },
  ORIGIN_NOT_ALLOWED: {
    status: 403,
    message: "the WebSocket's Origin is not allowed",
    hint: "add it to allowed_origins in [host] (globs like https://*.example.com)",
  },
  UPGRADE_REQUIRED: {
    status: 426,
    message: "this is a WebSocket endpoint",
    hint: "connect with a WebSocket client",
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    message: "the request body is larger than the host accepts",
    hint: "send a smaller body; the host's limit is [host] max_body_bytes",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: "the request body has a content type the route does not read",
    hint: "send the body as application/json",
  },
  REQUEST_TIMEOUT: {
    status: 408,
    message: "the request did not arrive whole in time",
    hint: "send the whole request sooner",
  },
  HOST_STOPPING: {
    status: 503,
    message: "the host is shutting down: it finishes the requests it has and takes no new ones",
    hint: "retry once the host is back (or against another host)",
  },
  INTERNAL: {
    status: 500,
    message: "the host failed while answering",
    hint: "this is a bug in the host: the host's log has the details",
  },
  HOST_NOT_RUNNING: {
    status: 503,
    message: "no qntx host is running or answering",
    hint: "start one with `qntx server` (or `pnpm start` in the qntx repository)",
  },

  // Pulse (jobs and schedules) and the attestation store.
  UNKNOWN_HANDLER: {
    status: 400,
    message: "no plugin announced a job handler by that name",
    hint: "GET /api/pulse/handlers lists the handlers; the plugin must be started once to announce its own",
  },
  AMBIGUOUS_HANDLER: {
    status: 400,
    message: "several plugins announce a job handler by that name",
    hint: "name it as <plugin>/<handler>",
  },
  INVALID_STATE: {
    status: 400,
    message: "the job is not in a state that allows this",
    hint: "GET /api/pulse/jobs/<id> shows its state",
  },
  NOT_FOUND: {
    status: 404,
    message: "there is no job or schedule by that id",
    hint: "GET /api/pulse/jobs lists the jobs, GET /api/pulse/schedules the schedules",
  },
  ALREADY_EXISTS: {
    status: 400,
    message: "an attestation with that id already exists",
    hint: "let the host generate the id (GenerateAndCreateAttestation)",
  },
  DATABASE_UNAVAILABLE: {
    status: 503,
    message: "the attestation database cannot be reached",
    hint: "check that PostgreSQL runs and accepts connections at that address (host, port, database name, user and password)",
  },
  SCHEMA_TOO_NEW: {
    status: 500,
    message: "the database was migrated by a newer qntx than this one",
    hint: "upgrade qntx, or point it at another database",
  },

  // The SDK: its testing helpers and its clients of the host's services.
  CALL_FAILED: {
    status: 502,
    message: "a call into the plugin under test failed with a gRPC status or passed its deadline",
    hint: "the error's grpcCode and the plugin's output say why",
  },
  PROCESS_EXITED: {
    status: 502,
    message: "the plugin process exited during or before the call",
    hint: "its exit code and last output lines say why; run it by hand with --port <n> to see more",
  },
  STOPPED: {
    status: 503,
    message: "the test plugin was stopped",
    hint: "make the call before stop() (or before the end of the `await using` scope)",
  },
  WEBSOCKET: {
    status: 502,
    message: "the WebSocket session ended, or no frame came in time",
    hint: "the error says how the session ended; the plugin's output says why",
  },
  HOST_ERROR: {
    status: 502,
    message: "the host answered a service call with success:false",
    hint: "the host's error text says what it refused",
  },
  HOST_CALL_FAILED: {
    status: 502,
    message: "a call to the host's services failed with a gRPC status",
    hint: "check that the host runs and offers the service (QNTX hosts answer UNIMPLEMENTED for this host's additions)",
  },
} as const satisfies Record<string, ErrorSpec>;

/** A stable error code of the catalogue. */
export type QntxErrorCode = keyof typeof ERROR_CATALOGUE;

/** Every code, in catalogue order. */
export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as readonly QntxErrorCode[];

/** Whether `value` is a code of the catalogue (an error body from elsewhere may carry any text). */
export function isQntxErrorCode(value: unknown): value is QntxErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CATALOGUE, value);
}

/** The HTTP status of an answer with `code`. */
export function httpStatusOf(code: QntxErrorCode): number {
  return ERROR_CATALOGUE[code].status;
}
