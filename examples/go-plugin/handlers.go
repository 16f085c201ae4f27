package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/wsconn"
)

// notePredicate and noteContext place a note: subject <subject>, predicate note, context goplug.
const (
	notePredicate = "note"
	noteContext   = pluginName
	// maxNoteBytes bounds a note body (the host allows 10 MiB; a note is short).
	maxNoteBytes = 64 << 10
)

// handleHello answers GET /api/goplug/hello?name=you with {"message": "Hello, you!"}.
func (p *MyPlugin) handleHello(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET"})
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "world"
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": p.currentGreeting() + ", " + name + "!", "plugin": pluginName, "language": "go"})
}

// handleNotes: GET lists the notes of ?subject= (newest first), POST stores {"subject", "text"}.
func (p *MyPlugin) handleNotes(w http.ResponseWriter, r *http.Request) {
	store := p.store()
	if store == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the host offers no attestation store"})
		return
	}
	switch r.Method {
	case http.MethodGet:
		filter := domains.AttestationFilter{Predicates: []string{notePredicate}, Contexts: []string{noteContext}, Limit: 100}
		if s := r.URL.Query().Get("subject"); s != "" {
			filter.Subjects = []string{s}
		}
		found, err := store.GetAttestations(filter)
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return
		}
		notes := make([]map[string]interface{}, 0, len(found))
		for _, as := range found {
			notes = append(notes, noteJSON(as))
		}
		writeJSON(w, http.StatusOK, map[string]interface{}{"notes": notes})
	case http.MethodPost:
		var body struct {
			Subject string `json:"subject"`
			Text    string `json:"text"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxNoteBytes)).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the body is not JSON {\"subject\", \"text\"}: " + err.Error()})
			return
		}
		if body.Subject == "" || body.Text == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "subject and text are required"})
			return
		}
		as, err := writeNote(r.Context(), store, body.Subject, body.Text, nil)
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusCreated, noteJSON(as))
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET or POST"})
	}
}

// handleRoot answers /api/goplug/ with the routes, and any other path under it with a JSON 404.
func (p *MyPlugin) handleRoot(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/goplug/" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no route " + r.Method + " " + strings.TrimPrefix(r.URL.Path, "/api/goplug")})
		return
	}
	writeJSON(w, http.StatusOK, map[string]interface{}{"plugin": pluginName, "routes": p.HTTPRoutes()})
}

// serveEcho upgrades /ws/goplug and sends every message back. "close" makes the plugin end
// the session itself, with code 4000.
func (p *MyPlugin) serveEcho(w http.ResponseWriter, r *http.Request) {
	conn, err := wsconn.Upgrader{}.Upgrade(w, r, nil)
	if err != nil {
		p.log().Warnw("WebSocket upgrade failed", "error", err)
		return
	}
	defer conn.Close()
	for {
		kind, data, err := conn.ReadMessage()
		if err != nil {
			var closed *wsconn.CloseError
			if !errors.As(err, &closed) {
				p.log().Debugw("WebSocket session ended", "error", err)
			}
			return
		}
		if string(data) == "close" {
			_ = conn.WriteClose(4000, "closed by goplug")
			return
		}
		if err := conn.WriteMessage(kind, data); err != nil {
			return
		}
	}
}

func noteJSON(as *domains.As) map[string]interface{} {
	note := map[string]interface{}{"id": as.ID, "source": as.Source, "created_at": as.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
	if len(as.Subjects) > 0 {
		note["subject"] = as.Subjects[0]
	}
	if text, ok := as.Attributes["text"]; ok {
		note["text"] = text
	}
	return note
}

func writeJSON(w http.ResponseWriter, status int, value interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(value)
}
