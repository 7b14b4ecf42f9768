package triage

import (
	"errors"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot"
)

var decidedAt = time.Date(2026, 1, 2, 9, 14, 0, 0, time.UTC)

func record(d Decision) DecisionRecord {
	r := DecisionRecord{Decision: d, Conclusion: "a conclusion", DecidedBy: "U1", DecidedAt: decidedAt}
	switch d {
	case Serious:
		r.UsersAffected = "all EU users cannot pay"
		r.Outage = true
	case NotEnoughInformation:
		r.ToCollect = "enable debug logs"
	case Noise:
		r.Dashboard = "https://grafana.example.com/d/abc"
		r.Ticket = "https://jira.example.com/browse/OPS-1"
	}
	return r
}

func TestDecisionRecordValid(t *testing.T) {
	for _, d := range Decisions {
		if err := record(d).Validate(); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}

func TestDecisionRecordInvalid(t *testing.T) {
	long := strings.Repeat("é", MaxTextLen+1)
	tests := []struct {
		name   string
		mutate func(*DecisionRecord)
		d      Decision
		want   map[string]string // field -> substring of the problem
	}{
		{"no decision", func(r *DecisionRecord) { r.Decision = 0 }, Intermittent,
			map[string]string{"decision": "one of the five"}},
		{"no conclusion", func(r *DecisionRecord) { r.Conclusion = "  " }, Intermittent,
			map[string]string{"conclusion": "required"}},
		{"long conclusion", func(r *DecisionRecord) { r.Conclusion = long }, Intermittent,
			map[string]string{"conclusion": "at most 3000 characters, got 3001"}},
		{"long five whys", func(r *DecisionRecord) { r.FiveWhys = long }, Intermittent,
			map[string]string{"fiveWhys": "at most"}},
		{"ticket not a URL", func(r *DecisionRecord) { r.Ticket = "OPS-1" }, Intermittent,
			map[string]string{"ticket": "http(s) URL"}},
		{"ticket ftp", func(r *DecisionRecord) { r.Ticket = "ftp://x/y" }, Intermittent,
			map[string]string{"ticket": "http(s) URL"}},
		{"ticket javascript", func(r *DecisionRecord) { r.Ticket = "javascript:alert(1)" }, Intermittent,
			map[string]string{"ticket": "http(s) URL"}},
		{"serious without users", func(r *DecisionRecord) { r.UsersAffected = "" }, Serious,
			map[string]string{"usersAffected": "required for a Serious"}},
		{"nei without what to collect", func(r *DecisionRecord) { r.ToCollect = "" }, NotEnoughInformation,
			map[string]string{"toCollect": "required"}},
		{"noise without dashboard and ticket", func(r *DecisionRecord) { r.Dashboard, r.Ticket = "", "" }, Noise,
			map[string]string{"dashboard": "required", "ticket": "required"}},
		{"noise dashboard not a URL", func(r *DecisionRecord) { r.Dashboard = "the big one" }, Noise,
			map[string]string{"dashboard": "http(s) URL"}},
		{"follow-ups of other decisions", func(r *DecisionRecord) {
			r.UsersAffected, r.Outage, r.ToCollect, r.Dashboard = "x", true, "y", "https://g/d"
		}, Intermittent, map[string]string{
			"usersAffected": "only for a Serious", "outage": "only for a Serious",
			"toCollect": "only for a Not enough information", "dashboard": "only for a Noise",
		}},
		{"no one, no time", func(r *DecisionRecord) { r.DecidedBy, r.DecidedAt = "", time.Time{} }, Undetermined,
			map[string]string{"decidedBy": "required", "decidedAt": "required"}},
		{"time out of range", func(r *DecisionRecord) { r.DecidedAt = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC) }, Undetermined,
			map[string]string{"decidedAt": "between years"}},
		{"NUL", func(r *DecisionRecord) { r.Conclusion = "a\x00b" }, Undetermined,
			map[string]string{"conclusion": "UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := record(tt.d)
			tt.mutate(&r)
			err := r.Validate()
			var ve *opsbot.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, opsbot.ErrInvalid) {
				t.Fatalf("Validate() = %v, want a *opsbot.ValidationError", err)
			}
			var got, want []string
			for _, p := range ve.Problems {
				got = append(got, p.Field)
			}
			for f, sub := range tt.want {
				want = append(want, f)
				if p := ve.Problem(f); !strings.Contains(p, sub) {
					t.Errorf("problem for %s = %q, want it to contain %q", f, p, sub)
				}
			}
			sort.Strings(got)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("fields with problems = %v, want %v (%v)", got, want, err)
			}
		})
	}
}

func TestNormalized(t *testing.T) {
	r := record(Noise)
	r.Conclusion = "  bad \xff byte and \x00 NUL \n"
	r.DecidedAt = time.Date(2026, 1, 2, 10, 14, 0, 0, time.FixedZone("CET", 3600))
	n := r.Normalized()
	if n.Conclusion != "bad \uFFFD byte and \uFFFD NUL" {
		t.Errorf("Conclusion = %q", n.Conclusion)
	}
	if n.DecidedAt.Location() != time.UTC || !n.DecidedAt.Equal(decidedAt) {
		t.Errorf("DecidedAt = %v", n.DecidedAt)
	}
	if err := n.Validate(); err != nil {
		t.Error(err)
	}

	a := Anomaly{ID: 7, Environment: " prod ", Fingerprint: "pods/x", Title: "t", Source: SourceManual,
		OpenedBy: "U1", OpenedAt: decidedAt, Version: 9, State: Closed, ThreadTS: "1.2"}
	na := a.Normalized()
	if na.ID != 0 || na.Version != 0 || na.State != "" || na.ThreadTS != "" || na.Environment != "prod" {
		t.Errorf("Normalized kept store-owned fields or did not clean: %+v", na)
	}
}

func TestAnomalyValidate(t *testing.T) {
	ok := Anomaly{Environment: "prod", Fingerprint: "pods/shop/api/CrashLoopBackOff", Title: "api crash-loops",
		Source: SourceChecklist, OpenedBy: "U1", OpenedAt: decidedAt, Link: "https://grafana/x"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := Anomaly{Source: "cron", Link: "grafana"}
	err := bad.Validate()
	var ve *opsbot.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate() = %v", err)
	}
	for _, f := range []string{"environment", "fingerprint", "title", "source", "openedBy", "openedAt", "link"} {
		if ve.Problem(f) == "" {
			t.Errorf("no problem reported for %s: %v", f, err)
		}
	}
	if err := ValidateThread("", "1.2"); err == nil || !strings.Contains(err.Error(), "channel: required") {
		t.Errorf("ValidateThread = %v", err)
	}
	if err := ValidateSighting("prod", "", 0, time.Time{}); err == nil || !strings.Contains(err.Error(), "fingerprint: required") {
		t.Errorf("ValidateSighting = %v", err)
	}
	for _, m := range []float64{-1, math.NaN(), math.Inf(1)} {
		if err := ValidateSighting("prod", "pods/x", m, day0); err == nil || !strings.Contains(err.Error(), "magnitude:") {
			t.Errorf("ValidateSighting(magnitude %v) = %v", m, err)
		}
	}
	if err := (Escalation{}).Validate(); err == nil || !strings.Contains(err.Error(), "reason: required") {
		t.Errorf("Escalation.Validate = %v", err)
	}
	if err := opsbot.ValidateIdempotencyKey(strings.Repeat("k", opsbot.MaxIDLen+1)); err == nil {
		t.Error("a long key is valid")
	}
}
