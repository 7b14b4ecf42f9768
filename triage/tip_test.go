package triage_test

import (
	"testing"
	"time"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/triage"
)

func TestTipMatches(t *testing.T) {
	const fp = "pods/shop/Deployment/api/api/OOMKilled"
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{fp, true},
		{"pods", true},
		{"pods/shop", true},
		{"pods/shop/Deployment/api/*/OOMKilled", true},
		{"pods/*/Deployment/api", true},
		{"*", true},
		{"*/*/*/*/*/*", true},
		{"*/*/*/*/*/*/*", false}, // longer than the fingerprint
		{"pods/sh", false},       // whole segments only
		{"pods/shop/Deployment/api/*/CrashLoopBackOff", false},
		{"Pods/shop", false}, // case matters
		{"", false},
		{fp + "/more", false},
	} {
		if got := triage.TipMatches(tc.pattern, fp); got != tc.want {
			t.Errorf("TipMatches(%q) = %v, want %v", tc.pattern, got, tc.want)
		}
	}
}

func TestMatchTips(t *testing.T) {
	tips := []triage.Tip{
		{ID: 1, Pattern: "pods"},
		{ID: 2, Pattern: "pods/shop/Deployment/api/*/OOMKilled"},
		{ID: 3, Pattern: "logs/shop"},
		{ID: 4, Pattern: "pods/shop/Deployment/api/api/OOMKilled"},
		{ID: 5, Pattern: "pods/shop", RemovedAt: time.Now()},
		{ID: 6, Pattern: "pods/shop"},
		{ID: 7, Pattern: "pods/shop/Deployment"},
	}
	got := triage.MatchTips(tips, "pods/shop/Deployment/api/api/OOMKilled")
	var ids []int64
	for _, tip := range got {
		ids = append(ids, tip.ID)
	}
	// Most specific first, removed ones never, at most MaxTipsShown.
	if want := []int64{4, 2, 7}; len(ids) != len(want) || ids[0] != 4 || ids[1] != 2 || ids[2] != 7 {
		t.Errorf("MatchTips = %v, want %v", ids, want)
	}
	got = triage.MatchTips(tips, "pods/shop/Job/backup")
	if len(got) != 2 || got[0].ID != 6 || got[1].ID != 1 {
		t.Errorf("MatchTips(pods/shop/Job/backup) = %+v, want #6 then #1 (#5 was removed)", got)
	}
	if got := triage.MatchTips(tips, "metrics/disk"); len(got) != 0 {
		t.Errorf("MatchTips(metrics/disk) = %+v, want none", got)
	}
}

func TestValidateTipPattern(t *testing.T) {
	for _, p := range []string{"pods", "pods/*/Deployment", "*", "manual/checkout-slow"} {
		if err := triage.ValidateTipPattern(p); err != nil {
			t.Errorf("ValidateTipPattern(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "pods//api", "/pods", "pods/", "two words", "pods/\u202ex", "pods/\tx"} {
		if err := triage.ValidateTipPattern(p); err == nil {
			t.Errorf("ValidateTipPattern(%q) = nil, want an error", p)
		}
	}
}

// A tip's pattern and text are redacted before they are stored, and a
// tip is found again by the finding whose fingerprint was redacted alike.
func TestAddTipRedacts(t *testing.T) {
	r := newRig(t)
	tip, err := r.svc.AddTip(r.ctx, triage.Tip{Pattern: "logs/shop/api/password=hunter2",
		Text: "rotate it: curl -H 'Authorization: Bearer abcdefgh12345' https://vault.example.com", Author: "U0ALICE",
		CreatedAt: r.clock.Now()}, "t1")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := r.svc.Tips(r.ctx)
	if err != nil || len(stored) != 1 {
		t.Fatalf("Tips = %+v, %v", stored, err)
	}
	if s := stored[0]; s.ID != tip.ID || s.Pattern != "logs/shop/api/password=[redacted:secret]" ||
		s.Text != "rotate it: curl -H 'Authorization: Bearer [redacted:bearer]' https://vault.example.com" {
		t.Errorf("stored tip %+v", s)
	}
	f := checks.Finding{Fingerprint: "logs/shop/api/password=hunter2", Title: "errors"}
	o, err := r.svc.Open(r.ctx, triage.FindingAnomaly("prod", f, "U0ALICE", r.clock.Now()), "k1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := triage.MatchTips(stored, o.Anomaly.Fingerprint); len(got) != 1 {
		t.Errorf("the redacted fingerprint %q matches no tip", o.Anomaly.Fingerprint)
	}
	if _, err := r.svc.RemoveTip(r.ctx, tip.ID, "U0BOB", "r1"); err != nil {
		t.Fatal(err)
	}
	if again, err := r.svc.RemoveTip(r.ctx, tip.ID, "U0BOB", "r1"); err != nil || again.RemovedBy != "U0BOB" {
		t.Errorf("RemoveTip delivered again = %+v, %v; want the tip as removed", again, err)
	}
}
