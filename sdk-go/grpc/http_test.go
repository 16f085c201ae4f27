package grpc

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"qntx/sdk-go/protocol"
)

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHTTPBothPathFormsReachTheSameHandler(t *testing.T) {
	p := &testPlugin{name: "notes", routes: func(mux *http.ServeMux) {
		// The guide's form: full paths under /api/<name>/.
		mux.HandleFunc("/api/notes/hello", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "hello "+r.URL.Query().Get("name")+" at "+r.URL.Path)
		})
		// The stripped form.
		mux.HandleFunc("/short", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "short at "+r.URL.Path) })
	}}
	client, _ := startPlugin(t, p, nil)
	for path, want := range map[string]string{
		"/hello?name=a":           "hello a at /api/notes/hello",
		"/api/notes/hello?name=b": "hello b at /api/notes/hello",
		"/short":                  "short at /short",
		"/api/notes/short":        "short at /short",
	} {
		resp, err := client.Get(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if got := body(t, resp); resp.StatusCode != 200 || got != want {
			t.Errorf("GET %s = %d %q, want 200 %q", path, resp.StatusCode, got, want)
		}
		// net/http's sniffing, as a real server would do it.
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
	}
	resp, _ := client.Get(context.Background(), "/nope")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown path answered %d", resp.StatusCode)
	}
}

func TestHTTPRequestAndResponseCarryEverything(t *testing.T) {
	p := &testPlugin{name: "echo", routes: func(mux *http.ServeMux) {
		mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Header().Add("Set-Cookie", "a=1")
			w.Header().Add("Set-Cookie", "b=2")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			w.Header().Set("X-Too-Late", "ignored") // after WriteHeader, as with net/http
			_ = json.NewEncoder(w).Encode(map[string]interface{}{
				"method": r.Method, "body": string(b), "values": r.Header.Values("X-Multi"), "length": r.ContentLength,
				"uri": r.RequestURI, "raw": r.URL.RawPath,
			})
		})
	}}
	client, _ := startPlugin(t, p, nil)
	resp, err := client.Client().HandleHTTP(context.Background(), &protocol.HTTPRequest{
		Method: "POST", Path: "/echo?x=%2F", Body: []byte(`{"a":1}`),
		Headers: []*protocol.HTTPHeader{{Name: "X-Multi", Values: []string{"1", "2"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	headers := map[string][]string{}
	for _, h := range resp.Headers {
		headers[h.Name] = h.Values
	}
	if strings.Join(headers["Set-Cookie"], ";") != "a=1;b=2" || headers["X-Too-Late"] != nil {
		t.Errorf("headers %v", headers)
	}
	var got map[string]interface{}
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatal(err)
	}
	if got["method"] != "POST" || got["body"] != `{"a":1}` || got["length"] != 7.0 || got["uri"] != "/echo?x=%2F" {
		t.Errorf("the handler saw %v", got)
	}
	if v, _ := got["values"].([]interface{}); len(v) != 2 {
		t.Errorf("repeated header values: %v", got["values"])
	}
}

func TestHTTPPanicAnswers500AndTheServerKeepsServing(t *testing.T) {
	p := &testPlugin{name: "boom", routes: func(mux *http.ServeMux) {
		mux.HandleFunc("/boom", func(w http.ResponseWriter, r *http.Request) { panic("kaboom") })
		mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "fine") })
	}}
	client, _ := startPlugin(t, p, nil)
	resp, err := client.Get(context.Background(), "/boom")
	if err != nil {
		t.Fatal(err)
	}
	if got := body(t, resp); resp.StatusCode != 500 || !strings.Contains(got, "kaboom") || !strings.Contains(got, "/boom") {
		t.Errorf("panic answered %d %q", resp.StatusCode, got)
	}
	resp, _ = client.Get(context.Background(), "/ok")
	if got := body(t, resp); got != "fine" {
		t.Errorf("after the panic: %q", got)
	}
}

func TestHTTPBeforeInitializeIs503WithAHint(t *testing.T) {
	client := serveOnLoopback(t, NewPluginServer(&testPlugin{name: "early"}, nil))
	resp, err := client.Get(context.Background(), "/x")
	if err != nil {
		t.Fatal(err)
	}
	if got := body(t, resp); resp.StatusCode != 503 || !strings.Contains(got, "not initialized") || !strings.Contains(got, "hint") {
		t.Errorf("got %d %q", resp.StatusCode, got)
	}
}

func TestHTTPHandlerSeesTheCallsCancellation(t *testing.T) {
	started := make(chan struct{})
	ended := make(chan error, 1)
	p := &testPlugin{name: "slow", routes: func(mux *http.ServeMux) {
		mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-r.Context().Done()
			ended <- r.Context().Err()
		})
	}}
	client, _ := startPlugin(t, p, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel() // the browser went away
	}()
	req, _ := http.NewRequestWithContext(ctx, "GET", "/slow", nil)
	if _, err := client.Do(req); err == nil {
		t.Fatal("the cancelled call succeeded")
	}
	if err := <-ended; err != context.Canceled {
		t.Errorf("the handler's context ended with %v", err)
	}
}
