// Package templates holds opsbot's message texts: the runbook's incident
// announcement and its resolution, incident updates, the decision
// follow-ups and the scheduled checklist's intro, as text/template files.
//
// The defaults are embedded (defaults/*.tmpl). A deployment can replace any
// of them with a file of the same name in an override directory (config);
// the other defaults stay. Each template is named by its file name without
// ".tmpl", namespaced by the part of the runbook it belongs to:
// "incident.announce", "triage.followup.noise"...
//
// # Contract: text, already escaped
//
// Templates produce TEXT, never JSON or Block Kit: the bot puts the result
// in a text field of a typed Block Kit struct (a mrkdwn section). This
// package does NOT escape anything: every string field of the data types
// below must already be safe for Slack mrkdwn when it is given to Render —
// untrusted text (what people typed, alert annotations, names) passed
// through the bot's one escaping function ("&", "<", ">" as entities, no
// broadcast mentions), times and durations formatted. Fields that are
// mrkdwn on purpose (a user mention "<@U0123>", a link "<https://...|x>")
// say so in their documentation; the caller builds them from trusted
// parts.
//
// # Files
//
// A file's final newline is not part of the text, so
// "incident.announce.tmpl" renders exactly the lines it shows. Templates
// are parsed with Option("missingkey=zero") and no extra functions. Each
// is checked when the Set is built by rendering it with the zero value of
// its data type, so a misspelt field ({{.Usr}}) fails at start-up, naming
// the file and line, rather than at the first incident.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
)

// Template names.
const (
	IncidentAnnounce       = "incident.announce"
	IncidentResolvedSuffix = "incident.resolved_suffix"
	IncidentUpdate         = "incident.update"
	IncidentClosing        = "incident.closing"

	FollowUpNotEnoughInformation = "triage.followup.not_enough_information"
	FollowUpIntermittent         = "triage.followup.intermittent"
	FollowUpSerious              = "triage.followup.serious"
	FollowUpNoise                = "triage.followup.noise"
	FollowUpUndetermined         = "triage.followup.undetermined"

	ChecklistScheduledIntro = "checklist.scheduled_intro"
)

// Ext is the file name extension of template files.
const Ext = ".tmpl"

// Announce is the data of IncidentAnnounce, the runbook's announcement in
// the main channel.
type Announce struct {
	// From is when the impact started, formatted (incident.FormatTime:
	// "2026-11-24 09:30 GMT").
	From string
	// UserImpact and What are what the announcer typed, on one line each
	// (new lines folded into spaces) and escaped.
	UserImpact string
	What       string
	// Environment is the environment's name ("prod"), escaped. The default
	// template does not show it.
	Environment string
}

// ResolvedSuffix is the data of IncidentResolvedSuffix: the lines appended,
// after a new line, to the announcement when the incident is resolved
// (the announcement's own text stays as it was).
type ResolvedSuffix struct {
	// Until is when the impact ended, formatted like Announce.From.
	Until string
}

// Update is the data of IncidentUpdate, an update posted in the
// incident's thread.
type Update struct {
	// Text is the update, escaped (new lines kept).
	Text string
	// By is who gave it, as mrkdwn: a user mention ("<@U0123>") or an
	// escaped name.
	By string
	// At is when, formatted like Announce.From.
	At string
}

// Closing is the data of IncidentClosing, the last line in the incident's
// thread.
type Closing struct {
	// Duration is how long the impact lasted, formatted
	// (incident.FormatDuration: "1h 25m").
	Duration string
	// From and Until are formatted like Announce.From.
	From  string
	Until string
	// ResolvedBy is who resolved it, as mrkdwn like Update.By.
	ResolvedBy string
}

// FollowUp is the data of the triage.followup.* templates: what the
// runbook asks after a decision, with what the decider wrote down. Every
// string is escaped; the empty string means "not given".
type FollowUp struct {
	// Decision is the decision's label ("Not enough information").
	Decision string
	// DecidedBy is who decided, as mrkdwn like Update.By.
	DecidedBy string
	// Conclusion is the decider's conclusion.
	Conclusion string
	// Ticket is a ticket URL, as mrkdwn (a link built by the bot).
	Ticket string
	// ToCollect (Not enough information): what extra information to collect.
	ToCollect string
	// UsersAffected (Serious): how many users are affected and how.
	UsersAffected string
	// Outage (Serious): it is an outage; an incident should be announced.
	Outage bool
	// Dashboard (Noise): the dashboard that shows it, as mrkdwn (a link).
	Dashboard string
}

// ChecklistIntro is the data of ChecklistScheduledIntro, the message that
// opens a scheduled run of the checklist.
type ChecklistIntro struct {
	// Environment is the environment checked ("prod"), escaped.
	Environment string
	// Time is the occurrence's time, formatted like Announce.From.
	Time string
	// Mention is the ops group's mention ("<!subteam^S0123>"), built by the
	// bot from configuration, or "".
	Mention string
}

// dataTypes gives each known template the zero value of its data type,
// used to check templates when a Set is built.
var dataTypes = map[string]any{
	IncidentAnnounce:             Announce{},
	IncidentResolvedSuffix:       ResolvedSuffix{},
	IncidentUpdate:               Update{},
	IncidentClosing:              Closing{},
	FollowUpNotEnoughInformation: FollowUp{},
	FollowUpIntermittent:         FollowUp{},
	FollowUpSerious:              FollowUp{},
	FollowUpNoise:                FollowUp{},
	FollowUpUndetermined:         FollowUp{},
	ChecklistScheduledIntro:      ChecklistIntro{},
}

// Names returns the names of every template, sorted.
func Names() []string {
	names := make([]string, 0, len(dataTypes))
	for n := range dataTypes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

//go:embed defaults/*.tmpl
var defaultFiles embed.FS

// Set is a complete set of templates: the defaults with the overrides on
// top. It is safe for concurrent use.
type Set struct {
	byName  map[string]*template.Template
	sources map[string]string // name -> file it came from
}

// New returns the default templates, with those of overrideDir replacing
// the defaults of the same name ("" for none). In overrideDir, every
// regular file (or symbolic link to one) must be called <name>.tmpl for a
// known name; entries whose name starts with "." (such as the "..data"
// links of a Kubernetes ConfigMap volume) and directories are skipped. An
// unknown name, a parse error or a template that does not render with its
// data type is an error naming the file (and the line, for the last two).
func New(overrideDir string) (*Set, error) {
	s := &Set{byName: map[string]*template.Template{}, sources: map[string]string{}}
	for _, name := range Names() {
		path := "defaults/" + name + Ext
		b, err := defaultFiles.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("templates: embedded %s: %w", path, err) // a build problem
		}
		if err := s.add(name, "(default) "+path, b); err != nil {
			return nil, err
		}
	}
	if overrideDir == "" {
		return s, nil
	}
	entries, err := os.ReadDir(overrideDir)
	if err != nil {
		return nil, fmt.Errorf("templates: override directory: %w", err)
	}
	var errs []error
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
		if _, known := dataTypes[name]; !known {
			errs = append(errs, fmt.Errorf("templates: %s: unknown template %q (known: %s)",
				path, name, strings.Join(Names(), ", ")))
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("templates: %w", err))
			continue
		}
		if err := s.add(name, path, b); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// add parses the template name from file and checks it renders.
func (s *Set) add(name, file string, b []byte) error {
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
	if err := t.Execute(&bytes.Buffer{}, dataTypes[name]); err != nil {
		return fmt.Errorf("templates: %s: %w", name, err)
	}
	s.byName[name] = t
	s.sources[name] = file
	return nil
}

// Render executes the template name with data (the template's data type,
// with its text already escaped: see the package documentation).
func (s *Set) Render(name string, data any) (string, error) {
	t, ok := s.byName[name]
	if !ok {
		return "", fmt.Errorf("templates: no template %q", name)
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
