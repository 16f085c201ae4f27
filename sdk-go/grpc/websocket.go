package grpc

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/internal/wsframe"
	"qntx/sdk-go/protocol"
)

// HandleWebSocket serves one browser connection the host relays as a stream of
// WebSocketMessages, through a domains.WebSocketHandler as if the browser had connected to it:
// the handler's ServeWS gets an http.Request rebuilt from the CONNECT frame (path, query and the
// browser's headers, with a WebSocket handshake) and an http.ResponseWriter it can hijack, so
// it upgrades with its own WebSocket library. On the other end of that connection the SDK is
// the WebSocket client: host DATA frames become messages to the handler (text when the bytes
// are UTF-8, else binary), the handler's messages become DATA frames, and a close either way
// is passed on with its code and reason. The host's keepalive PINGs are answered here with a
// PONG carrying the same timestamp; they do not reach the handler.
//
// A plugin without WebSocket handlers answers UNIMPLEMENTED, as one without HandleWebSocket would.
// The handler is chosen by the CONNECT frame's path: the key equal to it, else the longest key
// it starts with (at a "/"), else the one key when there is only one; "/<name>-ws" and
// "/ws/<name>" are the same path.
func (s *PluginServer) HandleWebSocket(stream protocol.DomainPluginService_HandleWebSocketServer) error {
	send := &lockedSender{stream: stream}
	first, err := stream.Recv()
	if err != nil {
		return nil // the host went away before saying anything
	}
	st := s.state()
	if st == nil {
		return send.error(fmt.Sprintf("plugin %s is not initialized yet", s.plugin.Metadata().Name))
	}
	if len(st.ws) == 0 {
		// As a plugin without HandleWebSocket answers: callers treat it as "no WebSocket".
		return status.Errorf(codes.Unimplemented, "plugin %s has no WebSocket handlers", s.plugin.Metadata().Name)
	}
	var headers map[string]string
	var pending *protocol.WebSocketMessage
	if first.Type == protocol.WebSocketMessage_CONNECT {
		headers = first.Headers
	} else {
		// QNTX's host may start with data: treat it as a connection with no headers.
		pending = first
	}
	path := headers["path"]
	if path == "" {
		path = "/ws/" + s.plugin.Metadata().Name
	}
	handler, key := s.chooseWebSocketHandler(st.ws, path)
	if handler == nil {
		return send.error(fmt.Sprintf("plugin %s has no WebSocket handler for %s (its paths: %s)", s.plugin.Metadata().Name, path, strings.Join(sortedKeys(st.ws), ", ")))
	}
	req, err := upgradeRequest(stream.Context(), path, headers)
	if err != nil {
		return send.error(err.Error())
	}

	serverSide, clientSide := net.Pipe()
	defer clientSide.Close()
	w := &hijackWriter{conn: serverSide, header: http.Header{}}
	served := make(chan struct{})
	go func() {
		defer close(served)
		defer func() {
			if v := recover(); v != nil {
				s.logger.Errorw("WebSocket handler panicked", "path", path, "panic", fmt.Sprint(v))
				w.setPanic(fmt.Sprint(v))
			}
			if !w.isHijacked() {
				serverSide.Close() // nothing will answer on the pipe: end the read below
			}
		}()
		handler.ServeWS(w, req)
	}()

	reader := bufio.NewReader(clientSide)
	resp, err := http.ReadResponse(reader, req)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		if w.isHijacked() {
			clientSide.Close() // a handler that hijacked may still be running: do not wait for it
		} else {
			<-served
		}
		return send.error(s.refusal(key, w, resp, err))
	}
	resp.Body.Close()
	if resp.Header.Get("Sec-Websocket-Accept") != wsframe.AcceptKey(req.Header.Get("Sec-Websocket-Key")) {
		return send.error(fmt.Sprintf("the WebSocket handler for %s answered the handshake with a wrong Sec-WebSocket-Accept", key))
	}

	b := &bridge{send: send, conn: clientSide, reader: reader}
	fromHandler := make(chan struct{})
	go func() {
		defer close(fromHandler)
		b.pumpFromHandler()
	}()
	if pending != nil {
		b.toHandler(pending)
	}
	b.pumpFromHost(stream, fromHandler)
	clientSide.Close()
	<-fromHandler
	return nil
}

// chooseWebSocketHandler picks the handler for path (see HandleWebSocket).
func (s *PluginServer) chooseWebSocketHandler(handlers map[string]domains.WebSocketHandler, path string) (domains.WebSocketHandler, string) {
	name := s.plugin.Metadata().Name
	canonical := func(p string) string {
		if p == "/"+name+"-ws" || strings.HasPrefix(p, "/"+name+"-ws/") {
			return "/ws/" + name + strings.TrimPrefix(p, "/"+name+"-ws")
		}
		return p
	}
	want := canonical(path)
	best := ""
	for key := range handlers {
		k := canonical(key)
		if k == want {
			return handlers[key], key
		}
		prefix := strings.TrimSuffix(k, "/")
		if strings.HasPrefix(want, prefix+"/") && len(k) > len(best) {
			best = key
		}
	}
	if best != "" {
		return handlers[best], best
	}
	if len(handlers) == 1 {
		for key, h := range handlers {
			return h, key
		}
	}
	return nil, ""
}

// upgradeRequest is the request ServeWS gets: GET path?query with the CONNECT headers and a
// fresh WebSocket handshake.
func upgradeRequest(ctx context.Context, path string, headers map[string]string) (*http.Request, error) {
	target := path
	if q := headers["query"]; q != "" {
		target += "?" + q
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("the WebSocket path %q does not parse: %v", target, err)
	}
	for name, value := range headers {
		if name == "path" || name == "query" {
			continue
		}
		req.Header.Set(name, value)
	}
	req.Host = headers["host"]
	req.RequestURI = target
	req.RemoteAddr = "127.0.0.1:0"
	// The browser's handshake stayed with the host; this one is between the SDK and the handler.
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-Websocket-Version", "13")
	req.Header.Set("Sec-Websocket-Key", wsframe.NewKey())
	req.Header.Del("Sec-Websocket-Extensions")
	return req, nil
}

// refusal explains why a handler did not upgrade.
func (s *PluginServer) refusal(key string, w *hijackWriter, resp *http.Response, err error) string {
	switch {
	case w.panicText() != "":
		return fmt.Sprintf("the WebSocket handler for %s panicked: %s", key, w.panicText())
	case !w.isHijacked():
		status := w.status
		if status == 0 {
			status = http.StatusOK
		}
		return fmt.Sprintf("the WebSocket handler for %s did not upgrade the connection: it answered %d %s", key, status, strings.TrimSpace(w.body.String()))
	case resp != nil:
		return fmt.Sprintf("the WebSocket handler for %s answered %s instead of 101 Switching Protocols", key, resp.Status)
	}
	return fmt.Sprintf("the WebSocket handler for %s broke off the handshake: %v", key, err)
}

// lockedSender serializes Send on the stream: both pumps send.
type lockedSender struct {
	mu     sync.Mutex
	stream protocol.DomainPluginService_HandleWebSocketServer
}

func (l *lockedSender) send(m *protocol.WebSocketMessage) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stream.Send(m)
}

// error sends an ERROR frame (the host closes the browser with 1011 and this reason) and ends.
func (l *lockedSender) error(reason string) error {
	_ = l.send(&protocol.WebSocketMessage{Type: protocol.WebSocketMessage_ERROR, Data: []byte(reason), Timestamp: time.Now().UnixNano()})
	return nil
}

func sortedKeys(m map[string]domains.WebSocketHandler) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
