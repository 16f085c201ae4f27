package grpc

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"sync"
)

// hijackWriter is the http.ResponseWriter a WebSocket handler gets: hijacking it hands over
// the handler's end of the pipe; anything written without hijacking is kept to explain the
// refusal.
type hijackWriter struct {
	conn     net.Conn
	header   http.Header
	status   int
	body     bytes.Buffer
	mu       sync.Mutex
	hijacked bool
	panicked string
}

func (w *hijackWriter) Header() http.Header { return w.header }

func (w *hijackWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *hijackWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// Hijack hands over the connection, as net/http's server does for an upgrade.
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	w.hijacked = true
	return w.conn, bufio.NewReadWriter(bufio.NewReader(w.conn), bufio.NewWriter(w.conn)), nil
}

func (w *hijackWriter) setPanic(text string) {
	w.mu.Lock()
	w.panicked = text
	w.mu.Unlock()
}

func (w *hijackWriter) panicText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.panicked
}

func (w *hijackWriter) isHijacked() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hijacked
}
