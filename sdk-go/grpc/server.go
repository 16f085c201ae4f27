// Package grpc serves a domains.DomainPlugin over the qntx/QNTX plugin protocol
// (DomainPluginService), as QNTX's plugin/grpc package does: NewPluginServer wraps the plugin
// and Serve runs the whole process contract. Import it as plugingrpc, as QNTX's guide does:
//
//	import plugingrpc "qntx/sdk-go/grpc"
//
//	server := plugingrpc.NewPluginServer(plugin, logger)
//	err := server.Serve(ctx, fmt.Sprintf(":%d", *port))
//
// NewPluginClient dials a plugin the way the host does, for an author's integration tests.
package grpc

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/protocol"
)

// PluginServer serves one DomainPlugin as protocol.DomainPluginServiceServer. Make it with
// NewPluginServer; Serve runs it as a plugin process. It may also be registered on a
// *grpc.Server of your own (protocol.RegisterDomainPluginServiceServer), as the guide's
// integration test does.
type PluginServer struct {
	protocol.UnimplementedDomainPluginServiceServer

	plugin domains.DomainPlugin
	logger *zap.SugaredLogger

	// initMu keeps two Initialize calls from interleaving; mu guards current.
	initMu  sync.Mutex
	mu      sync.RWMutex
	current *initialized

	// stopRequested is closed by the Shutdown RPC: Serve then stops.
	stopRequested chan struct{}
	stopOnce      sync.Once
	shutdownOnce  sync.Once
	shutdownErr   error

	// commandMu runs one command at a time: cobra commands keep their flag values in the
	// command tree, which a concurrent run would share.
	commandMu sync.Mutex
}

// initialized is what one Initialize produced; HTTP, WebSocket and job calls read the latest.
type initialized struct {
	services *remoteRegistry
	mux      *http.ServeMux
	ws       map[string]domains.WebSocketHandler
	jobs     map[string]domains.JobHandler
	// legacy is a plugin's QNTX-style ExecuteJob method, used for names it announced through
	// GetHandlerNames.
	legacy legacyJobExecutor
}

// legacyJobExecutor is the job method QNTX's PluginServer looks for on a plugin.
type legacyJobExecutor interface {
	ExecuteJob(ctx context.Context, handlerName string, jobID string, payload []byte) (result []byte, logs []*protocol.JobLogEntry, err error)
}

// NewPluginServer wraps plugin. logger receives the SDK's own log lines and is the parent of
// every ServiceRegistry.Logger; a nil logger logs nothing.
func NewPluginServer(plugin domains.DomainPlugin, logger *zap.SugaredLogger) *PluginServer {
	if logger == nil {
		logger = zap.NewNop().Sugar()
	}
	return &PluginServer{plugin: plugin, logger: logger, stopRequested: make(chan struct{})}
}

func (s *PluginServer) state() *initialized {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.current
}

// Metadata answers the plugin's Metadata.
func (s *PluginServer) Metadata(ctx context.Context, _ *protocol.Empty) (*protocol.MetadataResponse, error) {
	m := s.plugin.Metadata()
	return &protocol.MetadataResponse{
		Name: m.Name, Version: m.Version, QntxVersion: m.QNTXVersion,
		Description: m.Description, Author: m.Author, License: m.License,
	}, nil
}

// Initialize hands the plugin a ServiceRegistry for the request's endpoints, token and config,
// then collects its routes, WebSocket handlers and job handlers. Unlike QNTX's server, which
// initializes once, it runs again on every call: the host re-initializes a plugin when its
// config changes, with a new token, and the old token stops working.
func (s *PluginServer) Initialize(ctx context.Context, req *protocol.InitializeRequest) (*protocol.InitializeResponse, error) {
	s.initMu.Lock()
	defer s.initMu.Unlock()
	name := s.plugin.Metadata().Name

	services, err := newRemoteRegistry(req, s.logger, s.plugin)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "plugin %s: %v", name, err)
	}
	next, err := s.collect(ctx, services)
	if err != nil {
		services.close()
		return nil, status.Errorf(codes.FailedPrecondition, "plugin %s initialization failed: %v", name, err)
	}

	s.mu.Lock()
	previous := s.current
	s.current = next
	s.mu.Unlock()
	if previous != nil {
		// New calls get the new clients; calls already on the old connections get the time of
		// a host call to finish before those close (closing cuts what is in flight).
		time.AfterFunc(hostCallTimeout, previous.services.close)
	}
	return s.announce(next), nil
}

// collect runs the plugin's Initialize and registration methods against services.
func (s *PluginServer) collect(ctx context.Context, services *remoteRegistry) (*initialized, error) {
	if err := s.plugin.Initialize(ctx, services); err != nil {
		return nil, err
	}
	next := &initialized{services: services, mux: http.NewServeMux()}
	if err := s.plugin.RegisterHTTP(next.mux); err != nil {
		return nil, fmt.Errorf("RegisterHTTP: %w", err)
	}
	ws, err := s.plugin.RegisterWebSocket()
	if err != nil {
		return nil, fmt.Errorf("RegisterWebSocket: %w", err)
	}
	next.ws = ws
	if jp, ok := s.plugin.(domains.JobPlugin); ok {
		next.jobs = jp.JobHandlers()
	}
	if legacy, ok := s.plugin.(legacyJobExecutor); ok {
		next.legacy = legacy
	}
	return next, nil
}

// announce builds the InitializeResponse from what the plugin declares.
func (s *PluginServer) announce(state *initialized) *protocol.InitializeResponse {
	resp := &protocol.InitializeResponse{}
	names := map[string]bool{}
	for name := range state.jobs {
		names[name] = true
	}
	// QNTX's optional interfaces, so plugins written for its server announce the same here.
	if ha, ok := s.plugin.(interface{ GetHandlerNames() []string }); ok {
		for _, name := range ha.GetHandlerNames() {
			names[name] = true
		}
	}
	for name := range names {
		resp.HandlerNames = append(resp.HandlerNames, name)
	}
	sort.Strings(resp.HandlerNames)
	if sa, ok := s.plugin.(interface {
		GetSchedules() []*protocol.ScheduleInfo
	}); ok {
		resp.Schedules = append(resp.Schedules, sa.GetSchedules()...)
	}
	if sp, ok := s.plugin.(domains.SchedulePlugin); ok {
		for _, sc := range sp.Schedules() {
			resp.Schedules = append(resp.Schedules, &protocol.ScheduleInfo{
				HandlerName: sc.HandlerName, IntervalSeconds: int32(sc.IntervalSeconds),
				EnabledByDefault: sc.EnabledByDefault, Description: sc.Description, AtsCode: sc.ATSCode,
			})
		}
	}
	if wp, ok := s.plugin.(domains.WatcherPlugin); ok {
		for _, w := range wp.Watchers() {
			resp.Watchers = append(resp.Watchers, &protocol.WatcherRegistration{
				Id: w.ID, HandlerName: w.HandlerName, Subjects: w.Subjects, Predicates: w.Predicates,
				Contexts: w.Contexts, Actors: w.Actors, MaxFiresPerSecond: int32(w.MaxFiresPerSecond),
			})
		}
	}
	if rp, ok := s.plugin.(domains.RoutePlugin); ok {
		for _, r := range rp.HTTPRoutes() {
			resp.HttpRoutes = append(resp.HttpRoutes, &protocol.RouteInfo{Method: r.Method, Path: r.Path, Description: r.Description})
		}
	}
	return resp
}

// Shutdown calls the plugin's Shutdown, then has Serve stop the process. The plugin's
// Shutdown runs once, whichever of the Shutdown RPC, SIGTERM or the host's death comes first.
func (s *PluginServer) Shutdown(ctx context.Context, _ *protocol.Empty) (*protocol.Empty, error) {
	err := s.shutdownPlugin(ctx, "Shutdown RPC")
	s.stopOnce.Do(func() { close(s.stopRequested) })
	if err != nil {
		return nil, status.Errorf(codes.Internal, "plugin %s shutdown failed: %v", s.plugin.Metadata().Name, err)
	}
	return &protocol.Empty{}, nil
}

func (s *PluginServer) shutdownPlugin(ctx context.Context, why string) error {
	s.shutdownOnce.Do(func() {
		s.logger.Infow("stopping", "plugin", s.plugin.Metadata().Name, "reason", why)
		s.shutdownErr = s.plugin.Shutdown(ctx)
		if s.shutdownErr != nil {
			s.logger.Warnw("plugin Shutdown failed", "error", s.shutdownErr)
		}
		if st := s.state(); st != nil {
			st.services.close()
		}
	})
	return s.shutdownErr
}

// Health answers the plugin's Health; Details are sent as text.
func (s *PluginServer) Health(ctx context.Context, _ *protocol.Empty) (*protocol.HealthResponse, error) {
	h := s.plugin.Health(ctx)
	details := make(map[string]string, len(h.Details)+1)
	for k, v := range h.Details {
		details[k] = fmt.Sprintf("%v", v)
	}
	if h.Paused {
		details["paused"] = "true"
	}
	return &protocol.HealthResponse{Healthy: h.Healthy, Message: h.Message, Details: details}, nil
}

// ConfigSchema answers a ConfigurablePlugin's schema; other plugins answer an empty one, as
// QNTX's server does (the host then checks nothing).
func (s *PluginServer) ConfigSchema(ctx context.Context, _ *protocol.Empty) (*protocol.ConfigSchemaResponse, error) {
	fields := map[string]*protocol.ConfigFieldSchema{}
	if cp, ok := s.plugin.(domains.ConfigurablePlugin); ok {
		for key, f := range cp.ConfigSchema() {
			fields[key] = &protocol.ConfigFieldSchema{
				Type: f.Type, Description: f.Description, DefaultValue: f.DefaultValue, Required: f.Required,
				MinValue: f.MinValue, MaxValue: f.MaxValue, Pattern: f.Pattern, ElementType: f.ElementType,
			}
		}
	}
	return &protocol.ConfigSchemaResponse{Fields: fields}, nil
}

// RegisterGlyphs answers a UIPlugin's glyphs; other plugins answer an empty list.
func (s *PluginServer) RegisterGlyphs(ctx context.Context, _ *protocol.Empty) (*protocol.GlyphDefResponse, error) {
	resp := &protocol.GlyphDefResponse{Glyphs: []*protocol.GlyphDef{}}
	if up, ok := s.plugin.(domains.UIPlugin); ok {
		for _, g := range up.RegisterGlyphs() {
			resp.Glyphs = append(resp.Glyphs, &protocol.GlyphDef{
				Symbol: g.Symbol, Title: g.Title, Label: g.Label, ContentPath: g.ContentPath, CssPath: g.CSSPath,
				ModulePath: g.ModulePath, DefaultWidth: int32(g.DefaultWidth), DefaultHeight: int32(g.DefaultHeight),
			})
		}
	}
	return resp, nil
}
