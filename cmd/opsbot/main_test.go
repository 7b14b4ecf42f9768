package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsageErrorsExitTwoAndSayWhat(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("environments:\n  prod:\n    namespaces: [shop]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("environments:\n  prod:\n    namespaces: [shop]\n    checks:\n      pods: {restartThreshold: -1}\n      logs: {concurrency: -1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(dir, "a-file")
	if err := os.WriteFile(aFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"charts into a file", []string{"checklist", "--config", good, "--charts", aFile}, "--charts: " + aFile + " is not a directory"},
		{"charts under a file", []string{"checklist", "--config", good, "--charts", filepath.Join(aFile, "charts")},
			"--charts: cannot create the directory " + filepath.Join(aFile, "charts") + ": not a directory"},
		{"state not JSON", []string{"checklist", "--config", good, "--state", good}, "--state: state file " + good + ": not a logs state"},
		{"state in no directory", []string{"checklist", "--config", good, "--state", filepath.Join(dir, "nope", "state.json")},
			"--state: state file " + filepath.Join(dir, "nope", "state.json") + ": stat " + filepath.Join(dir, "nope") + ": no such file"},
		{"no command", nil, "Usage:"},
		{"unknown command", []string{"chekclist"}, `unknown command "chekclist"`},
		{"bad output", []string{"checklist", "--config", good, "--output", "yaml"}, "--output must be text or json"},
		{"bad color", []string{"checklist", "--config", good, "--color", "sometimes"}, "--color must be auto, always or never"},
		{"bad log level", []string{"checklist", "--config", good, "--log-level", "loud"}, "--log-level"},
		{"unknown flag", []string{"checklist", "--frobnicate"}, "flag provided but not defined: -frobnicate"},
		{"two environments", []string{"checklist", "--config", good, "prod", "dev"}, "at most one environment"},
		{"missing config", []string{"checklist", "--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml: no such file"},
		{"invalid config", []string{"checklist", "--config", bad}, "environments.prod.checks.pods.restartThreshold: must be at least 1, got -1\nenvironments.prod.checks.logs.concurrency: must be between 1 and 64, got -1"},
		{"unknown environment", []string{"checklist", "--config", good, "staging"}, `no environment "staging" in the config (have: prod)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := opsbot(context.Background(), tt.args, &stdout, &stderr)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q should contain %q", stderr.String(), tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("nothing should be printed on stdout, got %q", stdout.String())
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := opsbot(context.Background(), []string{"version"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "opsbot dev") {
		t.Errorf("version output %q", stdout.String())
	}
}

func TestFlagsAfterEnvironment(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.String("output", "text", "")
	fs.String("color", "auto", "")
	got := interleaved(fs, []string{"prod", "--output", "json", "--color=never"})
	want := []string{"--output", "json", "--color=never", "--", "prod"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("interleaved = %q, want %q", got, want)
	}
}
