package alertschannel

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Defaults of the configuration.
const (
	// DefaultWindow is how far back the check reads when the caller does
	// not know when the checklist last ran.
	DefaultWindow = 24 * time.Hour
	// DefaultMaxMessages bounds the number of posts read per run.
	DefaultMaxMessages = 1000
	// DefaultTimeout bounds the whole check (every page and permalink).
	DefaultTimeout = 30 * time.Second
)

// maxMaxMessages is the largest maxMessages accepted: at 200 posts a page
// and Slack's tier-3 limit for conversations.history (about 50 calls a
// minute), more would not fit in a check's deadline anyway.
const maxMaxMessages = 20000

// Config is the alertschannel check's block of the configuration.
type Config struct {
	// Channel is the ID of the alerts channel (C0123ABCD), not its name:
	// Slack's API takes IDs, and names change. In Slack: open the channel,
	// click its name; the ID is at the bottom of the About tab.
	Channel string `yaml:"channel"`
	// Window is how far back the check reads when the caller gives no
	// "since" (the checklist has not run before). Default 24h.
	Window model.Duration `yaml:"window"`
	// MaxMessages bounds the posts read per run (the newest ones are read
	// first). Default 1000.
	MaxMessages int `yaml:"maxMessages"`
	// Timeout bounds the whole check. Default 30s.
	Timeout model.Duration `yaml:"timeout"`
	// AlertBots, if set, restricts alert posts to these bots: bot IDs
	// (B0123), user IDs (U0123) or bot/user names ("alertmanager"),
	// compared case-insensitively. Default: any bot post shaped like an
	// Alertmanager notification counts.
	AlertBots []string `yaml:"alertBots"`
	// ExceptionBots, if set, restricts exception posts to these bots (same
	// forms as AlertBots). Default: any bot post shaped like an exception
	// report (Sentry and similar) counts.
	ExceptionBots []string `yaml:"exceptionBots"`
}

// SetDefaults fills unset fields with their defaults.
func (c *Config) SetDefaults() {
	if c.Window == 0 {
		c.Window = model.Duration(DefaultWindow)
	}
	if c.MaxMessages == 0 {
		c.MaxMessages = DefaultMaxMessages
	}
	if c.Timeout == 0 {
		c.Timeout = model.Duration(DefaultTimeout)
	}
}

// channelIDRE matches Slack conversation IDs: public (C), private (G, old
// style) and direct (D) conversations.
var channelIDRE = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)

// Validate checks the configuration. Errors name the offending key relative
// to the check's block, e.g. `maxMessages: must be at least 1, got 0`.
func (c Config) Validate() error {
	ch := strings.TrimSpace(c.Channel)
	switch {
	case ch == "":
		return fmt.Errorf("channel: required: the ID of the alerts channel, e.g. C0123ABCD")
	case strings.HasPrefix(ch, "#") || !channelIDRE.MatchString(ch):
		return fmt.Errorf("channel: must be a channel ID like C0123ABCD (in Slack: channel name > About), not %q", c.Channel)
	}
	if c.Window <= 0 {
		return fmt.Errorf("window: must be positive, got %s", c.Window)
	}
	if c.MaxMessages < 1 || c.MaxMessages > maxMaxMessages {
		return fmt.Errorf("maxMessages: must be between 1 and %d, got %d", maxMaxMessages, c.MaxMessages)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("timeout: must be positive, got %s", c.Timeout)
	}
	for i, b := range c.AlertBots {
		if strings.TrimSpace(b) == "" {
			return fmt.Errorf("alertBots[%d]: must not be empty", i)
		}
	}
	for i, b := range c.ExceptionBots {
		if strings.TrimSpace(b) == "" {
			return fmt.Errorf("exceptionBots[%d]: must not be empty", i)
		}
	}
	return nil
}
