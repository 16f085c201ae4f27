package domains

import (
	"context"

	"go.uber.org/zap"
)

// ServiceRegistry is what Initialize receives: the host's services, reached with the
// plugin's own token. A new one comes with every Initialize (a new token, maybe a new
// config); keep the latest.
type ServiceRegistry interface {
	// Logger returns a logger named after domain (and the plugin's version), writing where the
	// logger given to NewPluginServer writes: JSON lines on stderr keep their level in the host.
	Logger(domain string) *zap.SugaredLogger

	// Config returns the plugin's config, as the host sent it (InitializeRequest.config).
	Config(domain string) Config

	// ATSStore returns the host's attestation store, or nil when the host offers none.
	ATSStore() AttestationStore

	// Queue returns the host's Pulse queue, or nil when the host offers none.
	Queue() QueueService
}

// AttestationStore is the host's ATSStoreService, called with the plugin's token. The
// methods without a context use a 10 s deadline (as QNTX's signatures have none). Errors
// the host answers in the body ("invalid authentication token", "PERMISSION_DENIED: …")
// come back as errors with that text.
type AttestationStore interface {
	// GenerateAndCreateAttestation stores a new attestation; the host makes its id and sets
	// its source to the plugin's name.
	GenerateAndCreateAttestation(ctx context.Context, cmd *AsCommand) (*As, error)
	// BatchGenerateAndCreateAttestations stores all of cmds or none, and returns how many.
	BatchGenerateAndCreateAttestations(ctx context.Context, cmds []*AsCommand) (int, error)
	// CreateAttestation stores an attestation whose id the caller chose (deprecated upstream).
	CreateAttestation(as *As) error
	// AttestationExists reports whether an attestation with id exists (false on any error).
	AttestationExists(id string) bool
	// GetAttestations returns the attestations matching filter, newest first.
	GetAttestations(filter AttestationFilter) ([]*As, error)
}

// QueueService is the host's Pulse queue (QueueService), called with the plugin's token.
// Methods use a 10 s deadline.
type QueueService interface {
	// Enqueue adds a job; only HandlerName is needed ("plugin/handler", or a bare handler
	// name one plugin announces). The host fills the id, which is set on job.
	Enqueue(job *Job) error
	// GetJob returns a job by id. Another plugin's job comes without payload and error.
	GetJob(id string) (*Job, error)
	// UpdateJob reports progress and cost of one of the plugin's own jobs (the host ignores
	// every other field).
	UpdateJob(job *Job) error
	// ListJobs lists jobs, newest first; status nil means every status, limit 0 the host's
	// default (100).
	ListJobs(status *JobStatus, limit int) ([]*Job, error)
}

// Config is the plugin's config. Values arrive as strings (InitializeRequest.config); the
// getters parse them and return the zero value when a key is missing or does not parse.
type Config interface {
	GetString(key string) string
	GetInt(key string) int
	// GetBool accepts 1/0, t/f, true/false, yes/no, y/n, on/off in any case.
	GetBool(key string) bool
	// GetStringSlice accepts a JSON array (`["a","b"]`) or comma-separated text.
	GetStringSlice(key string) []string
	// Get returns the raw value (a string, or what Set stored), or nil.
	Get(key string) interface{}
	// Set overrides a value for this process (runtime overrides; not sent anywhere).
	Set(key string, value interface{})
	// GetKeys returns every key, sorted.
	GetKeys() []string
}
