package triage

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot"
)

func TestSilenceMatchers(t *testing.T) {
	labels := map[string]string{"alertname": "HighLatency", "namespace": "shop", "service": "api", "empty": ""}
	ms, err := SilenceMatchers(labels, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.String())
	}
	if want := []string{`alertname="HighLatency"`, `namespace="shop"`, `service="api"`}; !slices.Equal(got, want) {
		t.Errorf("matchers %q, want %q", got, want)
	}

	// Widened: the namespace is left out, so every namespace is covered.
	ms, err = SilenceMatchers(labels, true)
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, m := range ms {
		got = append(got, m.String())
	}
	if want := []string{`alertname="HighLatency"`, `service="api"`}; !slices.Equal(got, want) {
		t.Errorf("widened matchers %q, want %q", got, want)
	}
}

func TestSilenceMatchersRefusals(t *testing.T) {
	for name, tc := range map[string]struct {
		labels map[string]string
		widen  bool
		want   string
	}{
		"bare alertname across namespaces": {map[string]string{"alertname": "KubePodCrashLooping", "job": "ksm"}, false, "every namespace"},
		"no alertname":                     {map[string]string{"namespace": "shop"}, true, "no alertname"},
		"nil labels":                       {nil, false, "no alertname"},
		"redacted value":                   {map[string]string{"alertname": "Leak", "namespace": "shop", "url": "[redacted:url-credentials]"}, false, "url was redacted"},
	} {
		t.Run(name, func(t *testing.T) {
			ms, err := SilenceMatchers(tc.labels, tc.widen)
			if !errors.Is(err, opsbot.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want an invalid-input error saying %q", ms, err, tc.want)
			}
		})
	}
	// Widening is what allows a bare alert name.
	ms, err := SilenceMatchers(map[string]string{"alertname": "KubePodCrashLooping"}, true)
	if err != nil || len(ms) != 1 || ms[0].String() != `alertname="KubePodCrashLooping"` {
		t.Errorf("widened bare alertname: %v, %v", ms, err)
	}
}

func TestMatcherString(t *testing.T) {
	for m, want := range map[Matcher]string{
		{Name: "a", Value: `x"y\z`}:                            `a="x\"y\\z"`,
		{Name: "a", Value: "x", NotEqual: true}:                `a!="x"`,
		{Name: "a", Value: "x|y", IsRegex: true}:               `a=~"x|y"`,
		{Name: "a", Value: "x", IsRegex: true, NotEqual: true}: `a!~"x"`,
	} {
		if got := m.String(); got != want {
			t.Errorf("%+v: %s, want %s", m, got, want)
		}
	}
}

func TestSilenceRequestValidate(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	ok := SilenceRequest{
		Matchers: []Matcher{{Name: "alertname", Value: "X"}}, EndsAt: now.Add(time.Hour),
		CreatedBy: "alice", Comment: "noise", Key: "anomaly-1",
	}
	if err := ok.Validate(now); err != nil {
		t.Fatalf("valid request refused: %v", err)
	}
	for field, mutate := range map[string]func(*SilenceRequest){
		"matchers":    func(r *SilenceRequest) { r.Matchers = nil },
		"matchers[0]": func(r *SilenceRequest) { r.Matchers = []Matcher{{Value: "x"}} },
		"endsAt":      func(r *SilenceRequest) { r.EndsAt = now },
		"createdBy":   func(r *SilenceRequest) { r.CreatedBy = " " },
		"comment":     func(r *SilenceRequest) { r.Comment = "" },
		"key":         func(r *SilenceRequest) { r.Key = "a]b" },
	} {
		r := ok
		mutate(&r)
		var ve *opsbot.ValidationError
		if err := r.Validate(now); !errors.As(err, &ve) || ve.Problem(field) == "" {
			t.Errorf("%s: got %v, want a problem with %s", field, err, field)
		}
	}
}
