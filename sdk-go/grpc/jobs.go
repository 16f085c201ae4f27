package grpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/protocol"
)

// progressInterval is the shortest time between two live progress updates of one job.
const progressInterval = 100 * time.Millisecond

// ExecuteJob runs a Pulse job through the plugin's JobHandler of that name (the raw name or
// "<plugin>/<name>"), or through a QNTX-style ExecuteJob method for names announced with
// GetHandlerNames. Its context ends when the job is cancelled or the host's deadline passes,
// and at timeout_secs when that is set (and not 0). Failures are answered in the body
// (success: false, error), never as a gRPC error: Pulse records them and retries.
func (s *PluginServer) ExecuteJob(ctx context.Context, req *protocol.ExecuteJobRequest) (*protocol.ExecuteJobResponse, error) {
	meta := s.plugin.Metadata()
	fail := func(format string, args ...interface{}) *protocol.ExecuteJobResponse {
		return &protocol.ExecuteJobResponse{Success: false, Error: fmt.Sprintf(format, args...), PluginVersion: meta.Version}
	}
	st := s.state()
	if st == nil {
		return fail("plugin %s is not initialized yet", meta.Name), nil
	}
	name := strings.TrimPrefix(req.HandlerName, meta.Name+"/")
	handler := st.jobs[name]
	if handler == nil {
		if st.legacy != nil {
			return s.executeLegacy(ctx, st.legacy, req, meta.Version), nil
		}
		known := make([]string, 0, len(st.jobs))
		for k := range st.jobs {
			known = append(known, k)
		}
		sort.Strings(known)
		return fail("plugin %s has no job handler %q (its handlers: %s)", meta.Name, req.HandlerName, strings.Join(known, ", ")), nil
	}

	var timeout time.Duration
	// Presence, not truthiness: an unset timeout and 0 both mean no deadline of the job's own.
	if req.TimeoutSecs != nil && *req.TimeoutSecs > 0 {
		timeout = time.Duration(*req.TimeoutSecs) * time.Second
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	reporter := newProgressReporter(st.services.queue, req.JobId, s)
	defer reporter.stop()
	run := domains.NewJobRun(req.JobId, req.HandlerName, req.Payload, timeout, reporter.report)

	result, err := s.runHandler(ctx, handler, run)
	current, total, cost, logs := run.Reported()
	resp := &protocol.ExecuteJobResponse{
		Success: err == nil, Result: result, ProgressCurrent: current, ProgressTotal: total,
		CostActual: cost, LogEntries: wireLogs(logs), PluginVersion: meta.Version,
	}
	if err != nil {
		resp.Error = err.Error()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && timeout > 0 && !strings.Contains(resp.Error, "deadline") {
			resp.Error = fmt.Sprintf("%s (the job's timeout of %s passed)", resp.Error, timeout)
		}
	}
	return resp, nil
}

// runHandler calls the handler, turning a panic into an error.
func (s *PluginServer) runHandler(ctx context.Context, h domains.JobHandler, run *domains.JobRun) (result []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.logger.Errorw("job handler panicked", "job", run.ID, "handler", run.HandlerName, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			result, err = nil, fmt.Errorf("job handler %s panicked: %v", run.HandlerName, v)
		}
	}()
	return h.ExecuteJob(ctx, run)
}

// executeLegacy runs a job through the ExecuteJob method QNTX's PluginServer calls.
func (s *PluginServer) executeLegacy(ctx context.Context, legacy legacyJobExecutor, req *protocol.ExecuteJobRequest, version string) (resp *protocol.ExecuteJobResponse) {
	defer func() {
		if v := recover(); v != nil {
			resp = &protocol.ExecuteJobResponse{Success: false, Error: fmt.Sprintf("job handler %s panicked: %v", req.HandlerName, v), PluginVersion: version}
		}
	}()
	result, logs, err := legacy.ExecuteJob(ctx, req.HandlerName, req.JobId, req.Payload)
	resp = &protocol.ExecuteJobResponse{Success: err == nil, Result: result, LogEntries: logs, PluginVersion: version}
	if err != nil {
		resp.Error = err.Error()
	}
	return resp
}

func wireLogs(logs []domains.JobLog) []*protocol.JobLogEntry {
	out := make([]*protocol.JobLogEntry, len(logs))
	for i, l := range logs {
		entry := &protocol.JobLogEntry{Timestamp: l.Time.UTC().Format(time.RFC3339Nano), Level: l.Level, Stage: l.Stage, Message: l.Message}
		if len(l.Metadata) > 0 {
			if data, err := json.Marshal(l.Metadata); err == nil {
				entry.Metadata = string(data)
			}
		}
		out[i] = entry
	}
	return out
}

// progressReporter sends a job's progress to the host while it runs (QueueService.UpdateJob):
// the first report at once, then at most one per progressInterval, the latest value each time.
// A failed update is logged, never fatal: the answer carries the final progress anyway.
type progressReporter struct {
	queue  *queueClient
	jobID  string
	server *PluginServer

	mu       sync.Mutex
	current  int32
	total    int32
	lastSent time.Time
	timer    *time.Timer
	sending  bool
	// inflight is closed when the update being sent has its answer.
	inflight chan struct{}
	pending  bool
	stopped  bool
}

func newProgressReporter(queue *queueClient, jobID string, server *PluginServer) *progressReporter {
	return &progressReporter{queue: queue, jobID: jobID, server: server}
}

// report records the latest progress and sends it now or at the next allowed time.
func (p *progressReporter) report(current, total int32) {
	if p.queue == nil || p.jobID == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current, p.total = current, total
	if p.stopped {
		return
	}
	if p.sending || p.timer != nil {
		p.pending = true
		return
	}
	wait := progressInterval - time.Since(p.lastSent)
	if wait <= 0 {
		p.startSend()
		return
	}
	p.timer = time.AfterFunc(wait, p.fire)
}

func (p *progressReporter) fire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timer = nil
	if !p.stopped {
		p.startSend()
	}
}

// startSend sends the latest value in the background; called with mu held.
func (p *progressReporter) startSend() {
	p.sending, p.pending = true, false
	p.lastSent = time.Now()
	done := make(chan struct{})
	p.inflight = done
	job := &protocol.Job{Id: p.jobID, Progress: &protocol.Progress{Current: p.current, Total: p.total}}
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), hostCallTimeout)
		err := p.queue.update(ctx, job)
		cancel()
		if err != nil {
			p.server.logger.Warnw("live job progress not sent", "job", p.jobID, "error", err)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.sending = false
		if p.pending && !p.stopped && p.timer == nil {
			wait := progressInterval - time.Since(p.lastSent)
			if wait < 0 {
				wait = 0
			}
			p.timer = time.AfterFunc(wait, p.fire)
		}
	}()
}

// stop ends live updates: the job's answer carries the final progress. It waits (briefly) for
// an update already on its way, so that an older value cannot reach the host after the answer.
func (p *progressReporter) stop() {
	p.mu.Lock()
	p.stopped = true
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	var inflight chan struct{}
	if p.sending {
		inflight = p.inflight
	}
	p.mu.Unlock()
	if inflight != nil {
		select {
		case <-inflight:
		case <-time.After(time.Second):
		}
	}
}
