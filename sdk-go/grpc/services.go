package grpc

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/protocol"
)

// hostCallTimeout is the deadline of host calls made without a context of the caller's (QNTX's
// method signatures have none) and of the SDK's own calls (live job progress).
const hostCallTimeout = 10 * time.Second

// remoteRegistry is the ServiceRegistry of one Initialize: clients of the host's services at
// the request's endpoints, with its token and config. One connection serves both services
// when they share an address, as on this host.
type remoteRegistry struct {
	logger *zap.SugaredLogger
	plugin domains.DomainPlugin
	config domains.Config
	conns  []*grpc.ClientConn
	ats    *atsClient
	queue  *queueClient
}

func newRemoteRegistry(req *protocol.InitializeRequest, logger *zap.SugaredLogger, plugin domains.DomainPlugin) (*remoteRegistry, error) {
	r := &remoteRegistry{logger: logger, plugin: plugin, config: domains.NewConfig(req.Config)}
	byAddress := map[string]*grpc.ClientConn{}
	dial := func(endpoint string) (*grpc.ClientConn, error) {
		if conn, ok := byAddress[endpoint]; ok {
			return conn, nil
		}
		// Not blocking: the connection is made at the first call, so an Initialize never
		// waits on a host service, and a service that is down fails that call, not the start.
		conn, err := grpc.Dial(endpoint, grpc.WithInsecure(), grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)))
		if err != nil {
			return nil, fmt.Errorf("cannot use the host service address %q: %w", endpoint, err)
		}
		byAddress[endpoint] = conn
		r.conns = append(r.conns, conn)
		return conn, nil
	}
	// An empty endpoint means the host does not offer that service.
	if req.AtsStoreEndpoint != "" {
		conn, err := dial(req.AtsStoreEndpoint)
		if err != nil {
			return nil, err
		}
		r.ats = &atsClient{client: protocol.NewATSStoreServiceClient(conn), token: req.AuthToken, endpoint: req.AtsStoreEndpoint, logger: logger}
	}
	if req.QueueEndpoint != "" {
		conn, err := dial(req.QueueEndpoint)
		if err != nil {
			r.close()
			return nil, err
		}
		r.queue = &queueClient{client: protocol.NewQueueServiceClient(conn), token: req.AuthToken, endpoint: req.QueueEndpoint}
	}
	return r, nil
}

func (r *remoteRegistry) close() {
	for _, conn := range r.conns {
		_ = conn.Close()
	}
}

// Logger returns the server's logger named "<domain> v<version>", as QNTX names it.
func (r *remoteRegistry) Logger(domain string) *zap.SugaredLogger {
	if v := r.plugin.Metadata().Version; v != "" {
		return r.logger.Named(domain + " v" + v)
	}
	return r.logger.Named(domain)
}

// Config returns the config of the Initialize this registry came with.
func (r *remoteRegistry) Config(domain string) domains.Config { return r.config }

// ATSStore returns the attestation store client, or nil when the host offers none.
func (r *remoteRegistry) ATSStore() domains.AttestationStore {
	if r.ats == nil {
		return nil // a nil *atsClient in the interface would not compare equal to nil
	}
	return r.ats
}

// Queue returns the queue client, or nil when the host offers none.
func (r *remoteRegistry) Queue() domains.QueueService {
	if r.queue == nil {
		return nil
	}
	return r.queue
}

// HostError is an error the host answered in a response body (success: false), such as
// "invalid authentication token" or "PERMISSION_DENIED: …".
type HostError struct {
	// Method is "<Service>.<Method>".
	Method string
	// Message is the host's error text.
	Message string
}

func (e *HostError) Error() string { return e.Method + ": " + e.Message }

// withDeadline gives ctx (nil: a background context) the deadline d from now when it has none.
func withDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// bodyAnswer is a host service answer that carries its own outcome (success, error).
type bodyAnswer interface {
	GetSuccess() bool
	GetError() string
}

// answered turns one call's outcome into an error: a transport failure naming the method and
// the endpoint, or a *HostError with the text the host put in the answer's body.
func answered(method, endpoint string, resp bodyAnswer, err error) error {
	if err != nil {
		return fmt.Errorf("%s at %s: %w", method, endpoint, err)
	}
	if !resp.GetSuccess() {
		return &HostError{Method: method, Message: resp.GetError()}
	}
	return nil
}
