package templates

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every declared template has a default file, and every default file is a
// declared template: a missing file is a build problem, caught here.
func TestEveryTemplateHasADefaultFile(t *testing.T) {
	entries, err := defaultFiles.ReadDir("defaults")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), Ext)
		if !ok {
			t.Errorf("defaults/%s: not a template file", e.Name())
			continue
		}
		files = append(files, name)
	}
	names := Names()
	for _, n := range names {
		if !slices.Contains(files, n) {
			t.Errorf("template %q has no default file defaults/%s%s", n, n, Ext)
		}
	}
	for _, f := range files {
		if !slices.Contains(names, f) {
			t.Errorf("defaults/%s%s is not a declared template (names.go)", f, Ext)
		}
	}
}

func TestNoTemplateIsDeclaredTwice(t *testing.T) {
	if _, err := registry(); err != nil {
		t.Error(err)
	}
	if len(Names()) != len(declared) {
		t.Errorf("%d names for %d declarations", len(Names()), len(declared))
	}
}

// Every default renders with its data type, zero and filled, into text
// that is neither empty nor ends with a new line.
func TestEveryDefaultRendersWithItsType(t *testing.T) {
	s, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range declared {
		if !strings.HasPrefix(s.Source(d.name), "(default) ") {
			t.Errorf("%s: source %q", d.name, s.Source(d.name))
		}
		for _, data := range []any{d.zero, filled(reflect.TypeOf(d.zero))} {
			out, err := s.Render(d.name, data)
			if err != nil {
				t.Errorf("%s: %v", d.name, err)
				continue
			}
			if strings.TrimSpace(out) == "" || strings.Contains(out, "<no value>") || strings.HasSuffix(out, "\n") {
				t.Errorf("%s with %#v: %q", d.name, data, out)
			}
		}
	}
}

// A name declared twice fails New.
func TestDeclaredTwice(t *testing.T) {
	saved := declared
	t.Cleanup(func() { declared = saved })
	declared = append(slices.Clip(declared), declaration{name: "ops.busy", zero: NoData{}})
	if _, err := New(""); err == nil || !strings.Contains(err.Error(), `"ops.busy" is declared twice`) {
		t.Errorf("New with ops.busy declared twice: %v", err)
	}
}

// A declared template without a default file fails New.
func TestMissingDefaultFile(t *testing.T) {
	saved := declared
	t.Cleanup(func() { declared = saved })
	declared = append(slices.Clip(declared), declaration{name: "ops.nope", zero: NoData{}})
	if _, err := New(""); err == nil || !strings.Contains(err.Error(), "defaults/ops.nope.tmpl") {
		t.Errorf("New with ops.nope declared: %v", err)
	}
}

// The defaults are mrkdwn: a literal "<word>" (a command's syntax,
// "/ops update <id> <text>") is written "&lt;word&gt;", or Slack reads it
// as a link or a mention. (Slack's own sequences, "<#{{.Channel}}>", are
// not words.)
func TestNoRawAngleBracketsInDefaults(t *testing.T) {
	raw := regexp.MustCompile(`<[a-z]`)
	for _, name := range Names() {
		b, err := defaultFiles.ReadFile("defaults/" + name + Ext)
		if err != nil {
			t.Fatal(err)
		}
		if m := raw.Find(b); m != nil {
			t.Errorf("defaults/%s%s: raw %q in mrkdwn; write &lt; and &gt;", name, Ext, m)
		}
	}
}
