package domains

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// JobPlugin is a plugin that runs Pulse jobs. Each key of JobHandlers is announced in
// InitializeResponse.handler_names; the host registers it as "<plugin>/<key>" and sends the
// plugin ExecuteJob calls for it, which the SDK runs through the handler of that key (the
// raw name, or the qualified one with the plugin's prefix). JobHandlers is read at every
// Initialize.
type JobPlugin interface {
	DomainPlugin
	JobHandlers() map[string]JobHandler
}

// JobHandler runs one kind of job. ctx ends when the job is cancelled, when its timeout
// (ExecuteJobRequest.timeout_secs) passes, or when the host's call is cut: stop then. A
// returned error fails the attempt with its text (ExecuteJobResponse.error); Pulse retries it
// while attempts remain, so a handler should be safe to run again. A panic is caught and fails
// the attempt the same way.
type JobHandler interface {
	ExecuteJob(ctx context.Context, job *JobRun) (result []byte, err error)
}

// JobHandlerFunc adapts a function to JobHandler.
type JobHandlerFunc func(ctx context.Context, job *JobRun) ([]byte, error)

// ExecuteJob calls f(ctx, job).
func (f JobHandlerFunc) ExecuteJob(ctx context.Context, job *JobRun) ([]byte, error) {
	return f(ctx, job)
}

// JobLog is one entry of a job's log, stored with the job by the host.
type JobLog struct {
	Time     time.Time
	Level    string // "debug", "info", "warn", "error"
	Stage    string
	Message  string
	Metadata map[string]interface{}
}

// JobRun is one attempt of a job, as a handler sees it: what the host sent, and where the
// handler reports progress, cost and log lines. Safe for use from several goroutines.
type JobRun struct {
	// ID is the job's id in Pulse.
	ID string
	// HandlerName is the name the host sent (the raw handler name).
	HandlerName string
	// Payload is the job's payload as enqueued (often JSON).
	Payload []byte
	// Timeout is the job's timeout (ExecuteJobRequest.timeout_secs); 0 means none.
	Timeout time.Duration

	mu         sync.Mutex
	current    int32
	total      int32
	cost       float64
	logs       []JobLog
	onProgress func(current, total int32)
}

// NewJobRun makes a JobRun. onProgress (may be nil) is called after every Progress call; the
// SDK's server uses it to send live progress to the host.
func NewJobRun(id, handlerName string, payload []byte, timeout time.Duration, onProgress func(current, total int32)) *JobRun {
	return &JobRun{ID: id, HandlerName: handlerName, Payload: payload, Timeout: timeout, onProgress: onProgress}
}

// DecodePayload unmarshals the JSON payload into v. An empty payload leaves v as it is.
func (j *JobRun) DecodePayload(v interface{}) error {
	if len(j.Payload) == 0 {
		return nil
	}
	return json.Unmarshal(j.Payload, v)
}

// Progress reports current of total steps done. It goes into the job's answer and, while the
// job runs, to the host through QueueService.UpdateJob (at most every 100 ms, and the last
// value always). A total of 0 keeps the one reported before.
func (j *JobRun) Progress(current, total int) {
	j.mu.Lock()
	j.current = int32(current)
	if total > 0 {
		j.total = int32(total)
	}
	c, t, notify := j.current, j.total, j.onProgress
	j.mu.Unlock()
	if notify != nil {
		notify(c, t)
	}
}

// SetCost sets the job's actual cost (ExecuteJobResponse.cost_actual).
func (j *JobRun) SetCost(cost float64) {
	j.mu.Lock()
	j.cost = cost
	j.mu.Unlock()
}

// Log adds an entry to the job's log (stored with the job, shown by `qntx pulse get`).
func (j *JobRun) Log(level, stage, message string, metadata map[string]interface{}) {
	j.mu.Lock()
	j.logs = append(j.logs, JobLog{Time: time.Now(), Level: level, Stage: stage, Message: message, Metadata: metadata})
	j.mu.Unlock()
}

// Infof adds an info entry without a stage.
func (j *JobRun) Infof(format string, args ...interface{}) {
	j.Log("info", "", fmt.Sprintf(format, args...), nil)
}

// Reported returns the progress, cost and log entries reported so far.
func (j *JobRun) Reported() (current, total int32, cost float64, logs []JobLog) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.current, j.total, j.cost, append([]JobLog(nil), j.logs...)
}
