package grpc

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/protocol"
)

// testPlugin is a DomainPlugin whose parts each test sets.
type testPlugin struct {
	name     string
	routes   func(mux *http.ServeMux)
	ws       map[string]domains.WebSocketHandler
	jobs     map[string]domains.JobHandler
	commands func() []*cobra.Command
	initErr  error

	mu        sync.Mutex
	services  domains.ServiceRegistry
	inits     int
	shutdowns int
}

func (p *testPlugin) Metadata() domains.Metadata {
	return domains.Metadata{Name: p.name, Version: "1.2.3", QNTXVersion: ">=0.1.0", Description: "test"}
}

func (p *testPlugin) Initialize(ctx context.Context, services domains.ServiceRegistry) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inits++
	p.services = services
	return p.initErr
}

func (p *testPlugin) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.shutdowns++
	p.mu.Unlock()
	return nil
}

func (p *testPlugin) Commands() []*cobra.Command {
	if p.commands == nil {
		return nil
	}
	return p.commands()
}

func (p *testPlugin) RegisterHTTP(mux *http.ServeMux) error {
	if p.routes != nil {
		p.routes(mux)
	}
	return nil
}

func (p *testPlugin) RegisterWebSocket() (map[string]domains.WebSocketHandler, error) {
	return p.ws, nil
}

func (p *testPlugin) Health(ctx context.Context) domains.HealthStatus {
	return domains.HealthStatus{Healthy: true, Message: "ok", Details: map[string]interface{}{"n": 1}}
}

func (p *testPlugin) JobHandlers() map[string]domains.JobHandler { return p.jobs }

func (p *testPlugin) registry() domains.ServiceRegistry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.services
}

// serveOnLoopback serves srv on a real TCP port the way Serve does (same options), without
// the process part, and returns a client of it. Stopped at the end of the test.
func serveOnLoopback(t *testing.T, srv *PluginServer) *PluginClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := newGRPCServer()
	protocol.RegisterDomainPluginServiceServer(g, srv)
	go func() { _ = g.Serve(lis) }()
	client, err := NewPluginClient(lis.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		g.Stop()
	})
	return client
}

// startPlugin serves p and initializes it against host (nil: no host services).
func startPlugin(t *testing.T, p *testPlugin, host *stubHost) (*PluginClient, *PluginServer) {
	t.Helper()
	srv := NewPluginServer(p, nil)
	client := serveOnLoopback(t, srv)
	req := &protocol.InitializeRequest{Config: map[string]string{"greeting": "Hi"}}
	if host != nil {
		req.AtsStoreEndpoint, req.QueueEndpoint, req.AuthToken = host.addr, host.addr, host.token
	}
	if _, err := client.Initialize(context.Background(), req); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	return client, srv
}

// stubHost serves the host's ATSStoreService and QueueService on a real TCP port, as the host
// does (body errors, one token), recording what plugins send.
type stubHost struct {
	protocol.UnimplementedATSStoreServiceServer
	protocol.UnimplementedQueueServiceServer
	addr  string
	token string

	mu       sync.Mutex
	commands []*protocol.AttestationCommand
	filters  []*protocol.AttestationFilter
	updates  []*protocol.Job
	enqueued []*protocol.Job
	listed   []*protocol.ListJobsRequest
}

func newStubHost(t *testing.T, token string) *stubHost {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &stubHost{addr: lis.Addr().String(), token: token}
	g := grpc.NewServer()
	protocol.RegisterATSStoreServiceServer(g, h)
	protocol.RegisterQueueServiceServer(g, h)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return h
}

const badToken = "invalid authentication token"

func (h *stubHost) GenerateAndCreateAttestation(ctx context.Context, req *protocol.GenerateAttestationRequest) (*protocol.GenerateAttestationResponse, error) {
	if req.AuthToken != h.token {
		return &protocol.GenerateAttestationResponse{Error: badToken}, nil
	}
	h.mu.Lock()
	h.commands = append(h.commands, req.Command)
	n := len(h.commands)
	h.mu.Unlock()
	c := req.Command
	ts := time.Now().UnixMilli()
	if c.Timestamp != nil {
		ts = *c.Timestamp
	}
	return &protocol.GenerateAttestationResponse{Success: true, Attestation: &protocol.Attestation{
		Id: "AS-" + c.Subjects[0] + "-" + string(rune('0'+n)), Subjects: c.Subjects, Predicates: c.Predicates, Contexts: c.Contexts,
		Actors: c.Actors, Timestamp: ts, Source: "stub", Attributes: c.Attributes, CreatedAt: ts,
	}}, nil
}

func (h *stubHost) BatchGenerateAndCreateAttestations(ctx context.Context, req *protocol.BatchGenerateAttestationsRequest) (*protocol.BatchGenerateAttestationsResponse, error) {
	if req.AuthToken != h.token {
		return &protocol.BatchGenerateAttestationsResponse{Error: badToken}, nil
	}
	h.mu.Lock()
	h.commands = append(h.commands, req.Commands...)
	h.mu.Unlock()
	return &protocol.BatchGenerateAttestationsResponse{Success: true, Created: int32(len(req.Commands))}, nil
}

func (h *stubHost) GetAttestations(ctx context.Context, req *protocol.GetAttestationsRequest) (*protocol.GetAttestationsResponse, error) {
	if req.AuthToken != h.token {
		return &protocol.GetAttestationsResponse{Error: badToken}, nil
	}
	h.mu.Lock()
	h.filters = append(h.filters, req.Filter)
	h.mu.Unlock()
	return &protocol.GetAttestationsResponse{Success: true, Attestations: []*protocol.Attestation{{Id: "AS-1", Subjects: []string{"s"}, Timestamp: 1000, CreatedAt: 2000}}}, nil
}

func (h *stubHost) AttestationExists(ctx context.Context, req *protocol.AttestationExistsRequest) (*protocol.AttestationExistsResponse, error) {
	return &protocol.AttestationExistsResponse{Exists: req.AuthToken == h.token && req.Id == "AS-1"}, nil
}

func (h *stubHost) Enqueue(ctx context.Context, req *protocol.EnqueueRequest) (*protocol.EnqueueResponse, error) {
	if req.AuthToken != h.token {
		return &protocol.EnqueueResponse{Error: badToken}, nil
	}
	h.mu.Lock()
	h.enqueued = append(h.enqueued, req.Job)
	h.mu.Unlock()
	return &protocol.EnqueueResponse{Success: true, JobId: "job-1"}, nil
}

func (h *stubHost) GetJob(ctx context.Context, req *protocol.GetJobRequest) (*protocol.GetJobResponse, error) {
	if req.AuthToken != h.token {
		return &protocol.GetJobResponse{Error: badToken}, nil
	}
	return &protocol.GetJobResponse{Success: true, Job: &protocol.Job{Id: req.JobId, HandlerName: "p/h", Status: "running",
		Progress: &protocol.Progress{Current: 1, Total: 2}, CreatedAt: 100, StartedAt: 101}}, nil
}

func (h *stubHost) UpdateJob(ctx context.Context, req *protocol.UpdateJobRequest) (*protocol.UpdateJobResponse, error) {
	if req.AuthToken != h.token {
		return &protocol.UpdateJobResponse{Error: badToken}, nil
	}
	h.mu.Lock()
	h.updates = append(h.updates, req.Job)
	h.mu.Unlock()
	return &protocol.UpdateJobResponse{Success: true}, nil
}

func (h *stubHost) ListJobs(ctx context.Context, req *protocol.ListJobsRequest) (*protocol.ListJobsResponse, error) {
	if req.AuthToken != h.token {
		return &protocol.ListJobsResponse{Error: badToken}, nil
	}
	h.mu.Lock()
	h.listed = append(h.listed, req)
	h.mu.Unlock()
	return &protocol.ListJobsResponse{Success: true, Jobs: []*protocol.Job{{Id: "a"}, {Id: "b"}}}, nil
}

func (h *stubHost) progressUpdates() [][2]int32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([][2]int32, len(h.updates))
	for i, u := range h.updates {
		out[i] = [2]int32{u.Progress.GetCurrent(), u.Progress.GetTotal()}
	}
	return out
}

// eventually polls cond every 10 ms for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
