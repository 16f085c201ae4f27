// goplug: QNTX's external-plugin guide's `myplugin`, written as the guide writes it (a type
// implementing domains.DomainPlugin, served by plugingrpc.NewPluginServer) with its imports
// pointed at this repository's Go SDK, and named goplug, the table [plugins.goplug] of
// am.plugins.toml. Beyond the guide: a config schema, notes stored as attestations through
// the host's ATSStoreService, a Pulse job handler that writes one, a WebSocket echo and cobra
// commands run by `qntx goplug …`.
package main

import (
	"context"
	"net/http"
	"sync"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"qntx/sdk-go/domains"
)

// The plugin's name, version and the host versions it works with.
const (
	pluginName    = "goplug"
	pluginVersion = "0.1.0"
)

// MyPlugin is the guide's plugin type.
type MyPlugin struct {
	// mu guards services and greeting, replaced at every Initialize (a config change
	// re-initializes the plugin with a new token).
	mu       sync.RWMutex
	services domains.ServiceRegistry
	greeting string
	logger   *zap.SugaredLogger
}

// NewMyPlugin returns the plugin, not yet initialized.
func NewMyPlugin() *MyPlugin {
	return &MyPlugin{greeting: "Hello", logger: zap.NewNop().Sugar()}
}

// Metadata names the plugin; Name must equal the table name [plugins.goplug].
func (p *MyPlugin) Metadata() domains.Metadata {
	return domains.Metadata{
		Name:        pluginName,
		Version:     pluginVersion,
		QNTXVersion: ">= 0.1.0",
		Description: "QNTX's guide plugin in Go: greetings, notes as attestations, a Pulse job, a WebSocket echo, CLI commands",
		Author:      "qntx",
		License:     "MIT",
	}
}

// Initialize keeps the services and reads the config (again at every config change).
func (p *MyPlugin) Initialize(ctx context.Context, services domains.ServiceRegistry) error {
	logger := services.Logger(pluginName)
	greeting := services.Config(pluginName).GetString("greeting")
	if greeting == "" {
		greeting = "Hello"
	}
	p.mu.Lock()
	p.services, p.greeting, p.logger = services, greeting, logger
	p.mu.Unlock()
	logger.Infow("MyPlugin initialized", "greeting", greeting, "ats", services.ATSStore() != nil)
	return nil
}

// Shutdown has nothing to release: the SDK closes the service connections.
func (p *MyPlugin) Shutdown(ctx context.Context) error {
	p.log().Info("MyPlugin shutting down")
	return nil
}

// Commands returns `qntx goplug greet` and `qntx goplug notes` (commands.go), built afresh.
func (p *MyPlugin) Commands() []*cobra.Command {
	return []*cobra.Command{p.rootCommand()}
}

// RegisterHTTP registers the routes under /api/goplug/, the guide's namespacing (handlers.go).
func (p *MyPlugin) RegisterHTTP(mux *http.ServeMux) error {
	mux.HandleFunc("/api/goplug/hello", p.handleHello)
	mux.HandleFunc("/api/goplug/notes", p.handleNotes)
	mux.HandleFunc("/api/goplug/", p.handleRoot)
	return nil
}

// RegisterWebSocket serves /ws/goplug with an echo (handlers.go).
func (p *MyPlugin) RegisterWebSocket() (map[string]domains.WebSocketHandler, error) {
	return map[string]domains.WebSocketHandler{"/ws/goplug": domains.WebSocketHandlerFunc(p.serveEcho)}, nil
}

// Health reports healthy, with the version and greeting in the details.
func (p *MyPlugin) Health(ctx context.Context) domains.HealthStatus {
	return domains.HealthStatus{
		Healthy: true,
		Message: "MyPlugin is healthy",
		Details: map[string]interface{}{"version": pluginVersion, "greeting": p.currentGreeting()},
	}
}

// ConfigSchema declares the one config key (domains.ConfigurablePlugin).
func (p *MyPlugin) ConfigSchema() map[string]domains.ConfigField {
	return map[string]domains.ConfigField{
		"greeting": {Type: "string", Description: "word the greetings start with", DefaultValue: "Hello"},
	}
}

// HTTPRoutes lists the routes for `qntx plugin list` and `qntx plugin check` (domains.RoutePlugin).
func (p *MyPlugin) HTTPRoutes() []domains.Route {
	return []domains.Route{
		{Method: "GET", Path: "/hello", Description: "greets ?name="},
		{Method: "GET", Path: "/notes", Description: "notes of ?subject=, newest first"},
		{Method: "POST", Path: "/notes", Description: `stores {"subject", "text"} as an attestation`},
	}
}

// JobHandlers announces the Pulse handler goplug/attest (jobs.go; domains.JobPlugin).
func (p *MyPlugin) JobHandlers() map[string]domains.JobHandler {
	return map[string]domains.JobHandler{"attest": domains.JobHandlerFunc(p.attestJob)}
}

func (p *MyPlugin) currentGreeting() string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.greeting
}

func (p *MyPlugin) log() *zap.SugaredLogger {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.logger
}

// store is the host's attestation store, or nil before Initialize or when the host offers none.
func (p *MyPlugin) store() domains.AttestationStore {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.services == nil {
		return nil
	}
	return p.services.ATSStore()
}
