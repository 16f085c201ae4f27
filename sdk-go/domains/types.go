package domains

import (
	"encoding/json"
	"time"
)

// As is an attestation, as QNTX's Go code names it (ats/types.As).
type As struct {
	ID         string
	Subjects   []string
	Predicates []string
	Contexts   []string
	Actors     []string
	Timestamp  time.Time
	Source     string
	Attributes map[string]interface{}
	CreatedAt  time.Time
	Signature  []byte
	SignerDID  string
}

// AsCommand asks for a new attestation (ats/types.AsCommand). Empty Predicates or Contexts
// become ["_"], empty Actors the new id, a zero Timestamp now; Source is replaced by the
// plugin's name on this host.
type AsCommand struct {
	Subjects      []string
	Predicates    []string
	Contexts      []string
	Actors        []string
	Timestamp     time.Time
	Source        string
	SourceVersion string
	Attributes    map[string]interface{}
}

// AttestationFilter selects attestations: values in one dimension are OR-ed, dimensions
// AND-ed, time bounds are inclusive, Limit 0 means no limit.
type AttestationFilter struct {
	Actors     []string
	Subjects   []string
	Predicates []string
	Contexts   []string
	TimeStart  *time.Time
	TimeEnd    *time.Time
	Limit      int
}

// JobStatus is the state of a Pulse job.
type JobStatus string

// The statuses a job can have.
const (
	JobStatusQueued    JobStatus = "queued"
	JobStatusRunning   JobStatus = "running"
	JobStatusPaused    JobStatus = "paused"
	JobStatusCompleted JobStatus = "completed"
	JobStatusFailed    JobStatus = "failed"
	JobStatusCancelled JobStatus = "cancelled"
)

// Progress counts a job's steps.
type Progress struct {
	Current int `json:"current"`
	Total   int `json:"total"`
}

// Job is a Pulse job as the queue service carries it (pulse/async.Job, without the fields
// the wire does not have).
type Job struct {
	ID           string
	HandlerName  string
	Payload      json.RawMessage
	Source       string
	Status       JobStatus
	Progress     Progress
	CostEstimate float64
	CostActual   float64
	Error        string
	ParentJobID  string
	RetryCount   int
	CreatedAt    time.Time
	// StartedAt and CompletedAt are nil while unset.
	StartedAt   *time.Time
	CompletedAt *time.Time
}
