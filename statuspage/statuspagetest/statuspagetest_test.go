package statuspagetest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// call sends one request to the fake with its key (unless key is "-").
func call(t *testing.T, s *Server, method, path, key, body string) (int, http.Header, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if key != "-" {
		req.Header.Set("Authorization", "OAuth "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestAuthPageAndValidation(t *testing.T) {
	s := New(t, Options{Components: []string{"cmp1"}})
	incidents := "/pages/" + s.PageID + "/incidents"
	for _, tc := range []struct {
		name, method, path, key, body string
		status                        int
		msg                           string
	}{
		{"no auth", "GET", incidents + "/unresolved", "-", "", 401, "Could not authenticate"},
		{"wrong key", "GET", incidents + "/unresolved", "nope", "", 401, "Could not authenticate"},
		{"other page", "GET", "/pages/otherpage/incidents/unresolved", s.APIKey, "", 404, "could not be found"},
		{"unknown incident", "GET", incidents + "/nope", s.APIKey, "", 404, "could not be found"},
		{"no name", "POST", incidents, s.APIKey, `{"incident":{"status":"investigating"}}`, 422, "Name can't be blank"},
		{"bad status", "POST", incidents, s.APIKey, `{"incident":{"name":"n","status":"open"}}`, 422, "not a valid status"},
		{"bad component status", "POST", incidents, s.APIKey, `{"incident":{"name":"n","components":{"cmp1":"down"}}}`, 422, "Component status"},
		{"unknown component", "POST", incidents, s.APIKey, `{"incident":{"name":"n","component_ids":["cmp9"]}}`, 422, "cmp9"},
		{"flat metadata", "POST", incidents, s.APIKey, `{"incident":{"name":"n","metadata":{"key":"x"}}}`, 422, "must be an object"},
		{"not json", "POST", incidents, s.APIKey, `{`, 400, "not valid JSON"},
		{"no incident", "POST", incidents, s.APIKey, `{}`, 400, "incident"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := call(t, s, tc.method, tc.path, tc.key, tc.body)
			var e struct{ Error string }
			if status != tc.status || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error, tc.msg) {
				t.Errorf("%s %s = %d %s; want %d with an error containing %q", tc.method, tc.path, status, body, tc.status, tc.msg)
			}
		})
	}
	if n := len(s.Incidents()); n != 0 {
		t.Errorf("%d incidents stored from invalid requests", n)
	}
}

func TestCreatePatchAndList(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s := New(t, Options{Now: func() time.Time { return now }})
	incidents := "/pages/" + s.PageID + "/incidents"
	status, _, body := call(t, s, "POST", incidents, s.APIKey,
		`{"incident":{"name":"API down","body":"Looking.","components":{"cmp1":"major_outage"},"component_ids":["cmp1"],"metadata":{"opsbot":{"key":"k1"}}}}`)
	if status != http.StatusCreated {
		t.Fatalf("create = %d %s", status, body)
	}
	var inc Incident
	if err := json.Unmarshal([]byte(body), &inc); err != nil {
		t.Fatal(err)
	}
	if inc.Status != "investigating" || inc.Impact != "critical" || !inc.CreatedAt.Equal(now) ||
		len(inc.Components) != 1 || inc.Components[0].Status != "major_outage" || inc.IncidentUpdates[0].Body != "Looking." {
		t.Errorf("created %+v", inc)
	}

	status, _, body = call(t, s, "PATCH", incidents+"/"+inc.ID, s.APIKey,
		`{"incident":{"status":"resolved","body":"Fixed.","components":{"cmp1":"operational"}}}`)
	if status != http.StatusOK {
		t.Fatalf("patch = %d %s", status, body)
	}
	got := s.Incidents()[0]
	if got.Status != "resolved" || got.ResolvedAt == nil || got.Impact != "critical" || s.ComponentStatus("cmp1") != "operational" ||
		len(got.IncidentUpdates) != 2 || got.IncidentUpdates[0].Body != "Fixed." {
		t.Errorf("after resolve: %+v", got)
	}

	for i := range 3 {
		s.AddIncident(Incident{Name: "open " + string(rune('a'+i))})
	}
	status, _, body = call(t, s, "GET", incidents+"/unresolved?page=2&per_page=2", s.APIKey, "")
	var list []Incident
	if status != http.StatusOK || json.Unmarshal([]byte(body), &list) != nil || len(list) != 1 || list[0].Name != "open a" {
		t.Errorf("unresolved page 2 = %d %s; want the oldest open incident only", status, body)
	}
}

func TestFaults(t *testing.T) {
	s := New(t, Options{})
	unresolved := "/pages/" + s.PageID + "/incidents/unresolved"

	s.FailNext(http.StatusServiceUnavailable, 1)
	if status, _, _ := call(t, s, "GET", unresolved, s.APIKey, ""); status != http.StatusServiceUnavailable {
		t.Errorf("FailNext: %d", status)
	}
	s.RateLimitNext(1, 1500*time.Millisecond)
	if status, h, _ := call(t, s, "GET", unresolved, s.APIKey, ""); status != http.StatusTooManyRequests || h.Get("Retry-After") != "1.5" {
		t.Errorf("RateLimitNext: %d, Retry-After %q", status, h.Get("Retry-After"))
	}
	if status, _, _ := call(t, s, "GET", unresolved, s.APIKey, ""); status != http.StatusOK {
		t.Errorf("after the faults: %d", status)
	}

	// LoseResponseNext spares reads and drops the answer of the next write.
	s.LoseResponseNext(1)
	if status, _, _ := call(t, s, "GET", unresolved, s.APIKey, ""); status != http.StatusOK {
		t.Errorf("a read under LoseResponseNext: %d", status)
	}
	req, _ := http.NewRequest("POST", s.URL()+"/pages/"+s.PageID+"/incidents", strings.NewReader(`{"incident":{"name":"n"}}`))
	req.Header.Set("Authorization", "OAuth "+s.APIKey)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Error("the write under LoseResponseNext got an answer")
	}
	if n := len(s.Incidents()); n != 1 {
		t.Errorf("%d incidents after the lost write, want 1", n)
	}
	reqs := s.Requests()
	if last := reqs[len(reqs)-1]; last.Method != "POST" || last.Status != 0 {
		t.Errorf("last request recorded as %+v, want a POST without an answer", last)
	}
}

func TestRateLimitBucket(t *testing.T) {
	s := New(t, Options{RateLimit: 1})
	unresolved := "/pages/" + s.PageID + "/incidents/unresolved"
	if status, _, _ := call(t, s, "GET", unresolved, s.APIKey, ""); status != http.StatusOK {
		t.Fatalf("first request: %d", status)
	}
	// A request per second is allowed: a burst of them soon meets a 429
	// (at once, unless the machine takes a second per request).
	for range 20 {
		status, h, body := call(t, s, "GET", unresolved, s.APIKey, "")
		if status == http.StatusTooManyRequests {
			if h.Get("Retry-After") != "1" || !strings.Contains(body, "Rate limit") {
				t.Errorf("429 with Retry-After %q and body %s", h.Get("Retry-After"), body)
			}
			return
		}
	}
	t.Error("21 requests in a row at a limit of 1 per second got no 429")
}

func TestCloseReleasesHungRequests(t *testing.T) {
	s := NewServer(Options{})
	s.Hang()
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(s.URL() + "/pages/" + s.PageID + "/incidents/unresolved")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for len(s.Requests()) == 0 {
		select {
		case err := <-done:
			t.Fatalf("the request ended before Close: %v", err)
		case <-tick.C:
		}
	}
	// Close must not block on the hung request.
	s.Close()
	if err := <-done; err == nil {
		t.Error("the hung request got an answer")
	}
}
