package grpc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/protocol"
)

// clientCallTimeout is the deadline PluginClient puts on calls whose context has none.
const clientCallTimeout = 5 * time.Second

// PluginClient calls a plugin the way the host does, for an author's integration tests (the
// guide's Testing section): dial the plugin's address, then call it.
type PluginClient struct {
	conn   *grpc.ClientConn
	client protocol.DomainPluginServiceClient
	logger *zap.SugaredLogger
	addr   string
}

// NewPluginClient dials the plugin at addr ("host:port") with the host's message limits. The
// connection is made at the first call.
func NewPluginClient(addr string, logger *zap.SugaredLogger) (*PluginClient, error) {
	if logger == nil {
		logger = zap.NewNop().Sugar()
	}
	conn, err := grpc.Dial(addr, grpc.WithInsecure(), grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)))
	if err != nil {
		return nil, fmt.Errorf("cannot dial plugin at %q: %w", addr, err)
	}
	return &PluginClient{conn: conn, client: protocol.NewDomainPluginServiceClient(conn), logger: logger, addr: addr}, nil
}

// Client is the generated client, for calls PluginClient has no method for.
func (c *PluginClient) Client() protocol.DomainPluginServiceClient { return c.client }

// Close closes the connection.
func (c *PluginClient) Close() error { return c.conn.Close() }

// Metadata asks the plugin for its Metadata (5 s deadline). As in QNTX's guide it returns
// only the Metadata: a failed call is logged and answers the zero Metadata.
func (c *PluginClient) Metadata() domains.Metadata {
	ctx, cancel := withDeadline(context.Background(), clientCallTimeout)
	defer cancel()
	m, err := c.client.Metadata(ctx, &protocol.Empty{})
	if err != nil {
		c.logger.Warnw("Metadata failed", "address", c.addr, "error", err)
		return domains.Metadata{}
	}
	return domains.Metadata{Name: m.Name, Version: m.Version, QNTXVersion: m.QntxVersion, Description: m.Description, Author: m.Author, License: m.License}
}

// Initialize initializes the plugin (the host's services, token and config in req).
func (c *PluginClient) Initialize(ctx context.Context, req *protocol.InitializeRequest) (*protocol.InitializeResponse, error) {
	ctx, cancel := withDeadline(ctx, clientCallTimeout)
	defer cancel()
	return c.client.Initialize(ctx, req)
}

// Health asks the plugin for its health; a failed call is an unhealthy status saying why.
func (c *PluginClient) Health(ctx context.Context) domains.HealthStatus {
	ctx, cancel := withDeadline(ctx, clientCallTimeout)
	defer cancel()
	h, err := c.client.Health(ctx, &protocol.Empty{})
	if err != nil {
		return domains.HealthStatus{Healthy: false, Message: "Health failed: " + err.Error()}
	}
	details := make(map[string]interface{}, len(h.Details))
	for k, v := range h.Details {
		details[k] = v
	}
	return domains.HealthStatus{Healthy: h.Healthy, Message: h.Message, Details: details, Paused: h.Details["paused"] == "true"}
}

// Do sends req through HandleHTTP as the host would (path and query, headers, body; the
// request's context as the call's) and returns the plugin's answer as an http.Response.
func (c *PluginClient) Do(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
	}
	wire := &protocol.HTTPRequest{Method: req.Method, Path: req.URL.RequestURI(), Body: body}
	for name, values := range req.Header {
		wire.Headers = append(wire.Headers, &protocol.HTTPHeader{Name: name, Values: values})
	}
	ctx, cancel := withDeadline(req.Context(), clientCallTimeout)
	defer cancel()
	resp, err := c.client.HandleHTTP(ctx, wire)
	if err != nil {
		return nil, err
	}
	out := &http.Response{
		StatusCode: int(resp.StatusCode), Status: fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(int(resp.StatusCode))),
		Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(resp.Body)), ContentLength: int64(len(resp.Body)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Request: req,
	}
	for _, h := range resp.Headers {
		for _, v := range h.Values {
			out.Header.Add(h.Name, v)
		}
	}
	return out, nil
}

// Get is Do of a GET of path ("/hello?name=x").
func (c *PluginClient) Get(ctx context.Context, path string) (*http.Response, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}

// ExecuteJob runs handler once with payload, with a job id of its own; timeout 0 sends none.
func (c *PluginClient) ExecuteJob(ctx context.Context, handler string, payload []byte, timeout time.Duration) (*protocol.ExecuteJobResponse, error) {
	req := &protocol.ExecuteJobRequest{JobId: fmt.Sprintf("test-%d", time.Now().UnixNano()), HandlerName: handler, Payload: payload}
	if timeout > 0 {
		secs := int64((timeout + time.Second - 1) / time.Second)
		req.TimeoutSecs = &secs
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return c.client.ExecuteJob(ctx, req)
}

// ExecuteCommand runs one of the plugin's commands, as `qntx <plugin> <command> args --flags`.
func (c *PluginClient) ExecuteCommand(ctx context.Context, command string, args []string, flags map[string]string, stdin string) (*protocol.ExecuteCommandResponse, error) {
	ctx, cancel := withDeadline(ctx, clientCallTimeout)
	defer cancel()
	return c.client.ExecuteCommand(ctx, &protocol.ExecuteCommandRequest{Command: command, Args: args, Flags: flags, Stdin: []byte(stdin)})
}

// Shutdown asks the plugin to stop.
func (c *PluginClient) Shutdown(ctx context.Context) error {
	ctx, cancel := withDeadline(ctx, clientCallTimeout)
	defer cancel()
	_, err := c.client.Shutdown(ctx, &protocol.Empty{})
	if err != nil && strings.Contains(err.Error(), "transport is closing") {
		return nil // it stopped before the answer got out
	}
	return err
}
