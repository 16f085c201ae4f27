// Package domains holds the types a qntx plugin written in Go implements and uses, named as
// QNTX's external-plugin guide names them: DomainPlugin, Metadata, HealthStatus,
// ServiceRegistry, Config, ConfigField, ConfigurablePlugin, PausablePlugin, WebSocketHandler.
// A plugin written against the guide compiles against this package with its imports changed
// (QNTX's package is imported as "github.com/teranos/QNTX/plugin" and used as `domains.` in the
// guide; here it is "qntx/sdk-go/domains").
//
// Additions of this SDK: JobPlugin and JobHandler (the handlers a plugin announces as
// handler_names and runs as Pulse jobs), UIPlugin's glyphs, and CommandCall (what a cobra
// command run through the host was called with).
package domains

import (
	"context"
	"net/http"

	"github.com/spf13/cobra"
)

// DomainPlugin is what every plugin implements. The SDK's PluginServer (package grpc) serves
// it over the DomainPluginService protocol: Metadata answers Metadata, Initialize answers
// Initialize (and again on every config change), RegisterHTTP fills the ServeMux that
// HandleHTTP serves, RegisterWebSocket the handlers HandleWebSocket streams reach, Commands the
// commands of `qntx <plugin> <command>`, Health answers Health and Shutdown answers Shutdown.
type DomainPlugin interface {
	// Metadata describes the plugin. Name must equal the table name [plugins.<name>].
	Metadata() Metadata

	// Initialize is called when the host initializes the plugin: once at every start, and
	// again whenever its config changes (a new ServiceRegistry with the new config and token
	// each time). An error fails the start with its message.
	Initialize(ctx context.Context, services ServiceRegistry) error

	// Shutdown is called when the host stops the plugin (the Shutdown RPC), or when the
	// process stops on SIGTERM, SIGINT or the death of its host.
	Shutdown(ctx context.Context) error

	// Commands returns the plugin's CLI commands: `qntx <plugin> <command>` runs one in the
	// plugin process. Called for every listing and every run, so building them afresh each
	// time keeps one run's flag values out of the next.
	Commands() []*cobra.Command

	// RegisterHTTP registers the plugin's routes. The host serves them under /api/<name>/;
	// a route registered as "/hello" or as "/api/<name>/hello" answers both paths.
	RegisterHTTP(mux *http.ServeMux) error

	// RegisterWebSocket returns WebSocket handlers by path ("/ws/<name>" or
	// "/ws/<name>/<rest>"; browsers reach them at the host's /ws/<name>…).
	RegisterWebSocket() (map[string]WebSocketHandler, error)

	// Health reports the plugin's health. The host calls it every health interval with a
	// deadline of at most 5 s: it must not wait behind jobs.
	Health(ctx context.Context) HealthStatus
}

// Metadata describes a plugin.
type Metadata struct {
	// Name is the plugin's name; the host refuses a plugin whose name is not its table's.
	Name string
	// Version is the plugin's version (semver); stored on every job the plugin runs.
	Version string
	// QNTXVersion is a semver range the host's version must satisfy ("" or "*": any).
	QNTXVersion string
	// Description, Author and License are informational.
	Description string
	Author      string
	License     string
}

// HealthStatus is what Health reports.
type HealthStatus struct {
	Healthy bool
	// Paused is true when the plugin is paused on purpose (not a failure).
	Paused  bool
	Message string
	// Details are sent as text (fmt's %v of each value).
	Details map[string]interface{}
}

// WebSocketHandler serves one WebSocket path. ServeWS gets a real http.ResponseWriter that
// can be hijacked: upgrade it with any server-side WebSocket library (this SDK's wsconn, or
// gorilla/websocket's Upgrader) and talk to the browser through the host.
type WebSocketHandler interface {
	ServeWS(w http.ResponseWriter, r *http.Request)
}

// WebSocketHandlerFunc adapts a function to WebSocketHandler.
type WebSocketHandlerFunc func(w http.ResponseWriter, r *http.Request)

// ServeWS calls f(w, r).
func (f WebSocketHandlerFunc) ServeWS(w http.ResponseWriter, r *http.Request) { f(w, r) }

// PausablePlugin is a plugin that can suspend its work. This host pauses plugins on its own
// side (their routes answer 503 and their jobs wait) without calling the plugin: the
// protocol has no Pause RPC, in QNTX's proto or in ours. The interface is here so that
// plugins written for QNTX compile unchanged.
type PausablePlugin interface {
	DomainPlugin
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
}

// ConfigurablePlugin declares the config keys it reads: answered as ConfigSchema, which the
// host checks the plugin's config against before each Initialize.
type ConfigurablePlugin interface {
	DomainPlugin
	// ConfigSchema returns the fields by key.
	ConfigSchema() map[string]ConfigField
}

// ConfigField describes one config key (protocol.ConfigFieldSchema).
type ConfigField struct {
	Type         string // "string", "number", "boolean", "array"
	Description  string
	DefaultValue string
	Required     bool
	MinValue     string // numbers
	MaxValue     string // numbers
	Pattern      string // strings: a regular expression
	ElementType  string // arrays
}

// UIPlugin contributes glyphs to QNTX's canvas (RegisterGlyphs).
type UIPlugin interface {
	DomainPlugin
	RegisterGlyphs() []GlyphDef
}

// GlyphDef is one glyph type (protocol.GlyphDef).
type GlyphDef struct {
	Symbol        string
	Title         string
	Label         string
	ContentPath   string
	CSSPath       string
	ModulePath    string
	DefaultWidth  int
	DefaultHeight int
}
