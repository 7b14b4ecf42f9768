// Package templates holds every sentence opsbot shows people in Slack, as
// text/template files: the runbook's incident announcement and its
// resolution, incident updates, the decision follow-ups, the scheduled
// checklist's intro, and the bot's own messages, answers, refusals and
// modal hints ("checklist.running", "triage.opened", "incident.notFound",
// "ops.usage"...). Short labels (button texts, modal field names, link
// labels such as "thread") stay with the Block Kit code that lays them out.
//
// The defaults are embedded (defaults/*.tmpl). A deployment can replace any
// of them with a file of the same name in an override directory (config
// bot.templatesDir); the other defaults stay. Each template is named by its
// file name without ".tmpl", namespaced by the part of the runbook it
// belongs to: "incident.announce", "triage.followup.noise"...
//
// # Names and data types
//
// Each template is declared once, in names.go, as a Text[T]: its name and,
// as a type parameter, the type of the data it is rendered with
// (ChecklistRunning is a Text[Running]). That one declaration is the
// registry: New checks every declared template, and Render only accepts
// the data type of the Text given to it, so a caller cannot pair a name
// with the wrong data. The incident Service names its templates by string
// constants (IncidentAnnounce...) through Set.Render, which checks the data
// type at run time instead.
//
// # Contract: text, already escaped
//
// Templates produce TEXT, never JSON or Block Kit: the bot puts the result
// in a text field of a typed Block Kit struct (a mrkdwn section, a message's
// fallback text, a modal's hint). This package does NOT escape anything:
// every string field of the data types must already be safe for Slack
// mrkdwn when it is given to Render — untrusted text (what people typed,
// alert annotations, names, error texts) passed through the bot's one
// escaping function ("&", "<", ">" as entities, no broadcast mentions),
// times and durations formatted. Fields that are mrkdwn on purpose (a user
// group mention "<!subteam^S0123>", a link "<https://...|x>") or that are
// opsbot's own words say so in their documentation; the bot builds them
// from trusted parts. A template writing a literal "<" or ">" in mrkdwn
// writes "&lt;" and "&gt;" ("`/ops update &lt;id&gt; &lt;text&gt;`").
//
// # Files
//
// A file's final newline is not part of the text, so
// "incident.announce.tmpl" renders exactly the lines it shows (a text that
// starts with a space can say so in a comment: "{{/* a space */}} …").
// Templates are parsed with Option("missingkey=zero") and no extra
// functions. Each is checked when the Set is built, so that a misspelt
// field ({{.Usr}}) fails at start-up, naming the file and line, rather than
// in a user's face: every field it names, in every branch, must exist in
// its data type, and it must render with the zero value of its data type
// and with a value whose every field is set.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"text/template"
)

// Ext is the file name extension of template files.
const Ext = ".tmpl"

// Text is a template rendered with data of type T. The only Texts that
// render are the ones declared in this package (names.go); the zero Text
// names no template.
type Text[T any] struct {
	name string
}

// Name is the template's name, "checklist.running": its file is
// defaults/<name>.tmpl, or <name>.tmpl in the override directory.
func (t Text[T]) Name() string { return t.name }

// Render executes the template t with data from s. Data is the template's
// own type, with its text already escaped (see the package documentation).
// It fails only when s is nil, t is not a declared template or the template
// fails on this data (New checked it on others).
func Render[T any](s *Set, t Text[T], data T) (string, error) {
	return s.Render(t.name, data)
}

// Lookup returns the declared template named name if its data type is T:
// for names made at run time, such as a decision's follow-up
// ("triage.followup." + the decision's key).
func Lookup[T any](name string) (Text[T], bool) {
	for _, d := range declared {
		if d.name == name {
			_, ok := d.zero.(T)
			return Text[T]{name: name}, ok
		}
	}
	return Text[T]{}, false
}

// declaration is a declared template: its name and the zero value of its
// data type.
type declaration struct {
	name string
	zero any
}

// declared is every template, in the order of their declarations. It is
// filled by declare while the package's variables are initialized (names.go)
// and only read afterwards.
var declared []declaration

// declare declares the template name with data of type T.
func declare[T any](name string) Text[T] {
	var zero T
	declared = append(declared, declaration{name: name, zero: zero})
	return Text[T]{name: name}
}

// Names returns the names of every template, sorted.
func Names() []string {
	names := make([]string, 0, len(declared))
	for _, d := range declared {
		names = append(names, d.name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// registry is declared by name; a name declared twice is an error.
func registry() (map[string]declaration, error) {
	m := make(map[string]declaration, len(declared))
	var errs []error
	for _, d := range declared {
		if _, dup := m[d.name]; dup {
			errs = append(errs, fmt.Errorf("templates: %q is declared twice", d.name))
		}
		m[d.name] = d
	}
	return m, errors.Join(errs...)
}

//go:embed defaults/*.tmpl
var defaultFiles embed.FS

// Set is a complete set of templates: the defaults with the overrides on
// top. It is safe for concurrent use.
type Set struct {
	byName  map[string]*template.Template
	types   map[string]reflect.Type
	sources map[string]string // name -> file it came from
}

// New returns the default templates, with those of overrideDir replacing
// the defaults of the same name ("" for none). In overrideDir, every
// regular file (or symbolic link to one) must be called <name>.tmpl for a
// declared name; entries whose name starts with "." (such as the "..data"
// links of a Kubernetes ConfigMap volume) and directories are skipped. An
// unknown name, a parse error, a field its data type does not have or a
// template that does not render is an error naming the file (and the line,
// for the last three). A declared template without a default file is an
// error too: a build problem, which the package's tests catch.
func New(overrideDir string) (*Set, error) {
	reg, err := registry()
	if err != nil {
		return nil, err // a build problem
	}
	s := &Set{byName: map[string]*template.Template{}, types: map[string]reflect.Type{}, sources: map[string]string{}}
	var errs []error
	for _, name := range Names() {
		path := "defaults/" + name + Ext
		b, err := defaultFiles.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("templates: embedded %s: %w", path, err)) // a build problem
			continue
		}
		if err := s.add(name, "(default) "+path, b, reg[name].zero); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if overrideDir == "" {
		return s, nil
	}
	entries, err := os.ReadDir(overrideDir)
	if err != nil {
		return nil, fmt.Errorf("templates: override directory: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(overrideDir, e.Name())
		info, err := os.Stat(path) // follows symbolic links
		if err != nil {
			errs = append(errs, fmt.Errorf("templates: %w", err))
			continue
		}
		if info.IsDir() {
			continue
		}
		name, ok := strings.CutSuffix(e.Name(), Ext)
		if !ok {
			errs = append(errs, fmt.Errorf("templates: %s: not a template file: want <name>%s", path, Ext))
			continue
		}
		d, known := reg[name]
		if !known {
			errs = append(errs, fmt.Errorf("templates: %s: unknown template %q (%s)", path, name, near(name)))
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("templates: %w", err))
			continue
		}
		if err := s.add(name, path, b, d.zero); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// near lists the declared names of the namespace of name ("incident." for
// "incident.anounce"), for an error about an unknown name.
func near(name string) string {
	ns, _, _ := strings.Cut(name, ".")
	var same []string
	for _, n := range Names() {
		if strings.HasPrefix(n, ns+".") {
			same = append(same, n)
		}
	}
	if len(same) == 0 {
		return "known namespaces: " + strings.Join(namespaces(), ", ")
	}
	return "known in " + ns + ": " + strings.Join(same, ", ")
}

func namespaces() []string {
	var out []string
	for _, n := range Names() {
		ns, _, _ := strings.Cut(n, ".")
		out = append(out, ns)
	}
	return slices.Compact(out)
}

// add parses the template name from file and checks it against its data
// type, of which zero is the zero value.
func (s *Set) add(name, file string, b []byte, zero any) error {
	text := string(b)
	if t, ok := strings.CutSuffix(text, "\n"); ok {
		text = strings.TrimSuffix(t, "\r")
	}
	// The template is named after its file, so that text/template's
	// errors ("template: FILE:LINE: ...") say where the problem is.
	t, err := template.New(file).Option("missingkey=zero").Parse(text)
	if err != nil {
		return fmt.Errorf("templates: %s: %w", name, err)
	}
	typ := reflect.TypeOf(zero)
	if err := checkFields(t, typ); err != nil {
		return fmt.Errorf("templates: %s: %w", name, err)
	}
	for _, data := range []any{zero, filled(typ)} {
		if err := t.Execute(&bytes.Buffer{}, data); err != nil {
			return fmt.Errorf("templates: %s: %w", name, err)
		}
	}
	s.byName[name] = t
	s.types[name] = typ
	s.sources[name] = file
	return nil
}

// Render executes the template name with data, which must be of the
// template's data type, with its text already escaped (see the package
// documentation). Callers in Go use the typed Render; this is for callers
// that name templates by string (the incident Service's Renderer).
func (s *Set) Render(name string, data any) (string, error) {
	if s == nil {
		return "", fmt.Errorf("templates: no templates to render %q with", name)
	}
	t, ok := s.byName[name]
	if !ok {
		return "", fmt.Errorf("templates: no template %q", name)
	}
	if want := s.types[name]; reflect.TypeOf(data) != want {
		return "", fmt.Errorf("templates: render %s: data is %T, want %s", name, data, want)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", fmt.Errorf("templates: render %s: %w", name, err)
	}
	return buf.String(), nil
}

// Source returns the file the template name came from: an override's path,
// or "(default) defaults/<name>.tmpl". For logs at start-up.
func (s *Set) Source(name string) string { return s.sources[name] }
