package logs

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileState: states of several environments survive in one file, a
// save replaces the file whole, and a file that is not a state is refused
// and left as it is.
func TestFileState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.json")
	f, err := OpenFileState(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.LoadLogState(ctx, "prod"); err != nil || got != nil {
		t.Fatalf("no file: LoadLogState = %q, %v; want nil, nil", got, err)
	}
	if err := f.SaveLogState(ctx, "prod", []byte(`{"version":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveLogState(ctx, "dev", []byte(`{"version":2}`)); err != nil {
		t.Fatal(err)
	}
	again, err := OpenFileState(path)
	if err != nil {
		t.Fatal(err)
	}
	for env, want := range map[string]string{"prod": `{"version":1}`, "dev": `{"version":2}`} {
		if got, err := again.LoadLogState(ctx, env); err != nil || string(got) != want {
			t.Errorf("LoadLogState(%s) = %q, %v; want %q", env, got, err, want)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("the directory holds %d files, want the state alone (no temporary file left)", len(entries))
	}
	if err := f.SaveLogState(ctx, "prod", []byte("not json")); err == nil {
		t.Error("SaveLogState accepted a state that is not JSON")
	}

	bad := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(bad, []byte("my notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileState(bad); err == nil || !strings.Contains(err.Error(), "not a logs state") {
		t.Errorf("OpenFileState of a text file: %v", err)
	}
	if data, _ := os.ReadFile(bad); string(data) != "my notes" {
		t.Errorf("the refused file was changed: %q", data)
	}
}

// TestFileStateReadsOnce: a FileState reads the file when it is opened and
// not again while the file is the one it saw (a file rewritten in place
// with the same size and time is taken to be unchanged: the cache serves
// it); a file another process replaced is read again before a save, so
// that the save keeps that process's environments.
func TestFileStateReadsOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte(`{"prod":{"version":2}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFileState(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"prod":{"version":7}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if got, err := f.LoadLogState(ctx, "prod"); err != nil || string(got) != `{"version":2}` {
		t.Errorf("LoadLogState after opening = %q, %v; want the state read when opened", got, err)
	}

	// Another process replaces the file (as SaveLogState does: a new file
	// renamed over it).
	other, err := OpenFileState(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.SaveLogState(ctx, "staging", []byte(`{"version":3}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveLogState(ctx, "prod", []byte(`{"version":4}`)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"prod":{"version":4},"staging":{"version":3}}`; string(data) != want {
		t.Errorf("the file after both saves:\n got %s\nwant %s", data, want)
	}
	// What f wrote is what it loads, without reading the file again.
	if got, err := f.LoadLogState(ctx, "staging"); err != nil || string(got) != `{"version":3}` {
		t.Errorf("LoadLogState(staging) = %q, %v", got, err)
	}
}

// join writes what json.Marshal writes, without checking each document
// again; a document read back from a hand-edited file keeps its spaces
// and the whole stays valid JSON.
func TestJoinIsMarshal(t *testing.T) {
	docs := map[string]json.RawMessage{
		"prod":    json.RawMessage(`{"version":2,"containers":{"shop/a/app":{"id":"x"}}}`),
		"staging": json.RawMessage(`{"version":2}`),
		`we"ird`:  json.RawMessage(`[1,2]`),
	}
	want, err := json.Marshal(docs)
	if err != nil {
		t.Fatal(err)
	}
	if got := join(docs); string(got) != string(want) {
		t.Errorf("join = %s\nwant   %s", got, want)
	}
	docs["prod"] = json.RawMessage("{ \"version\": 2 }")
	if got := join(docs); !json.Valid(got) {
		t.Errorf("join with a spaced document is not JSON: %s", got)
	}
	if got := join(map[string]json.RawMessage{}); string(got) != "{}" {
		t.Errorf("join of nothing = %s", got)
	}
}
