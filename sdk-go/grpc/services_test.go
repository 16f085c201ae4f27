package grpc

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/protocol"
)

func TestServicesReachTheHostWithThePluginsToken(t *testing.T) {
	host := newStubHost(t, "tok-1")
	p := &testPlugin{name: "svc"}
	startPlugin(t, p, host)
	reg := p.registry()
	if reg.Config("svc").GetString("greeting") != "Hi" {
		t.Errorf("config %v", reg.Config("svc").GetKeys())
	}
	if reg.Logger("svc") == nil {
		t.Fatal("no logger")
	}
	store, queue := reg.ATSStore(), reg.Queue()
	if store == nil || queue == nil {
		t.Fatal("services missing although offered")
	}

	when := time.UnixMilli(1700000000123)
	as, err := store.GenerateAndCreateAttestation(context.Background(), &domains.AsCommand{
		Subjects: []string{"s1"}, Predicates: []string{"note"}, Timestamp: when,
		Attributes: map[string]interface{}{"tags": []string{"a", "b"}, "n": 3, "nested": struct{ X int }{X: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if as.ID != "AS-s1-1" || !as.Timestamp.Equal(when) || as.Attributes["n"] != 3.0 {
		t.Errorf("attestation %+v", as)
	}
	if tags := as.Attributes["tags"].([]interface{}); len(tags) != 2 {
		t.Errorf("[]string attributes: %v", as.Attributes["tags"])
	}
	if n, err := store.BatchGenerateAndCreateAttestations(context.Background(), []*domains.AsCommand{{Subjects: []string{"a"}}, {Subjects: []string{"b"}}}); err != nil || n != 2 {
		t.Errorf("batch: %d %v", n, err)
	}
	start := time.UnixMilli(5)
	found, err := store.GetAttestations(domains.AttestationFilter{Subjects: []string{"s"}, TimeStart: &start, Limit: 10})
	if err != nil || len(found) != 1 || found[0].CreatedAt.UnixMilli() != 2000 {
		t.Fatalf("GetAttestations: %v %+v", err, found)
	}
	host.mu.Lock()
	f := host.filters[0]
	host.mu.Unlock()
	if *f.Limit != 10 || *f.TimeStart != 5 || f.TimeEnd != nil {
		t.Errorf("filter on the wire %+v", f)
	}
	if !store.AttestationExists("AS-1") || store.AttestationExists("AS-2") {
		t.Error("AttestationExists")
	}

	job := &domains.Job{HandlerName: "svc/h", Payload: []byte(`{}`)}
	if err := queue.Enqueue(job); err != nil || job.ID != "job-1" {
		t.Fatalf("Enqueue: %v %q", err, job.ID)
	}
	got, err := queue.GetJob("job-1")
	if err != nil || got.Status != domains.JobStatusRunning || got.Progress != (domains.Progress{Current: 1, Total: 2}) || got.StartedAt == nil || got.CompletedAt != nil {
		t.Fatalf("GetJob: %v %+v", err, got)
	}
	if err := queue.UpdateJob(&domains.Job{ID: "job-1", Progress: domains.Progress{Current: 2, Total: 2}}); err != nil {
		t.Fatal(err)
	}
	failed := domains.JobStatusFailed
	jobs, err := queue.ListJobs(&failed, 5)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("ListJobs: %v %v", err, jobs)
	}
	host.mu.Lock()
	listed := host.listed[0]
	host.mu.Unlock()
	if listed.Status != "failed" || *listed.Limit != 5 {
		t.Errorf("ListJobs request %+v", listed)
	}
}

func TestTheHostsBodyErrorsComeBackAsHostErrors(t *testing.T) {
	host := newStubHost(t, "right")
	p := &testPlugin{name: "svc"}
	srv := NewPluginServer(p, nil)
	client := serveOnLoopback(t, srv)
	if _, err := client.Initialize(context.Background(), &protocol.InitializeRequest{AtsStoreEndpoint: host.addr, QueueEndpoint: host.addr, AuthToken: "wrong"}); err != nil {
		t.Fatal(err)
	}
	_, err := p.registry().ATSStore().GenerateAndCreateAttestation(context.Background(), &domains.AsCommand{Subjects: []string{"s"}})
	var hostErr *HostError
	if !errors.As(err, &hostErr) || hostErr.Message != badToken || hostErr.Method != "ATSStoreService.GenerateAndCreateAttestation" {
		t.Fatalf("err = %v", err)
	}
	if err := p.registry().Queue().Enqueue(&domains.Job{HandlerName: "x"}); err == nil || !strings.Contains(err.Error(), badToken) {
		t.Errorf("Enqueue err = %v", err)
	}
}

func TestReinitializeReplacesConfigTokenAndRoutes(t *testing.T) {
	host := newStubHost(t, "second")
	p := &testPlugin{name: "svc"}
	srv := NewPluginServer(p, nil)
	client := serveOnLoopback(t, srv)
	for _, token := range []string{"first", "second"} {
		if _, err := client.Initialize(context.Background(), &protocol.InitializeRequest{
			AtsStoreEndpoint: host.addr, AuthToken: token, Config: map[string]string{"round": token},
		}); err != nil {
			t.Fatalf("Initialize %s: %v", token, err)
		}
	}
	if p.inits != 2 {
		t.Errorf("the plugin's Initialize ran %d times, want 2 (QNTX's server runs it once; this host re-initializes on config changes)", p.inits)
	}
	reg := p.registry()
	if reg.Config("svc").GetString("round") != "second" {
		t.Errorf("config not replaced")
	}
	if _, err := reg.ATSStore().GenerateAndCreateAttestation(context.Background(), &domains.AsCommand{Subjects: []string{"s"}}); err != nil {
		t.Errorf("the new token is not used: %v", err)
	}
	if reg.Queue() != nil {
		t.Error("an empty queue endpoint means no queue: Queue() must be nil")
	}
}

func TestInitializeErrorsNameThePlugin(t *testing.T) {
	p := &testPlugin{name: "broken", initErr: errors.New("the API key is missing")}
	client := serveOnLoopback(t, NewPluginServer(p, nil))
	_, err := client.Initialize(context.Background(), &protocol.InitializeRequest{})
	if err == nil || !strings.Contains(err.Error(), "plugin broken initialization failed: the API key is missing") {
		t.Fatalf("err = %v", err)
	}
	// Not initialized: still a 503, not a half-initialized plugin.
	resp, _ := client.Get(context.Background(), "/x")
	if resp.StatusCode != 503 {
		t.Errorf("after a failed Initialize: %d", resp.StatusCode)
	}
}

func TestAnnouncementsAndOptionalRPCs(t *testing.T) {
	p := &announcingPlugin{testPlugin{name: "ann", jobs: map[string]domains.JobHandler{"b": nil, "a": nil}}}
	client := serveOnLoopback(t, NewPluginServer(p, nil))
	init, err := client.Initialize(context.Background(), &protocol.InitializeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(init.HandlerNames, []string{"a", "b"}) || len(init.HttpRoutes) != 1 || init.HttpRoutes[0].Path != "/x" ||
		len(init.Watchers) != 1 || init.Watchers[0].MaxFiresPerSecond != 5 || len(init.Schedules) != 1 || init.Schedules[0].IntervalSeconds != 60 {
		t.Errorf("InitializeResponse %+v", init)
	}
	schema, err := client.Client().ConfigSchema(context.Background(), &protocol.Empty{})
	if err != nil || schema.Fields["greeting"].DefaultValue != "Hello" || !schema.Fields["greeting"].Required {
		t.Errorf("ConfigSchema %v %+v", err, schema)
	}
	glyphs, err := client.Client().RegisterGlyphs(context.Background(), &protocol.Empty{})
	if err != nil || len(glyphs.Glyphs) != 1 || glyphs.Glyphs[0].CssPath != "/g.css" {
		t.Errorf("RegisterGlyphs %v %+v", err, glyphs)
	}
	health := client.Health(context.Background())
	if !health.Healthy || health.Details["n"] != "1" {
		t.Errorf("Health %+v", health)
	}
	if m := client.Metadata(); m.Name != "ann" || m.QNTXVersion != ">=0.1.0" {
		t.Errorf("Metadata %+v", m)
	}
	// A plugin that declares nothing answers an empty schema and no glyphs, as QNTX's server does.
	plain := serveOnLoopback(t, NewPluginServer(&testPlugin{name: "plain"}, nil))
	schema, _ = plain.Client().ConfigSchema(context.Background(), &protocol.Empty{})
	glyphs, _ = plain.Client().RegisterGlyphs(context.Background(), &protocol.Empty{})
	if len(schema.Fields) != 0 || len(glyphs.Glyphs) != 0 {
		t.Errorf("plain plugin: %+v %+v", schema, glyphs)
	}
}

type announcingPlugin struct{ testPlugin }

func (a *announcingPlugin) HTTPRoutes() []domains.Route {
	return []domains.Route{{Method: "GET", Path: "/x"}}
}
func (a *announcingPlugin) Watchers() []domains.Watcher {
	return []domains.Watcher{{ID: "w", HandlerName: "a", Predicates: []string{"p"}, MaxFiresPerSecond: 5}}
}
func (a *announcingPlugin) Schedules() []domains.Schedule {
	return []domains.Schedule{{HandlerName: "b", IntervalSeconds: 60, EnabledByDefault: true}}
}
func (a *announcingPlugin) ConfigSchema() map[string]domains.ConfigField {
	return map[string]domains.ConfigField{"greeting": {Type: "string", DefaultValue: "Hello", Required: true}}
}
func (a *announcingPlugin) RegisterGlyphs() []domains.GlyphDef {
	return []domains.GlyphDef{{Symbol: "g", CSSPath: "/g.css"}}
}
