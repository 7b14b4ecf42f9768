package triage

import (
	"encoding/json"
	"testing"
)

func TestDecisionStrings(t *testing.T) {
	tests := []struct {
		d                Decision
		key, label, tmpl string
		closes           bool
	}{
		{NotEnoughInformation, "not_enough_information", "Not enough information", "triage.followup.not_enough_information", false},
		{Intermittent, "intermittent", "Intermittent", "triage.followup.intermittent", true},
		{Serious, "serious", "Serious", "triage.followup.serious", true},
		{Noise, "noise", "Noise", "triage.followup.noise", true},
		{Undetermined, "undetermined", "Undetermined", "triage.followup.undetermined", false},
	}
	if len(tests) != len(Decisions) {
		t.Fatalf("test covers %d decisions, there are %d", len(tests), len(Decisions))
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.key {
			t.Errorf("%d.String() = %q, want %q", tt.d, got, tt.key)
		}
		if got := tt.d.Label(); got != tt.label {
			t.Errorf("%s.Label() = %q, want %q", tt.key, got, tt.label)
		}
		if got := tt.d.FollowUpTemplate(); got != tt.tmpl {
			t.Errorf("%s.FollowUpTemplate() = %q, want %q", tt.key, got, tt.tmpl)
		}
		if tt.d.Runbook() == "" {
			t.Errorf("%s.Runbook() is empty", tt.key)
		}
		if got := tt.d.Closes(); got != tt.closes {
			t.Errorf("%s.Closes() = %v, want %v", tt.key, got, tt.closes)
		}
		for _, in := range []string{tt.key, tt.label, " " + tt.label + " "} {
			if got, err := ParseDecision(in); err != nil || got != tt.d {
				t.Errorf("ParseDecision(%q) = %v, %v; want %v", in, got, err, tt.d)
			}
		}
	}
}

func TestDecisionInvalid(t *testing.T) {
	if _, err := ParseDecision("maybe"); err == nil {
		t.Error("ParseDecision(maybe) succeeded")
	}
	var zero Decision
	if got := zero.String(); got != "Decision(0)" {
		t.Errorf("zero String = %q", got)
	}
	if zero.Closes() {
		t.Error("the zero decision closes")
	}
	if _, err := zero.MarshalText(); err == nil {
		t.Error("MarshalText of the zero decision succeeded")
	}
}

func TestDecisionJSON(t *testing.T) {
	b, err := json.Marshal(struct{ D Decision }{Noise})
	if err != nil || string(b) != `{"D":"noise"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var v struct{ D Decision }
	if err := json.Unmarshal([]byte(`{"D":"serious"}`), &v); err != nil || v.D != Serious {
		t.Fatalf("Unmarshal = %v, %v", v.D, err)
	}
	if err := json.Unmarshal([]byte(`{"D":"bad"}`), &v); err == nil {
		t.Fatal("Unmarshal of an unknown decision succeeded")
	}
}

func TestStateFor(t *testing.T) {
	tests := []struct {
		d         Decision
		escalated bool
		want      State
	}{
		{0, false, Open},
		{NotEnoughInformation, false, Open},
		{Undetermined, false, Open},
		{Intermittent, false, Closed},
		{Serious, false, Closed},
		{Noise, false, Closed},
		{Intermittent, true, Open},
	}
	for _, tt := range tests {
		if got := StateFor(tt.d, tt.escalated); got != tt.want {
			t.Errorf("StateFor(%v, %v) = %v, want %v", tt.d, tt.escalated, got, tt.want)
		}
	}
}
