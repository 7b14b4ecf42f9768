package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/checks"
)

type namedCheck string

func (n namedCheck) Name() string                      { return string(n) }
func (n namedCheck) Run(context.Context) checks.Result { return checks.Result{} }

func TestTermProgressRewritesOneLineAndErasesIt(t *testing.T) {
	var buf bytes.Buffer
	p := newTermProgress(&buf, []checks.Check{namedCheck("pods"), namedCheck("logs")})
	p.Checked(1, checks.Result{Check: "logs", Status: checks.Warn, Duration: 1234 * time.Millisecond})
	p.Checked(0, checks.Result{Check: "pods", Status: checks.OK, Duration: 420 * time.Millisecond})
	p.Done()
	frames := strings.Split(buf.String(), "\r\x1b[K")
	want := []string{"", "checking: pods … · logs …", "checking: pods … · logs warn 1.2s",
		"checking: pods ✓ 400ms · logs warn 1.2s", ""}
	if strings.Join(frames, "|") != strings.Join(want, "|") {
		t.Errorf("frames:\n%q\nwant\n%q", frames, want)
	}
}

func TestProgressOnlyOnATerminal(t *testing.T) {
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
}
