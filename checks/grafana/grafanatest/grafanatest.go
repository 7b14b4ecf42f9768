// Package grafanatest is a fake Grafana for tests: the part of the HTTP
// API the grafana check uses, GET /api/dashboards/uid/<uid>, answering as
// Grafana does: {"dashboard": ..., "meta": ...} for a dashboard the
// service-account token may view, and Grafana's error bodies for 401 (no
// or wrong token), 403 (a dashboard the token may not view) and 404 (no
// such uid). Grafana itself cannot be installed on the test machines.
package grafanatest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// Server is a running fake Grafana.
type Server struct {
	srv   *httptest.Server
	token string

	mu         sync.Mutex
	dashboards map[string]json.RawMessage
	forbidden  map[string]bool
	requests   atomic.Int64
}

// New starts a fake Grafana that accepts token as its one service-account
// token. Close it when done.
func New(token string) *Server {
	s := &Server{token: token, dashboards: map[string]json.RawMessage{}, forbidden: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/dashboards/uid/{uid}", s.dashboard)
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the base URL (http://127.0.0.1:<port>).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Requests counts the API requests served.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Add serves the dashboard JSON (as exported: the dashboard object) under
// uid; the dashboard's own uid field is set to uid, as Grafana does on
// import.
func (s *Server) Add(uid string, dashboard []byte) error {
	var d map[string]any
	if err := json.Unmarshal(dashboard, &d); err != nil {
		return fmt.Errorf("grafanatest: dashboard %s: %w", uid, err)
	}
	d["uid"] = uid
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dashboards[uid] = raw
	return nil
}

// AddFile is Add with the dashboard read from path.
func (s *Server) AddFile(uid, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return s.Add(uid, data)
}

// Forbid makes uid a dashboard the token may not view (403).
func (s *Server) Forbid(uid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forbidden[uid] = true
}

// dashboard serves GET /api/dashboards/uid/{uid}.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || auth != s.token {
		// Grafana's answer to a missing or invalid API key.
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Invalid API key", "messageId": "api-key.invalid", "statusCode": 401})
		return
	}
	uid := r.PathValue("uid")
	s.mu.Lock()
	raw, found := s.dashboards[uid]
	forbidden := s.forbidden[uid]
	s.mu.Unlock()
	switch {
	case forbidden:
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "Access denied to this dashboard", "status": "access-denied"})
	case !found:
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Dashboard not found", "status": "not-found"})
	default:
		writeJSON(w, http.StatusOK, map[string]any{
			"dashboard": raw,
			"meta": map[string]any{
				"type": "db", "canSave": false, "canEdit": false, "canAdmin": false, "canStar": true,
				"slug": strings.ToLower(uid), "url": "/d/" + uid + "/" + strings.ToLower(uid),
				"provisioned": false, "folderUid": "", "folderTitle": "General",
			},
		})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
