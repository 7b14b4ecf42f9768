package bot

import (
	"strings"
	"testing"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/schedule"
)

// New refuses authorization settings that are not ids, and a bot without
// its refusal and command logs.
func TestNewChecksAuthorizationOptions(t *testing.T) {
	for _, tt := range []struct {
		mod  func(*Options)
		want string
	}{
		{func(o *Options) { o.AllowedChannels = []string{"C0OPS", "#random"} }, `allowedChannels[1]: want a channel id (C...), got "#random"`},
		{func(o *Options) { o.AllowedChannels = []string{"D0ALICE"} }, `allowedChannels[0]: want a channel id (C...), got "D0ALICE"`},
		{func(o *Options) { o.EnterpriseID = "T0TEAM" }, `enterpriseID: want an Enterprise Grid organization id (E...), got "T0TEAM"`},
		{func(o *Options) { o.Refusals = nil }, "a refusal log (the audit record of refused requests) is required"},
		{func(o *Options) { o.Commands = nil }, "a command log (which commands ran) is required"},
	} {
		o := schedTestOptions(t)
		tt.mod(&o)
		if _, err := New(o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New: %v, want %q", err, tt.want)
		}
	}
}

// With an allow-list, the listed channels, the bot's own and the
// schedule's are allowed, nothing else; without one, any channel. Direct
// messages follow their own setting either way.
func TestPlaces(t *testing.T) {
	o := schedTestOptions(t)
	o.AllowedChannels = []string{"C0SRE"}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ScheduledChecklist(Scheduled{Channel: "C0MORNING", Runs: memRunLog{schedule.NewMemoryClaimer()}}); err != nil {
		t.Fatal(err)
	}
	for channel, want := range map[string]string{
		"C0SRE": "", "C0DEV": "", "C0OPS": "", "C0MORNING": "",
		"C0RANDOM": opsbot.ReasonChannel, "": opsbot.ReasonChannel, "D0ALICE": opsbot.ReasonDirectMessage,
	} {
		if got := b.places.refusal(channel); got != want {
			t.Errorf("refusal(%q) = %q, want %q", channel, got, want)
		}
	}
	if got := b.places.mentions(); got != "<#C0SRE>, <#C0DEV>, <#C0OPS>, <#C0MORNING>" {
		t.Errorf("mentions = %q", got)
	}
	anywhere := newPlaces(nil, true, "C0DEV")
	for _, c := range []string{"C0RANDOM", "", "D0ALICE"} {
		if got := anywhere.refusal(c); got != "" {
			t.Errorf("without an allow-list, refusal(%q) = %q", c, got)
		}
	}
}

// The audit record copies Slack ids only: anything else in a payload's id
// fields is not stored.
func TestStoredID(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "U00000A01": "U00000A01", "C0RANDOM1": "C0RANDOM1",
		"xoxb-123-secret":       "(not a Slack id)",
		"U0<!channel>":          "(not a Slack id)",
		strings.Repeat("A", 41): "(not a Slack id)",
	} {
		if got := storedID(in); got != want {
			t.Errorf("storedID(%q) = %q, want %q", in, got, want)
		}
	}
}
