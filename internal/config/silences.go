package config

import (
	"time"

	"github.com/prometheus/common/model"
)

// DefaultMaxSilence is the longest silence opsbot makes by default.
const DefaultMaxSilence = model.Duration(90 * 24 * time.Hour)

// Silences bounds the Alertmanager silences opsbot makes from Noise
// decisions (bot.silences).
type Silences struct {
	// MaxLength is the longest a silence may last from now, made ("until
	// a date") or extended ("90d"). Default 90d.
	MaxLength model.Duration `yaml:"maxLength"`
}

func (s *Silences) setDefaults() {
	if s.MaxLength == 0 {
		s.MaxLength = DefaultMaxSilence
	}
}

func (s *Silences) validate(p string, fe *fieldErrors) {
	if s.MaxLength < model.Duration(time.Hour) {
		fe.add(p+".silences.maxLength", "must be at least 1h, got %s", s.MaxLength)
	}
}
