package bot

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzRouteCommand: whatever is typed after /ops, the parser returns a
// route or a message for the user, never both, never neither; a route is
// the subcommand typed, with arguments it checked (a configured
// environment for checklist and incident); text with a direction control
// is never routed; and the message cannot mention, link or quote, as
// everything typed in it is escaped.
func FuzzRouteCommand(f *testing.F) {
	for _, s := range []string{
		"", "help", "checklist", "checklist prod", "CHECKLIST dev", "checklist staging", "checklist prod dev",
		"anomaly", "anomaly checkout <!channel> *down*", "anomaly " + strings.Repeat("x", 300), "status", "status now",
		"incident", "incident prod", "update", "update 12 rolled back", "update #3 <@U123>", "resolve", "resolve 12",
		"resolve #12 14:05", "resolve 2026-11-24 14:05", "resolve 12 13 14 15", "resolve tomorrow",
		"frobnicate <https://evil.example|x>", "anomaly gnp\u202Eexe.png", "\u2066status\u2069", "anomaly \xff\xfe",
	} {
		f.Add(s)
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		f.Fatal(err)
	}
	b := &Bot{opts: Options{Environments: []string{"prod", "dev"}, DefaultEnvironment: "prod", Templates: testTexts(f).set,
		Location: london, Now: func() time.Time { return time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC) }}}
	if _, _, b.commands, err = b.routes(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, txt string) {
		r := &request{}
		route, msg := b.routeCommand(txt, r)
		if (route == nil) == (msg == "") {
			t.Fatalf("routeCommand(%q): route %v and message %q", txt, route, msg)
		}
		if strings.ContainsAny(msg, "<>") {
			t.Fatalf("routeCommand(%q): the message can form a mention or link: %q", txt, msg)
		}
		if route == nil {
			return
		}
		if strings.ContainsFunc(txt, isBidiControl) {
			t.Fatalf("routeCommand(%q): routed text with a direction control", txt)
		}
		fields := strings.Fields(txt)
		if len(fields) == 0 || route.name != strings.ToLower(fields[0]) {
			t.Fatalf("routeCommand(%q): routed to %q", txt, route.name)
		}
		switch route.name {
		case "checklist", "incident":
			if len(r.args) != 1 || !slices.Contains(b.opts.Environments, r.args[0]) {
				t.Fatalf("routeCommand(%q): environment %q", txt, r.args)
			}
		case "anomaly", "update":
			if r.rest == "" {
				t.Fatalf("routeCommand(%q): %s without text", txt, route.name)
			}
		case "status":
			if len(r.args) != 0 {
				t.Fatalf("routeCommand(%q): status with arguments %q", txt, r.args)
			}
		}
	})
}
