package grpc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	xws "golang.org/x/net/websocket"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/protocol"
	"qntx/sdk-go/wsconn"
)

// wsEcho upgrades with this SDK's wsconn and echoes; "close" ends with 4000; it reports how the
// session ended on ended.
func wsEcho(ended chan<- error, seen chan<- *http.Request) domains.WebSocketHandler {
	return domains.WebSocketHandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen != nil {
			seen <- r
		}
		conn, err := wsconn.Upgrader{Subprotocols: []string{"x"}}.Upgrade(w, r, nil)
		if err != nil {
			ended <- err
			return
		}
		defer conn.Close()
		for {
			kind, data, err := conn.ReadMessage()
			if err != nil {
				ended <- err
				return
			}
			if string(data) == "close" {
				_ = conn.WriteClose(4000, "bye")
				ended <- nil
				return
			}
			if err := conn.WriteMessage(kind, append([]byte("echo:"), data...)); err != nil {
				ended <- err
				return
			}
		}
	})
}

func openStream(t *testing.T, client *PluginClient, headers map[string]string) protocol.DomainPluginService_HandleWebSocketClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := client.Client().HandleWebSocket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&protocol.WebSocketMessage{Type: protocol.WebSocketMessage_CONNECT, Headers: headers}); err != nil {
		t.Fatal(err)
	}
	return stream
}

func recv(t *testing.T, stream protocol.DomainPluginService_HandleWebSocketClient) *protocol.WebSocketMessage {
	t.Helper()
	got := make(chan *protocol.WebSocketMessage, 1)
	go func() {
		m, err := stream.Recv()
		if err != nil {
			m = &protocol.WebSocketMessage{Type: -1, Data: []byte(err.Error())}
		}
		got <- m
	}()
	select {
	case m := <-got:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no frame from the plugin within 5 s")
		return nil
	}
}

func TestWebSocketBridgeEchoesThroughARealUpgrade(t *testing.T) {
	ended := make(chan error, 1)
	seen := make(chan *http.Request, 1)
	p := &testPlugin{name: "ws", ws: map[string]domains.WebSocketHandler{"/ws/ws": wsEcho(ended, seen)}}
	client, _ := startPlugin(t, p, nil)
	stream := openStream(t, client, map[string]string{"path": "/ws/ws/tab1", "query": "a=1&b=2", "host": "127.0.0.1:8770", "origin": "http://127.0.0.1:8770", "cookie": "c=1"})

	r := <-seen
	if r.URL.Path != "/ws/ws/tab1" || r.URL.Query().Get("b") != "2" || r.Host != "127.0.0.1:8770" || r.Header.Get("Cookie") != "c=1" || r.Header.Get("Origin") == "" {
		t.Errorf("the handler's request: %s %v host %q headers %v", r.URL, r.URL.Query(), r.Host, r.Header)
	}
	// Text stays text; bytes that are not UTF-8 go as binary and come back whole.
	for _, data := range [][]byte{[]byte("hello"), {0xff, 0x00, 0xfe}, []byte(strings.Repeat("x", 70000))} {
		if err := stream.Send(&protocol.WebSocketMessage{Type: protocol.WebSocketMessage_DATA, Data: data}); err != nil {
			t.Fatal(err)
		}
		m := recv(t, stream)
		if m.Type != protocol.WebSocketMessage_DATA || string(m.Data) != "echo:"+string(data) || m.Timestamp == 0 {
			t.Fatalf("got type %v, %d bytes", m.Type, len(m.Data))
		}
	}
	// The host's keepalive PING is answered here, with the same timestamp.
	const ts = int64(1796637687742610123)
	_ = stream.Send(&protocol.WebSocketMessage{Type: protocol.WebSocketMessage_PING, Timestamp: ts})
	if m := recv(t, stream); m.Type != protocol.WebSocketMessage_PONG || m.Timestamp != ts {
		t.Fatalf("PING answered with %v ts %d", m.Type, m.Timestamp)
	}
	// The browser closes: the handler sees the code and reason, and the CLOSE comes back.
	_ = stream.Send(&protocol.WebSocketMessage{Type: protocol.WebSocketMessage_CLOSE, Data: []byte("tab closed"), Headers: map[string]string{"code": "1001"}})
	var closeErr *wsconn.CloseError
	if err := <-ended; !errors.As(err, &closeErr) || closeErr.Code != 1001 || closeErr.Text != "tab closed" {
		t.Fatalf("the handler's session ended with %v", err)
	}
	if m := recv(t, stream); m.Type != protocol.WebSocketMessage_CLOSE || m.Headers["code"] != "1001" {
		t.Fatalf("after CLOSE: %v %v", m.Type, m.Headers)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Errorf("the stream did not end: %v", err)
	}
}

func TestWebSocketHandlerClosesWithItsCode(t *testing.T) {
	ended := make(chan error, 1)
	p := &testPlugin{name: "ws", ws: map[string]domains.WebSocketHandler{"/ws/ws": wsEcho(ended, nil)}}
	client, _ := startPlugin(t, p, nil)
	// The alias path /<name>-ws reaches /ws/<name>.
	stream := openStream(t, client, map[string]string{"path": "/ws-ws"})
	_ = stream.Send(&protocol.WebSocketMessage{Type: protocol.WebSocketMessage_DATA, Data: []byte("close")})
	m := recv(t, stream)
	if m.Type != protocol.WebSocketMessage_CLOSE || m.Headers["code"] != "4000" || string(m.Data) != "bye" {
		t.Fatalf("got %v %v %q", m.Type, m.Headers, m.Data)
	}
	if err := <-ended; err != nil {
		t.Fatal(err)
	}
}

func TestWebSocketRefusalsAreErrorFrames(t *testing.T) {
	p := &testPlugin{name: "ws", ws: map[string]domains.WebSocketHandler{
		"/ws/ws/deny": domains.WebSocketHandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "not you", http.StatusForbidden)
		}),
		"/ws/ws/panic": domains.WebSocketHandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("ws boom") }),
	}}
	client, _ := startPlugin(t, p, nil)
	for path, want := range map[string]string{
		"/ws/ws/deny":  "did not upgrade the connection: it answered 403 not you",
		"/ws/ws/panic": "panicked: ws boom",
		"/ws/other":    "has no WebSocket handler for /ws/other (its paths: /ws/ws/deny, /ws/ws/panic)",
	} {
		m := recv(t, openStream(t, client, map[string]string{"path": path}))
		if m.Type != protocol.WebSocketMessage_ERROR || !strings.Contains(string(m.Data), want) {
			t.Errorf("%s: got %v %q, want ERROR containing %q", path, m.Type, m.Data, want)
		}
	}
}

func TestNoWebSocketHandlersIsUnimplemented(t *testing.T) {
	client, _ := startPlugin(t, &testPlugin{name: "plain"}, nil)
	m := recv(t, openStream(t, client, map[string]string{"path": "/ws/plain"}))
	if m.Type != -1 || !strings.Contains(string(m.Data), "Unimplemented") || !strings.Contains(string(m.Data), "plugin plain has no WebSocket handlers") {
		t.Errorf("got %v %q", m.Type, m.Data)
	}
}

// golang.org/x/net/websocket is another server implementation: the bridge is a real
// WebSocket client, not one that only speaks to this SDK's wsconn.
func TestWebSocketBridgeWorksWithAnotherLibrarysServer(t *testing.T) {
	server := xws.Server{Handler: func(c *xws.Conn) {
		var msg string
		for xws.Message.Receive(c, &msg) == nil {
			_ = xws.Message.Send(c, "x/net:"+msg)
		}
	}}
	p := &testPlugin{name: "ws", ws: map[string]domains.WebSocketHandler{"/ws/ws": domains.WebSocketHandlerFunc(server.ServeHTTP)}}
	client, _ := startPlugin(t, p, nil)
	stream := openStream(t, client, map[string]string{"path": "/ws/ws", "host": "127.0.0.1"})
	for _, text := range []string{"one", "two"} {
		_ = stream.Send(&protocol.WebSocketMessage{Type: protocol.WebSocketMessage_DATA, Data: []byte(text)})
		if m := recv(t, stream); string(m.Data) != "x/net:"+text {
			t.Fatalf("got %v %q", m.Type, m.Data)
		}
	}
	// The host ends the stream (the browser vanished): the handler's read ends, and so does the call.
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, stream); m.Type != -1 || !strings.Contains(string(m.Data), "EOF") {
		t.Errorf("after the host's end: %v %q", m.Type, m.Data)
	}
}
