package slacktest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what Golden reports.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.fatal = true
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

func TestGoldenFailsOnADifference(t *testing.T) {
	if Updating() {
		t.Skip("-update rewrites golden files: nothing differs")
	}
	path := filepath.Join(t.TempDir(), "x.golden")
	want := "{\n  \"text\": \"a\",\n  \"b\": 1,\n  \"c\": 2,\n  \"d\": 3,\n  \"e\": 4\n}\n"
	if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}

	rec := &recorder{TB: t}
	Golden(rec, path, []byte(want))
	if len(rec.errors) != 0 {
		t.Fatalf("the same bytes: %v", rec.errors)
	}

	got := strings.Replace(want, `"a"`, `"&lt;a&gt;"`, 1)
	Golden(rec, path, []byte(got))
	if len(rec.errors) != 1 {
		t.Fatalf("a difference: %d errors", len(rec.errors))
	}
	msg := rec.errors[0]
	for _, w := range []string{path, "-update", "@@ golden line 1, output line 1 @@", "  {\n",
		"-   \"text\": \"a\",\n", "+   \"text\": \"&lt;a&gt;\",\n", "    \"b\": 1,\n    \"c\": 2,\n"} {
		if !strings.Contains(msg, w) {
			t.Errorf("the failure lacks %q:\n%s", w, msg)
		}
	}
	if strings.Contains(msg, `"e"`) {
		t.Errorf("the failure shows lines far from the difference:\n%s", msg)
	}

	rec.errors = nil
	Golden(rec, path, []byte(strings.TrimSuffix(want, "\n")))
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "(no newline at the end)") {
		t.Errorf("a missing final newline: %q", rec.errors)
	}
}

func TestGoldenFailsWithoutItsFile(t *testing.T) {
	if Updating() {
		t.Skip("-update creates golden files")
	}
	path := filepath.Join(t.TempDir(), "missing.golden")
	rec := &recorder{TB: t}
	Golden(rec, path, []byte("x\n"))
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], path) || !strings.Contains(rec.errors[0], "-update") {
		t.Errorf("errors = %q", rec.errors)
	}
}

func TestDiffIsBounded(t *testing.T) {
	var want, got strings.Builder
	for i := range 500 {
		fmt.Fprintf(&want, "line %d\n", i)
		fmt.Fprintf(&got, "LINE %d\n", i)
	}
	d := Diff("big.golden", []byte(want.String()), []byte(got.String()))
	if n := strings.Count(d, "\n"); n > maxDiffLines+4 || !strings.HasSuffix(d, "… (more differences)\n") {
		t.Errorf("%d lines:\n%s", n, d)
	}
}

func TestMessageJSON(t *testing.T) {
	blocks := []byte(`[{"type":"section","block_id":"Ab3dE","text":{"type":"mrkdwn","text":"&lt;!channel&gt; & <x>"}},` +
		`{"type":"actions","block_id":"decide","elements":[]},{"type":"section","block_id":"finding/1"},` +
		`{"type":"section","block_id":"ab-cd"}]`)
	got := string(ReplaceRandomBlockIDs(MessageJSON(t, "a <b> & c", blocks)))
	want := `{
  "text": "a <b> & c",
  "blocks": [
    {
      "type": "section",
      "block_id": "(random)",
      "text": {
        "type": "mrkdwn",
        "text": "&lt;!channel&gt; & <x>"
      }
    },
    {
      "type": "actions",
      "block_id": "decide",
      "elements": []
    },
    {
      "type": "section",
      "block_id": "finding/1"
    },
    {
      "type": "section",
      "block_id": "ab-cd"
    }
  ]
}
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestJSONIsReadableAndTheSameValue(t *testing.T) {
	v := map[string]any{"a": "x <y> & z", "b": `back\u0026slash \ "q"`, "c": "@\u2060here", "d": json.RawMessage(`"\u003cb\u003e"`)}
	got := JSON(t, v)
	want := `{
  "a": "x <y> & z",
  "b": "back\\u0026slash \\ \"q\"",
  "c": "@\u2060here",
  "d": "<b>"
}
`
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	var back map[string]any
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back["a"] != v["a"] || back["b"] != v["b"] || back["c"] != v["c"] || back["d"] != "<b>" {
		t.Errorf("the values changed: %q", back)
	}
}
