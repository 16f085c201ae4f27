package wsconn

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"qntx/sdk-go/internal/wsframe"
)

// pipeWriter is an http.ResponseWriter whose Hijack hands out one end of a net.Pipe, as
// net/http's server hands out the connection.
type pipeWriter struct {
	http.ResponseWriter
	conn net.Conn
}

func (p *pipeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return p.conn, bufio.NewReadWriter(bufio.NewReader(p.conn), bufio.NewWriter(p.conn)), nil
}

// upgraded returns a server Conn (limit bytes) and the client end, after a real handshake.
func upgraded(t *testing.T, limit int64) (*Conn, net.Conn, *bufio.Reader) {
	t.Helper()
	server, client := net.Pipe()
	t.Cleanup(func() { server.Close(); client.Close() })
	req := httptest.NewRequest("GET", "/ws", nil)
	key := wsframe.NewKey()
	req.Header.Set("Connection", "keep-alive, Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Protocol", "a, qntx-plugin-v1")
	got := make(chan *Conn, 1)
	go func() {
		c, err := Upgrader{Subprotocols: []string{"qntx-plugin-v1"}, MaxMessageBytes: limit}.Upgrade(&pipeWriter{httptest.NewRecorder(), server}, req, http.Header{"X-Extra": {"1"}})
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	reader := bufio.NewReader(client)
	resp, err := http.ReadResponse(reader, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-Websocket-Accept") != wsframe.AcceptKey(key) ||
		resp.Header.Get("Sec-Websocket-Protocol") != "qntx-plugin-v1" || resp.Header.Get("X-Extra") != "1" {
		t.Fatalf("handshake answer %d %v", resp.StatusCode, resp.Header)
	}
	return <-got, client, reader
}

func TestReadMessageReassemblesAnswersPingAndCloses(t *testing.T) {
	conn, client, reader := upgraded(t, 0)
	go func() {
		// A fragmented text message with a ping in the middle, then a close.
		_, _ = client.Write([]byte{0x01, 0x80 | 3, 0, 0, 0, 0, 'a', 'b', 'c'}) // text, not FIN, masked with 0000
		_ = wsframe.Write(client, wsframe.OpPing, []byte("p"), true)
		_, _ = client.Write([]byte{0x80, 0x80 | 2, 0, 0, 0, 0, 'd', 'e'}) // continuation, FIN
		_ = wsframe.Write(client, wsframe.OpClose, wsframe.ClosePayload(1001, "away"), true)
	}()
	pong := make(chan wsframe.Frame, 2)
	go func() {
		for {
			f, err := wsframe.Read(reader, 1<<20)
			if err != nil {
				return
			}
			pong <- f
		}
	}()
	kind, data, err := conn.ReadMessage()
	if err != nil || kind != TextMessage || string(data) != "abcde" {
		t.Fatalf("got %d %q %v", kind, data, err)
	}
	if f := <-pong; f.Opcode != wsframe.OpPong || string(f.Payload) != "p" {
		t.Errorf("ping answered with %d %q", f.Opcode, f.Payload)
	}
	_, _, err = conn.ReadMessage()
	var closed *CloseError
	if !errors.As(err, &closed) || closed.Code != 1001 || closed.Text != "away" {
		t.Fatalf("err %v", err)
	}
	if f := <-pong; f.Opcode != wsframe.OpClose {
		t.Errorf("the close was answered with %d", f.Opcode)
	}
	if err := conn.WriteMessage(TextMessage, []byte("late")); err == nil {
		t.Error("a write after close succeeded")
	}
}

func TestAMessageOverTheLimitClosesWith1009(t *testing.T) {
	conn, client, reader := upgraded(t, 10)
	go func() { _ = wsframe.Write(client, wsframe.OpBinary, make([]byte, 11), true) }()
	closing := make(chan wsframe.Frame, 1)
	go func() {
		f, _ := wsframe.Read(reader, 1<<20)
		closing <- f
	}()
	if _, _, err := conn.ReadMessage(); !errors.Is(err, wsframe.ErrTooBig) {
		t.Fatalf("err %v", err)
	}
	f := <-closing
	if code, _ := wsframe.ParseClose(f.Payload); f.Opcode != wsframe.OpClose || code != CloseMessageTooBig {
		t.Errorf("got opcode %d code %d", f.Opcode, code)
	}
}

func TestUpgradeRefusesWhatIsNotAHandshake(t *testing.T) {
	w := httptest.NewRecorder()
	_, err := Upgrader{}.Upgrade(w, httptest.NewRequest("GET", "/ws", nil), nil)
	if err == nil || w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "not a WebSocket handshake") {
		t.Errorf("got %v, %d %q", err, w.Code, w.Body.String())
	}
}
