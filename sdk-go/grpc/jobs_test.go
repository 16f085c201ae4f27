package grpc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/protocol"
)

func TestJobRunsWithProgressCostLogsAndLiveUpdates(t *testing.T) {
	host := newStubHost(t, "tok")
	release := make(chan struct{})
	p := &testPlugin{name: "jobs", jobs: map[string]domains.JobHandler{
		"count": domains.JobHandlerFunc(func(ctx context.Context, job *domains.JobRun) ([]byte, error) {
			job.Progress(0, 3)
			job.Progress(1, 3)
			<-release // the host must see 1/3 while the job runs
			job.Progress(3, 3)
			job.SetCost(0.25)
			job.Log("info", "done", "counted", map[string]interface{}{"n": 3})
			return []byte(`{"n":3}`), nil
		}),
	}}
	client, _ := startPlugin(t, p, host)
	done := make(chan *protocol.ExecuteJobResponse, 1)
	go func() {
		resp, err := client.Client().ExecuteJob(context.Background(), &protocol.ExecuteJobRequest{JobId: "j1", HandlerName: "jobs/count", Payload: []byte("{}")})
		if err != nil {
			t.Error(err)
		}
		done <- resp
	}()
	eventually(t, "progress 1/3 at the host while the job runs", func() bool {
		u := host.progressUpdates()
		return len(u) > 0 && u[len(u)-1] == [2]int32{1, 3}
	})
	close(release)
	resp := <-done
	if !resp.Success || string(resp.Result) != `{"n":3}` || resp.ProgressCurrent != 3 || resp.ProgressTotal != 3 || resp.CostActual != 0.25 || resp.PluginVersion != "1.2.3" {
		t.Fatalf("response %+v", resp)
	}
	if len(resp.LogEntries) != 1 || resp.LogEntries[0].Stage != "done" || resp.LogEntries[0].Metadata != `{"n":3}` {
		t.Errorf("logs %+v", resp.LogEntries)
	}
	if _, err := time.Parse(time.RFC3339Nano, resp.LogEntries[0].Timestamp); err != nil {
		t.Errorf("log timestamp %q is not RFC 3339", resp.LogEntries[0].Timestamp)
	}
	// Never more updates than reports, and every one for this job, with the plugin's token.
	host.mu.Lock()
	defer host.mu.Unlock()
	if len(host.updates) > 3 {
		t.Errorf("%d updates for 3 progress reports", len(host.updates))
	}
	for _, u := range host.updates {
		if u.Id != "j1" {
			t.Errorf("update of job %q", u.Id)
		}
	}
}

func TestJobProgressUpdatesAreThrottled(t *testing.T) {
	host := newStubHost(t, "tok")
	p := &testPlugin{name: "jobs", jobs: map[string]domains.JobHandler{
		"many": domains.JobHandlerFunc(func(ctx context.Context, job *domains.JobRun) ([]byte, error) {
			for i := 1; i <= 1000; i++ {
				job.Progress(i, 1000)
			}
			time.Sleep(3 * progressInterval)
			return nil, nil
		}),
	}}
	client, _ := startPlugin(t, p, host)
	resp, err := client.ExecuteJob(context.Background(), "many", nil, 0)
	if err != nil || !resp.Success {
		t.Fatalf("%v %+v", err, resp)
	}
	u := host.progressUpdates()
	if len(u) == 0 || len(u) > 5 || u[len(u)-1] != [2]int32{1000, 1000} {
		t.Errorf("1000 reports in a burst became %d updates ending %v; want a few, the last one 1000/1000", len(u), u)
	}
}

func TestJobFailuresAreInTheBody(t *testing.T) {
	p := &testPlugin{name: "jobs", jobs: map[string]domains.JobHandler{
		"fail":  domains.JobHandlerFunc(func(ctx context.Context, job *domains.JobRun) ([]byte, error) { return nil, errors.New("no can do") }),
		"panic": domains.JobHandlerFunc(func(ctx context.Context, job *domains.JobRun) ([]byte, error) { panic("oops") }),
	}}
	client, _ := startPlugin(t, p, nil)
	for handler, want := range map[string]string{
		"fail":    "no can do",
		"panic":   "job handler panic panicked: oops",
		"missing": `plugin jobs has no job handler "missing" (its handlers: fail, panic)`,
	} {
		resp, err := client.ExecuteJob(context.Background(), handler, nil, 0)
		if err != nil {
			t.Fatalf("%s: a gRPC error (%v); failures belong in the body", handler, err)
		}
		if resp.Success || resp.Error != want || resp.PluginVersion != "1.2.3" {
			t.Errorf("%s: %+v, want error %q", handler, resp, want)
		}
	}
}

func TestJobContextEndsOnCancelAndOnTimeout(t *testing.T) {
	started := make(chan struct{}, 2)
	p := &testPlugin{name: "jobs", jobs: map[string]domains.JobHandler{
		"wait": domains.JobHandlerFunc(func(ctx context.Context, job *domains.JobRun) ([]byte, error) {
			started <- struct{}{}
			<-ctx.Done()
			return nil, fmt.Errorf("stopped: %w", ctx.Err())
		}),
	}}
	client, _ := startPlugin(t, p, nil)

	// timeout_secs: the job's own deadline.
	begin := time.Now()
	resp, err := client.ExecuteJob(context.Background(), "wait", nil, time.Second)
	if err != nil || resp.Success || !strings.Contains(resp.Error, "deadline exceeded") {
		t.Fatalf("timed-out job: %v %+v", err, resp)
	}
	t.Logf("timeout_secs=1 ended the handler after %v", time.Since(begin).Round(time.Millisecond))
	<-started

	// Cancellation: the host cancels the call.
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() {
		_, err := client.ExecuteJob(ctx, "wait", nil, 0)
		errs <- err
	}()
	<-started
	cancel()
	if err := <-errs; err == nil {
		t.Fatal("the cancelled call answered")
	}
}

// qntxStylePlugin has the job methods QNTX's PluginServer looks for.
type qntxStylePlugin struct{ testPlugin }

func (q *qntxStylePlugin) GetHandlerNames() []string { return []string{"legacy"} }

func (q *qntxStylePlugin) ExecuteJob(ctx context.Context, handlerName, jobID string, payload []byte) ([]byte, []*protocol.JobLogEntry, error) {
	if string(payload) == "fail" {
		return nil, nil, errors.New("legacy failed")
	}
	return []byte(handlerName + ":" + jobID), []*protocol.JobLogEntry{{Message: "ran"}}, nil
}

func TestQNTXStyleJobMethodsStillWork(t *testing.T) {
	p := &qntxStylePlugin{testPlugin{name: "old"}}
	srv := NewPluginServer(p, nil)
	client := serveOnLoopback(t, srv)
	init, err := client.Initialize(context.Background(), &protocol.InitializeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(init.HandlerNames, ",") != "legacy" {
		t.Errorf("handler names %v", init.HandlerNames)
	}
	resp, err := client.Client().ExecuteJob(context.Background(), &protocol.ExecuteJobRequest{JobId: "j9", HandlerName: "legacy"})
	if err != nil || !resp.Success || string(resp.Result) != "legacy:j9" || len(resp.LogEntries) != 1 {
		t.Errorf("%v %+v", err, resp)
	}
	resp, _ = client.Client().ExecuteJob(context.Background(), &protocol.ExecuteJobRequest{JobId: "j10", HandlerName: "legacy", Payload: []byte("fail")})
	if resp.Success || resp.Error != "legacy failed" {
		t.Errorf("%+v", resp)
	}
}
