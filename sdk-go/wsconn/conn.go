// Package wsconn is a small server-side WebSocket for a plugin's domains.WebSocketHandler, with
// gorilla/websocket's names (Upgrader.Upgrade, Conn.ReadMessage, Conn.WriteMessage,
// TextMessage, …), so a handler written with it moves to gorilla by changing one import.
// It needs no library beyond Go's own: Debian does not ship gorilla/websocket by default here.
//
// It covers what a plugin behind the host needs: text and binary messages (fragmented ones
// reassembled), ping answered with pong, the close handshake with its code and reason. It
// does no compression and no origin policy of its own (the host checks Origin before the
// upgrade reaches the plugin).
package wsconn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	"qntx/sdk-go/internal/wsframe"
)

// Message types, as gorilla/websocket numbers them (the frame opcodes).
const (
	TextMessage   = 1
	BinaryMessage = 2
	CloseMessage  = 8
	PingMessage   = 9
	PongMessage   = 10
)

// Close codes.
const (
	CloseNormalClosure     = 1000
	CloseGoingAway         = 1001
	CloseNoStatusReceived  = 1005
	CloseMessageTooBig     = 1009
	CloseInternalServerErr = 1011
)

// DefaultMaxMessageBytes is the largest message ReadMessage accepts unless the Upgrader says
// otherwise: the host's own default frame limit (ws_max_frame_bytes, 1 MiB).
const DefaultMaxMessageBytes = 1 << 20

// CloseError is what ReadMessage returns once the peer closed: its code and reason.
type CloseError struct {
	Code int
	Text string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("websocket: close %d %s", e.Code, e.Text)
}

// Upgrader turns an HTTP request into a WebSocket connection.
type Upgrader struct {
	// Subprotocols the server supports, in order of preference.
	Subprotocols []string
	// MaxMessageBytes limits a message's size (default DefaultMaxMessageBytes).
	MaxMessageBytes int64
}

// Upgrade answers the handshake (101 Switching Protocols) and returns the connection. On a
// request that is not a WebSocket handshake it answers 400 itself and returns an error.
// responseHeader is added to the 101 answer (may be nil).
func (u Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (*Conn, error) {
	fail := func(status int, reason string) (*Conn, error) {
		http.Error(w, "websocket: "+reason, status)
		return nil, errors.New("websocket: " + reason)
	}
	if r.Method != http.MethodGet {
		return fail(http.StatusMethodNotAllowed, "the handshake must be a GET")
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return fail(http.StatusBadRequest, "not a WebSocket handshake (Connection: Upgrade and Upgrade: websocket are missing)")
	}
	if r.Header.Get("Sec-Websocket-Version") != "13" {
		return fail(http.StatusBadRequest, "unsupported Sec-WebSocket-Version (want 13)")
	}
	key := r.Header.Get("Sec-Websocket-Key")
	if key == "" {
		return fail(http.StatusBadRequest, "Sec-WebSocket-Key is missing")
	}
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		return fail(http.StatusInternalServerError, "the ResponseWriter cannot be hijacked")
	}
	netConn, rw, err := hijacker.Hijack()
	if err != nil {
		return nil, fmt.Errorf("websocket: hijack: %w", err)
	}
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	b.WriteString("Sec-WebSocket-Accept: " + wsframe.AcceptKey(key) + "\r\n")
	if proto := u.chooseSubprotocol(r); proto != "" {
		b.WriteString("Sec-WebSocket-Protocol: " + proto + "\r\n")
	}
	for name, values := range responseHeader {
		for _, v := range values {
			b.WriteString(name + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	if _, err := netConn.Write([]byte(b.String())); err != nil {
		netConn.Close()
		return nil, fmt.Errorf("websocket: writing the handshake answer: %w", err)
	}
	limit := u.MaxMessageBytes
	if limit <= 0 {
		limit = DefaultMaxMessageBytes
	}
	reader := rw.Reader
	if reader == nil {
		reader = bufio.NewReader(netConn)
	}
	return &Conn{conn: netConn, reader: reader, limit: limit}, nil
}

func (u Upgrader) chooseSubprotocol(r *http.Request) string {
	offered := tokens(r.Header, "Sec-Websocket-Protocol")
	for _, want := range u.Subprotocols {
		for _, o := range offered {
			if o == want {
				return want
			}
		}
	}
	return ""
}

// Conn is one WebSocket connection, server side. ReadMessage from one goroutine at a time;
// WriteMessage may be called from several.
type Conn struct {
	conn   net.Conn
	reader *bufio.Reader
	limit  int64

	writeMu   sync.Mutex
	closeSent bool
}

// ReadMessage returns the next text or binary message. Pings are answered with pongs and
// pongs are skipped; a close frame is answered (the same code) and returned as *CloseError.
// A message over the limit closes the connection with 1009.
func (c *Conn) ReadMessage() (messageType int, data []byte, err error) {
	var message []byte
	msgType := 0
	for {
		f, err := wsframe.Read(c.reader, c.limit)
		if errors.Is(err, wsframe.ErrTooBig) {
			_ = c.WriteClose(CloseMessageTooBig, "message too big")
			return 0, nil, err
		}
		if err != nil {
			return 0, nil, err
		}
		switch f.Opcode {
		case wsframe.OpPing:
			if err := c.write(wsframe.OpPong, f.Payload); err != nil {
				return 0, nil, err
			}
			continue
		case wsframe.OpPong:
			continue
		case wsframe.OpClose:
			code, reason := wsframe.ParseClose(f.Payload)
			echo := code
			if echo == CloseNoStatusReceived {
				echo = CloseNormalClosure
			}
			_ = c.WriteClose(echo, "")
			return 0, nil, &CloseError{Code: code, Text: reason}
		case wsframe.OpText, wsframe.OpBinary:
			msgType = int(f.Opcode)
			message = f.Payload
		case wsframe.OpContinuation:
			if msgType == 0 {
				return 0, nil, errors.New("websocket: continuation frame without a message to continue")
			}
			if int64(len(message)+len(f.Payload)) > c.limit {
				_ = c.WriteClose(CloseMessageTooBig, "message too big")
				return 0, nil, wsframe.ErrTooBig
			}
			message = append(message, f.Payload...)
		default:
			return 0, nil, fmt.Errorf("websocket: unknown opcode %d", f.Opcode)
		}
		if f.Fin {
			return msgType, message, nil
		}
	}
}

// WriteMessage sends one message: TextMessage or BinaryMessage (PingMessage, PongMessage and
// CloseMessage send that control frame).
func (c *Conn) WriteMessage(messageType int, data []byte) error {
	switch messageType {
	case TextMessage, BinaryMessage, PingMessage, PongMessage:
		return c.write(byte(messageType), data)
	case CloseMessage:
		code, reason := wsframe.ParseClose(data)
		return c.WriteClose(code, reason)
	}
	return fmt.Errorf("websocket: unknown message type %d", messageType)
}

// WriteClose sends a close frame with code and reason (once; later calls do nothing).
func (c *Conn) WriteClose(code int, reason string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.closeSent {
		return nil
	}
	c.closeSent = true
	return wsframe.Write(c.conn, wsframe.OpClose, wsframe.ClosePayload(code, reason), false)
}

func (c *Conn) write(opcode byte, data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.closeSent {
		return errors.New("websocket: write after close")
	}
	return wsframe.Write(c.conn, opcode, data, false)
}

// Close sends a normal close frame (unless one was sent) and closes the connection.
func (c *Conn) Close() error {
	_ = c.WriteClose(CloseNormalClosure, "")
	return c.conn.Close()
}

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// headerHasToken reports whether the comma-separated header name holds token (any case).
func headerHasToken(h http.Header, name, token string) bool {
	for _, t := range tokens(h, name) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

func tokens(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

var _ io.Closer = (*Conn)(nil)
