package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A checklist run with --cpuprofile and --trace leaves a pprof profile
// (gzip) and an execution trace behind, whatever the checks found; a file
// that cannot be created is a usage error before anything runs.
func TestChecklistWritesProfiles(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := writeKubeconfig(t, "https://127.0.0.1:1")
	cfg := filepath.Join(dir, "opsbot.yaml")
	if err := os.WriteFile(cfg, []byte("environments:\n  prod:\n    kubernetes: {kubeconfig: "+kubeconfig+"}\n    namespaces: [shop]\n    timeout: 5s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cpu, tr := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "run.trace")
	var stdout, stderr bytes.Buffer
	code := opsbot(context.Background(), []string{"checklist", "--config", cfg, "--cpuprofile", cpu, "--trace", tr}, &stdout, &stderr)
	if code == exitUsage {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if b, err := os.ReadFile(cpu); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("CPU profile: %v, %d bytes, want a gzipped pprof profile", err, len(b))
	}
	if b, err := os.ReadFile(tr); err != nil || !bytes.HasPrefix(b, []byte("go 1.")) {
		t.Errorf("trace: %v, %d bytes, want a Go execution trace", err, len(b))
	}

	nowhere := filepath.Join(dir, "nope", "cpu.pprof")
	stdout.Reset()
	stderr.Reset()
	code = opsbot(context.Background(), []string{"checklist", "--config", cfg, "--cpuprofile", nowhere}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "--cpuprofile: open "+nowhere) || stdout.Len() != 0 {
		t.Errorf("exit %d, stderr %q, stdout %q; want a usage error naming --cpuprofile", code, stderr.String(), stdout.String())
	}
}
