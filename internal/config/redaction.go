package config

import "github.com/opsbot/opsbot/redact"

// Redaction says what opsbot takes out of untrusted text (log lines, alert
// annotations, pod messages, what people type) before it is stored, shown
// or posted. Secrets (tokens, keys, passwords, credentials in URLs) are
// always redacted; the keys here only keep what some teams want to see.
// It is a top-level block because it applies to `opsbot checklist` in a
// terminal as well as to the bot.
type Redaction struct {
	// KeepEmails leaves email addresses as they are (default: redacted,
	// shown as "[redacted:email]").
	KeepEmails bool `yaml:"keepEmails"`
}

// Options are the redact package's options for r.
func (r Redaction) Options() redact.Options { return redact.Options{KeepEmails: r.KeepEmails} }

// Redactor is the one Redactor that every part of opsbot given untrusted
// text uses.
func (r Redaction) Redactor() redact.Redactor { return redact.New(r.Options()) }
