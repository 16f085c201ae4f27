package grpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"

	"qntx/sdk-go/protocol"
)

// HandleHTTP runs the request through the ServeMux the plugin filled in RegisterHTTP, with a
// real http.Request (method, path and query as the client wrote them, headers, body, and the
// call's context: cancelled when the browser goes away or the host's deadline passes).
//
// The host sends the path with /api/<name> cut off ("/hello"), and again in full
// ("/api/<name>/hello") after a 404. A plugin registers its routes in one form or the other
// (QNTX's guide uses the full one): when the mux has no route for the path as sent, the other
// form is tried here, so either answers at the first call. A panic in a handler answers 500
// with its message, and the plugin keeps serving.
func (s *PluginServer) HandleHTTP(ctx context.Context, req *protocol.HTTPRequest) (*protocol.HTTPResponse, error) {
	st := s.state()
	if st == nil {
		return jsonResponse(http.StatusServiceUnavailable, map[string]string{
			"error": fmt.Sprintf("plugin %s is not initialized yet", s.plugin.Metadata().Name),
			"hint":  "the host sends Initialize before any request; retry in a moment",
		}), nil
	}
	r, err := s.newRequest(ctx, req, req.Path)
	if err != nil {
		return jsonResponse(http.StatusBadRequest, map[string]string{"error": err.Error()}), nil
	}
	if _, pattern := st.mux.Handler(r); pattern == "" {
		if alt := s.otherPathForm(r); alt != "" {
			if ar, err := s.newRequest(ctx, req, alt); err == nil {
				if _, p := st.mux.Handler(ar); p != "" {
					r = ar
				}
			}
		}
	}
	w := newResponseRecorder()
	s.serveRecovered(st.mux, w, r)
	return w.response(), nil
}

// newRequest builds the http.Request for target (path and query).
func (s *PluginServer) newRequest(ctx context.Context, req *protocol.HTTPRequest, target string) (*http.Request, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	if target == "" {
		target = "/"
	}
	r, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(req.Body))
	if err != nil {
		return nil, fmt.Errorf("the request path %q does not parse: %v", target, err)
	}
	for _, h := range req.Headers {
		for _, v := range h.Values {
			r.Header.Add(h.Name, v)
		}
	}
	r.ContentLength = int64(len(req.Body))
	// As a net/http server sets them, for handlers that read them.
	r.RequestURI = target
	r.RemoteAddr = "127.0.0.1:0"
	return r, nil
}

// otherPathForm is r's path in the other of the two forms the host uses: "/x" ↔ "/api/<name>/x"
// (the query kept, the encoding as sent).
func (s *PluginServer) otherPathForm(r *http.Request) string {
	prefix := "/api/" + s.plugin.Metadata().Name
	path := r.URL.EscapedPath()
	query := ""
	if r.URL.RawQuery != "" {
		query = "?" + r.URL.RawQuery
	}
	switch {
	case path == prefix:
		return "/" + query
	case strings.HasPrefix(path, prefix+"/"):
		return strings.TrimPrefix(path, prefix) + query
	case strings.HasPrefix(path, "/"):
		return prefix + path + query
	}
	return ""
}

// serveRecovered serves r, turning a handler's panic into a 500 (when nothing was written yet).
func (s *PluginServer) serveRecovered(h http.Handler, w *responseRecorder, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			s.logger.Errorw("HTTP handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !w.wroteHeader {
				w.header = http.Header{}
				w.body.Reset()
				w.header.Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				_ = json.NewEncoder(&w.body).Encode(map[string]string{"error": fmt.Sprintf("the handler of %s %s panicked: %v", r.Method, r.URL.Path, v)})
			}
		}
	}()
	h.ServeHTTP(w, r)
}

// responseRecorder is the http.ResponseWriter handlers write to: status, headers and body are
// kept and sent as one HTTPResponse.
type responseRecorder struct {
	header      http.Header
	sent        http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func newResponseRecorder() *responseRecorder {
	return &responseRecorder{header: http.Header{}}
}

func (w *responseRecorder) Header() http.Header { return w.header }

func (w *responseRecorder) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	w.status = status
	// Headers set after WriteHeader do not count, as with net/http.
	w.sent = w.header.Clone()
}

func (w *responseRecorder) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		// As net/http does: a body without a Content-Type gets a sniffed one.
		if w.header.Get("Content-Type") == "" && w.header.Get("Transfer-Encoding") == "" && len(b) > 0 {
			w.header.Set("Content-Type", http.DetectContentType(b))
		}
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(b)
}

// Flush is accepted (handlers that stream call it) but does nothing: the protocol sends one
// whole response.
func (w *responseRecorder) Flush() {}

func (w *responseRecorder) response() *protocol.HTTPResponse {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	headers := make([]*protocol.HTTPHeader, 0, len(w.sent))
	for name, values := range w.sent {
		headers = append(headers, &protocol.HTTPHeader{Name: name, Values: values})
	}
	return &protocol.HTTPResponse{StatusCode: int32(w.status), Headers: headers, Body: w.body.Bytes()}
}

// jsonResponse is an HTTPResponse with value as its JSON body.
func jsonResponse(status int, value interface{}) *protocol.HTTPResponse {
	body, _ := json.Marshal(value)
	return &protocol.HTTPResponse{
		StatusCode: int32(status),
		Headers:    []*protocol.HTTPHeader{{Name: "Content-Type", Values: []string{"application/json"}}},
		Body:       body,
	}
}
