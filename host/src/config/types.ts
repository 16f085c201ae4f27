/**
 * The host's configuration after loading: `am.plugins.toml` read, defaults applied, validated
 * and frozen (raw → defaults → validated → frozen). CLI flags override the `[host]` keys they
 * mirror (`--listen`, `--data-dir`).
 */

/** The `[host]` table. Durations are milliseconds. */
export interface HostSettings {
  /** HTTP listen address, `host:port` (default `127.0.0.1:8770`; port 0 picks a free one). */
  readonly listen: string;
  /** Data dir (default `~/.qntx`, or `$QNTX_HOME`), absolute after loading. */
  readonly dataDir: string;
  /** First port probed for a spawned plugin's `--port` (default 38700). */
  readonly pluginBasePort: number;
  /** Deadline of every proxied HTTP call (default 30 000 → 504 when it passes). */
  readonly requestTimeoutMs: number;
  /** How often every plugin's `Health` is polled (default 10 000). */
  readonly healthIntervalMs: number;
  /** How long to wait for `QNTX_PLUGIN_PORT=` before assuming the port passed (default 2 000). */
  readonly portLineTimeoutMs: number;
  /** How long `Metadata` is polled for the configured name (default 5 000). */
  readonly readyTimeoutMs: number;
  /** Deadline of `Initialize` (default 10 000). */
  readonly initializeTimeoutMs: number;
  /** Budget of a stop: `Shutdown` RPC, then SIGTERM, then SIGKILL when it passes (default 5 000). */
  readonly shutdownTimeoutMs: number;
  /** Largest request body proxied to a plugin (default 10 MiB → 413 above it). */
  readonly maxBodyBytes: number;
  /** Where the host serves ATSStoreService and QueueService to plugins (default `127.0.0.1:0`). */
  readonly grpcListen: string;
  /** Pulse jobs run at once (default 4). */
  readonly pulseConcurrency: number;
  /** Attempts of a job before it is `failed`, unless the job sets its own (default 3). */
  readonly jobMaxAttempts: number;
  /** `timeout_secs` of a job that sets none; its ExecuteJob deadline (default 300). */
  readonly jobTimeoutSecs: number;
  /** Delay before a failed job's second attempt; doubles per attempt, with jitter (default 1 000). */
  readonly jobRetryBaseMs: number;
  /** Longest delay between attempts (default 60 000). */
  readonly jobRetryMaxMs: number;
  /** How often the host PINGs each WebSocket's plugin stream (default 30 000). */
  readonly wsPingIntervalMs: number;
  /** A plugin that has not answered a PING within this is disconnected (default 10 000). */
  readonly wsPongTimeoutMs: number;
  /** Largest WebSocket frame either way (default 1 MiB; bigger → close code 1009). */
  readonly wsMaxFrameBytes: number;
  /** Browser origins allowed to open WebSockets, as globs (`https://*.example.com`); loopback always is. */
  readonly allowedOrigins: readonly string[];
  /** First delay before restarting a crashed plugin; doubles per crash (default 500). */
  readonly restartBackoffBaseMs: number;
  /** Longest delay before a restart (default 30 000). */
  readonly restartBackoffMaxMs: number;
  /** Crashes within `crashWindowMs` that mark a plugin `failed` for good (default 5). */
  readonly crashBudget: number;
  /** The window of the crash budget (default 180 000: 5 crashes in 3 minutes). */
  readonly crashWindowMs: number;
  /** Consecutive failed Health calls that count as a crash (default 3). */
  readonly healthFailures: number;
  /** Size at which `<data_dir>/logs/<plugin>.log` is rotated (default 10 MiB). */
  readonly logMaxBytes: number;
  /** Rotated log files kept per plugin (default 3). */
  readonly logFiles: number;
  /** Lines of each plugin's output kept in memory for `qntx plugin logs` (default 1 000). */
  readonly logRingLines: number;
  /**
   * `grpc_tls`: the services server on `grpcListen` serves TLS and requires client
   * certificates signed by `ca`; spawned plugins then get a loopback plaintext server of
   * their own (see docs/security.md). Undefined: plaintext, as QNTX.
   */
  readonly grpcTls?: TlsFiles | undefined;
  /** `tls`: the HTTP API serves HTTPS with this certificate; `ca` is what the CLI trusts (default: `cert`). */
  readonly tls?: HttpsFiles | undefined;
  /** `auto_mtls`: spawned plugins are reached over mutual TLS with one-time certificates (default false). */
  readonly autoMtls: boolean;
  /**
   * `database`, or `$QNTX_DATABASE_URL` (which wins): a `postgres://` URL where the host keeps
   * attestations and Pulse, shared with every host pointed at it (docs/scale-out.md).
   * Undefined: the embedded SQLite file `<data_dir>/qntx.db`.
   */
  readonly database?: string | undefined;
  /** Where `database` came from, for messages: the file's key or the environment. */
  readonly databaseFrom?: "[host] database" | "QNTX_DATABASE_URL" | undefined;
  /**
   * `[pulse] lease_seconds` in ms (default 30 000): how long a job claimed by a host stays its
   * own without a renewal; a host that dies loses its jobs to another host after this.
   */
  readonly jobLeaseMs: number;
  /**
   * `heartbeat_interval_ms` (default 5000): how often the host writes its row of the host
   * directory on a shared database; after 3 missed beats it is shown gone (`qntx hosts`).
   */
  readonly heartbeatIntervalMs: number;
}

/** Certificate files for mutual TLS, absolute paths of PEM files (checked readable when loaded). */
export interface TlsFiles {
  /** CA certificate(s) the other side's certificate must chain to. */
  readonly ca: string;
  /** This side's certificate (chain). */
  readonly cert: string;
  /** This side's private key (unencrypted PEM). */
  readonly key: string;
}

/** The HTTPS certificate of the host's HTTP API, absolute paths of PEM files. */
export interface HttpsFiles {
  readonly cert: string;
  readonly key: string;
  /** The CA the CLI trusts to reach the API; undefined: it trusts `cert` itself (self-signed). */
  readonly ca: string | undefined;
}

/**
 * Where a plugin enabled by name alone (am.toml's `[plugin] enabled`) is looked for. It is
 * searched when the plugin starts, not when the config loads, so a binary installed later is
 * found by `qntx plugin start`.
 */
export interface BinarySearch {
  /** Absolute folders, searched in order (`[plugin] paths`). */
  readonly paths: readonly string[];
  /** File names tried in each folder, most specific first: `qntx-<name>-plugin`, `qntx-<name>`, `<name>`. */
  readonly names: readonly string[];
  /** The repository URL the plugin was enabled by, when it was; this host never fetches it. */
  readonly repo: string | undefined;
}

/** A plugin spawned from a binary (or a `.js`/`.mjs` file run with the host's node). */
export interface BinarySource {
  readonly kind: "binary";
  /**
   * The binary as written in the config, resolved when the plugin starts (see
   * `plugin/resolve-binary.ts`); for a plugin found by `search`, the plugin's name.
   */
  readonly binary: string;
  /** Set for a plugin enabled by name alone: the folders and names searched at start. */
  readonly search: BinarySearch | undefined;
  /** Spawn at host start (default true). When false, only `qntx plugin start` spawns it. */
  readonly autoStart: boolean;
  /** Extra arguments after `--port N`. */
  readonly args: readonly string[];
  /** Extra environment variables (added to the host's). */
  readonly env: Readonly<Record<string, string>>;
  /** Working directory, absolute (relative values are resolved against the config's folder). */
  readonly cwd: string | undefined;
  /**
   * `sha256`: lowercase hex of the file the plugin runs (the binary, the `.js` file, or a QNTX
   * TypeScript plugin's `plugin.ts`), checked before every spawn. Undefined: not pinned.
   */
  readonly sha256?: string | undefined;
  /** `transport = "unix"`: the plugin is asked to listen on a unix socket under `<data_dir>/sockets`. */
  readonly transport?: "tcp" | "unix" | undefined;
  /** `auto_mtls`: overrides `[host] auto_mtls` for this plugin; undefined follows the host. */
  readonly autoMtls?: boolean | undefined;
}

/** A plugin already running at an address, dialed by the host. */
export interface AddressSource {
  readonly kind: "address";
  /** `host:port` (no scheme), or `unix:///absolute/path.sock` for a unix socket. */
  readonly address: string;
  /** `tls`: the channel is mutual TLS with these files; undefined: plaintext. */
  readonly tls?: TlsFiles | undefined;
  /** `server_name`: the name the plugin's certificate must carry (default: the address's host). */
  readonly serverName?: string | undefined;
}

/** A plugin compiled into the host (see `host/src/builtin`). */
export interface BuiltinSource {
  readonly kind: "builtin";
  /** Name in the host's built-in catalogue. */
  readonly builtin: string;
}

/** Where a plugin comes from: exactly one of `binary`, `address`, `builtin` in its table. */
export type PluginSource = BinarySource | AddressSource | BuiltinSource;

/** One entry of `depends_on`: `"name"` or `"name@<semver range>"`. */
export interface Dependency {
  readonly name: string;
  /** Semver range the dependency's reported version must satisfy ("" = any). */
  readonly range: string;
}

/**
 * One plugin: a `[plugins.<name>]` table or a `[[plugins]]` entry of am.plugins.toml, or a name
 * in am.toml's `[plugin] enabled`. A plain, deeply frozen value (no functions, no dates), so two
 * loads can be compared with `pluginEntriesDiffer` (which ignores `line`).
 */
export interface PluginEntry {
  /** The table's key or the entry's `name`; must equal what the plugin's `Metadata` answers. */
  readonly name: string;
  /** Disabled entries are listed but never started (default true). */
  readonly enabled: boolean;
  readonly source: PluginSource;
  /** The `config` table, flattened to strings as `InitializeRequest.config` carries them. */
  readonly config: Readonly<Record<string, string>>;
  /** Plugins this one needs running first, each with an optional semver range of its version. */
  readonly dependsOn: readonly Dependency[];
  /** What it may do with the host's services; undefined (no grant keys) = everything, as before. */
  readonly grants?: PluginGrants | undefined;
  /**
   * 1-based line of the table's header (or of the name in `[plugin] enabled`) in the config
   * file, for error messages. Not part of the plugin's identity: reloads ignore it.
   */
  readonly line: number | undefined;
}

/**
 * A plugin's grants: the `enqueue`, `attest` and `services` keys of its table. Each list, when
 * given, is all it may do of that kind (patterns with `*`); a kind left out is unrestricted.
 */
export interface PluginGrants {
  /** Handlers (`plugin/handler` patterns, e.g. `analyzer/*`) it may enqueue jobs for. */
  readonly enqueue?: readonly string[] | undefined;
  /** Predicates (patterns) its attestations may carry. */
  readonly attest?: readonly string[] | undefined;
  /** Host services it may call: names of {@link GRANTABLE_SERVICES}. */
  readonly services?: readonly string[] | undefined;
}

/** The host services a `services` grant can name (the gRPC services plugins call back). */
export const GRANTABLE_SERVICES = ["ats", "queue", "schedule", "files", "fetch", "search", "llm", "embedding", "vectors"] as const;

/** A service the host routes to a provider plugin, by the key of `[host] providers`. */
export type ProviderRole = (typeof PROVIDER_ROLES)[number];

/** The routed services, as `[host] providers` names them. */
export const PROVIDER_ROLES = ["llm", "embedding", "vector_search", "search"] as const;

/** The host's own services and provider routing: keys of `[host]` (docs/services.md). */
export interface ServiceSettings {
  /** Hosts FetchService may fetch from (`*` patterns, `host` or `host:port`); empty = no fetches. */
  readonly fetchAllowedHosts: readonly string[];
  /** Deadline of one fetch (default 30 s). */
  readonly fetchTimeoutMs: number;
  /** Largest body a fetch reads (default 10 MiB). */
  readonly fetchMaxBytes: number;
  /** Largest file the host stores (default 8 MiB). */
  readonly fileMaxBytes: number;
  /** The provider plugin of each routed service, when more than one announces it. */
  readonly providers: Readonly<Partial<Record<ProviderRole, string>>>;
}

/** Pulse's spending limits: `[pulse]`, as in QNTX's am.toml. Unset = no limit. */
export interface BudgetSettings {
  /** Sliding 24 h limit in US dollars. */
  readonly dailyUsd?: number | undefined;
  /** Sliding 7 d limit. */
  readonly weeklyUsd?: number | undefined;
  /** Sliding 30 d limit. */
  readonly monthlyUsd?: number | undefined;
  /** What a job over budget does: waits until the window frees up (default), or fails. */
  readonly overBudget: "wait" | "fail";
}

/** Which layout the config file has. */
export type ConfigFormat =
  /** This host's own: `[host]`, `[plugins.<name>]` tables and/or `[[plugins]]` entries. */
  | "am.plugins.toml"
  /** QNTX's: `[plugin] enabled/paths` and one `[<name>]` config table per plugin (plus our `[host]`). */
  | "am.toml";

/** The whole loaded configuration. */
export interface HostConfig {
  /** Absolute path of the file read, or undefined when none was found (defaults only). */
  readonly file: string | undefined;
  /** The file's layout ("am.plugins.toml" when there is no file). */
  readonly format: ConfigFormat;
  /**
   * Things worth one info line at start that are not errors, such as the QNTX sections of an
   * am.toml this host ignores. At most one per kind.
   */
  readonly notes: readonly string[];
  /** Folder that relative paths are resolved against: the file's folder, else the cwd. */
  readonly baseDir: string;
  readonly host: HostSettings;
  /** The host's own services and provider routing (keys of `[host]`). */
  readonly services: ServiceSettings;
  /** Pulse's budget (`[pulse]`). */
  readonly budget: BudgetSettings;
  readonly plugins: readonly PluginEntry[];
}
