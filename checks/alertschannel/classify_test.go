package alertschannel

import (
	"encoding/json"
	"testing"

	"github.com/slack-go/slack"
)

// Payloads as conversations.history returns them.
//
// Alertmanager's Slack receiver with its default templates posts one
// attachment whose title is {{ template "slack.default.title" . }}, i.e.
// "__subject": [STATUS(:firing count)] <group labels' values> (<other
// common labels' values>), and whose fallback is "<title> | <title link>"
// (template/default.tmpl). Through an incoming webhook the message is a
// bot_message with the username "AlertManager".
const (
	amFiring = `{"type":"message","subtype":"bot_message","text":"","ts":"1764000000.000100",
	  "bot_id":"B0AM00001","username":"AlertManager",
	  "attachments":[{"id":1,"color":"danger",
	    "title":"[FIRING:3] KubePodCrashLooping (shop critical)",
	    "title_link":"http://alertmanager.monitoring:9093/#/alerts?receiver=slack",
	    "fallback":"[FIRING:3] KubePodCrashLooping (shop critical) | http://alertmanager.monitoring:9093/#/alerts?receiver=slack",
	    "text":"","mrkdwn_in":["fallback","pretext","text"]}]}`

	amResolved = `{"type":"message","subtype":"bot_message","text":"","ts":"1764000100.000100",
	  "bot_id":"B0AM00001","username":"AlertManager",
	  "attachments":[{"id":1,"color":"good",
	    "title":"[RESOLVED] KubePodCrashLooping (shop critical)",
	    "title_link":"http://alertmanager.monitoring:9093/#/alerts?receiver=slack",
	    "fallback":"[RESOLVED] KubePodCrashLooping (shop critical) | http://alertmanager.monitoring:9093/#/alerts?receiver=slack"}]}`

	// group_by: [alertname, namespace]: both values before the parentheses.
	amGrouped = `{"type":"message","subtype":"bot_message","ts":"1764000200.000100","bot_id":"B0AM00001","username":"AlertManager",
	  "attachments":[{"title":"[FIRING:1] HighLatency shop (api warning)","fallback":"[FIRING:1] HighLatency shop (api warning) | http://am/#/alerts"}]}`

	// group_by: [] (no group labels): the alert name is the first common
	// label in parentheses (alertname sorts first in SortedPairs).
	amNoGroupBy = `{"type":"message","subtype":"bot_message","ts":"1764000300.000100","bot_id":"B0AM00001","username":"AlertManager",
	  "attachments":[{"title":"[FIRING:2]  (TargetDown monitoring warning)","fallback":"[FIRING:2]  (TargetDown monitoring warning) | http://am/#/alerts"}]}`

	// A common custom template: a generic title, the labels in the text.
	amCustom = `{"type":"message","subtype":"bot_message","ts":"1764000400.000100","bot_id":"B0AM00002","username":"Prometheus",
	  "attachments":[{"title":"[FIRING:1] Monitoring Event Notification",
	    "text":"*Alert:* Pod is crash looping - ` + "`critical`" + `\n*Description:* Pod shop/api-7d9f8c6b5-x2x9q is restarting\n*Details:*\n  • *alertname:* ` + "`KubePodCrashLooping`" + `\n  • *namespace:* ` + "`shop`" + `\n",
	    "fallback":"[FIRING:1] Monitoring Event Notification | http://am/#/alerts"}]}`

	// A plain-text variant posted by an app with chat.postMessage.
	amPlainText = `{"type":"message","user":"U0AMAPP01","bot_id":"B0AM00003","app_id":"A0AM00003",
	  "text":":fire: *[FIRING:1] NodeFilesystemAlmostOutOfSpace node-3 (warning)*\nFilesystem on /dev/sda1 at node-3 has only 3% available space left.",
	  "ts":"1764000500.000100","bot_profile":{"id":"B0AM00003","app_id":"A0AM00003","name":"alertmanager-bot"}}`

	// A person pasting a notification is a conversation.
	humanPaste = `{"type":"message","user":"U00000A01","text":"is this still a thing? [FIRING:1] KubePodCrashLooping (shop critical)","ts":"1764000600.000100"}`
	humanStart = `{"type":"message","user":"U00000A01","text":"[FIRING:1] KubePodCrashLooping (shop critical) <- anyone on this?","ts":"1764000600.000200"}`

	// Sentry's issue alert, attachment layout (SlackMessageBuilder._build:
	// title = the issue title, title_link to the issue, the culprit as
	// text, a footer with the short ID and the rule).
	sentryAttachment = `{"type":"message","user":"U0SENTRY1","bot_id":"B0SENTRY1","text":"","ts":"1764000700.000100",
	  "bot_profile":{"id":"B0SENTRY1","app_id":"A0SENTRY1","name":"Sentry"},
	  "attachments":[{"id":1,"color":"#E03E2F","mrkdwn_in":["text"],
	    "title":"ValueError: invalid literal for int() with base 10: 'abc'",
	    "title_link":"https://acme.sentry.io/issues/4213/?referrer=slack&alert_rule_id=7&alert_type=issue",
	    "text":"shop.views.checkout in parse_quantity",
	    "fallback":"[shop] ValueError: invalid literal for int() with base 10: 'abc'",
	    "footer":"SHOP-1A via <https://acme.sentry.io/alerts/rules/shop/7/details/|New issue in shop>",
	    "footer_icon":"https://s1.sentry-cdn.com/_static/sentry/images/sentry-email-avatar.png",
	    "actions":[{"name":"status","text":"Resolve","type":"button","value":"resolved"}]}]}`

	// Sentry's issue alert, Block Kit layout (SlackIssuesMessageBuilder:
	// a title section "<emoji> <link|*title*>", the culprit in a context
	// block, a footer context "Project: ... Alert: ... Short ID: ...",
	// and "[project] title" as the fallback text).
	sentryBlocks = `{"type":"message","user":"U0SENTRY1","bot_id":"B0SENTRY1","app_id":"A0SENTRY1","ts":"1764000800.000100",
	  "text":"[billing] KeyError: 'user_8f3a9c2e1b'",
	  "bot_profile":{"id":"B0SENTRY1","app_id":"A0SENTRY1","name":"Sentry"},
	  "blocks":[
	    {"type":"section","block_id":"{\"issue\":4217,\"rule\":7}","text":{"type":"mrkdwn","text":":red_circle: <https://acme.sentry.io/issues/4217/?referrer=slack&alert_rule_id=7|*KeyError: 'user_8f3a9c2e1b'*>"}},
	    {"type":"context","elements":[{"type":"mrkdwn","text":"billing.invoices in lookup_customer"}]},
	    {"type":"section","text":{"type":"mrkdwn","text":"` + "```KeyError: 'user_8f3a9c2e1b'```" + `"}},
	    {"type":"context","elements":[{"type":"mrkdwn","text":"State: *New*   First Seen: *10\u00a0minutes ago*"}]},
	    {"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"Resolve"},"action_id":"resolve_dialog","value":"resolve_dialog"},{"type":"button","text":{"type":"plain_text","text":"Archive"},"action_id":"archive_dialog","value":"archive_dialog"}]},
	    {"type":"context","elements":[{"type":"mrkdwn","text":"Project: <https://acme.sentry.io/projects/billing/|billing>    Alert: New issue alert    Short ID: BILLING-3F"}]},
	    {"type":"divider"}]}`

	// A Sentry-like webhook relay posting plain text.
	newIssueText = `{"type":"message","subtype":"bot_message","bot_id":"B0RELAY01","username":"errors","ts":"1764000900.000100",
	  "text":"*New issue* in checkout: TimeoutError: upstream timed out after 30s"}`

	// A generic bot reporting an exception.
	genericException = `{"type":"message","subtype":"bot_message","bot_id":"B0JENKINS","username":"jenkins","ts":"1764001000.000100",
	  "text":"Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space\n\tat java.util.Arrays.copyOf(Arrays.java:3332)"}`

	// Other bot posts and system messages.
	deployBot = `{"type":"message","subtype":"bot_message","bot_id":"B0DEPLOY1","username":"argocd","ts":"1764001100.000100",
	  "attachments":[{"title":"Application shop synced to v1.2.3","color":"good"}]}`
	errorRateAlertName = `{"type":"message","subtype":"bot_message","bot_id":"B0AM00001","username":"AlertManager","ts":"1764001200.000100",
	  "attachments":[{"title":"[FIRING:1] KafkaConsumerError (billing warning)"}]}`
	channelJoin = `{"type":"message","subtype":"channel_join","user":"U00000B01","text":"<@U00000B01> has joined the channel","ts":"1764001300.000100"}`
)

func decode(t *testing.T, payload string) *slack.Message {
	t.Helper()
	var m slack.Message
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		t.Fatalf("decoding the payload: %v\n%s", err, payload)
	}
	return &m
}

func TestClassifyAlerts(t *testing.T) {
	tests := []struct {
		name     string
		payload  string
		alert    string
		group    string
		firing   bool
		critical bool
	}{
		{"default template firing", amFiring, "KubePodCrashLooping", "KubePodCrashLooping", true, true},
		{"default template resolved", amResolved, "KubePodCrashLooping", "KubePodCrashLooping", false, true},
		{"grouped by alertname and namespace", amGrouped, "HighLatency", "HighLatency shop", true, false},
		{"no group labels", amNoGroupBy, "TargetDown", "TargetDown", true, false},
		{"custom template with labels in the text", amCustom, "KubePodCrashLooping", "Monitoring Event Notification", true, true},
		{"plain text with emoji and bold", amPlainText, "NodeFilesystemAlmostOutOfSpace", "NodeFilesystemAlmostOutOfSpace node-3", true, false},
		{"alert name ending in Error", errorRateAlertName, "KafkaConsumerError", "KafkaConsumerError", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := classify(decode(t, tt.payload), trust{})
			if p.kind != kindAlert {
				t.Fatalf("kind = %d, want alert", p.kind)
			}
			if p.name != tt.alert || p.group != tt.group || p.firing != tt.firing || p.critical != tt.critical {
				t.Errorf("got name=%q group=%q firing=%v critical=%v, want %q %q %v %v",
					p.name, p.group, p.firing, p.critical, tt.alert, tt.group, tt.firing, tt.critical)
			}
			if p.ts == "" || p.line == "" {
				t.Errorf("ts %q or line %q empty", p.ts, p.line)
			}
		})
	}
}

func TestClassifyExceptions(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		title   string
		key     string
		project string
	}{
		{"sentry attachment layout", sentryAttachment,
			"ValueError: invalid literal for int() with base 10: 'abc'",
			"ValueError: invalid literal for int() with base N: 'abc'", "shop"},
		{"sentry block kit layout", sentryBlocks,
			"KeyError: 'user_8f3a9c2e1b'", "KeyError: 'user_<id>'", "billing"},
		{"new issue text", newIssueText,
			"TimeoutError: upstream timed out after 30s", "TimeoutError: upstream timed out after Ns", ""},
		{"generic exception", genericException,
			`Exception in thread "main" java.lang.OutOfMemoryError: Java heap space`,
			`Exception in thread "main" java.lang.OutOfMemoryError: Java heap space`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := classify(decode(t, tt.payload), trust{})
			if p.kind != kindException {
				t.Fatalf("kind = %d, want exception", p.kind)
			}
			if p.title != tt.title || p.key != tt.key || p.project != tt.project {
				t.Errorf("got title=%q key=%q project=%q\nwant      %q %q %q", p.title, p.key, p.project, tt.title, tt.key, tt.project)
			}
		})
	}
}

func TestClassifyIgnored(t *testing.T) {
	for name, payload := range map[string]string{
		"person pasting an alert":      humanPaste,
		"person starting with a title": humanStart,
		"deploy bot":                   deployBot,
		"channel join":                 channelJoin,
	} {
		t.Run(name, func(t *testing.T) {
			if p := classify(decode(t, payload), trust{}); p.kind != kindOther {
				t.Errorf("kind = %d (%+v), want other", p.kind, p)
			}
		})
	}
}

func TestClassifyTrustedBots(t *testing.T) {
	tr := trust{alert: trustSet([]string{"AlertManager"}), exception: trustSet([]string{"B0SENTRY1"})}
	tests := []struct {
		name    string
		payload string
		want    kind
	}{
		{"alert from a trusted username", amFiring, kindAlert},
		{"alert from another bot", amPlainText, kindOther},
		{"alert-shaped post never becomes an exception", errorRateAlertName, kindAlert},
		{"exception from the trusted bot id", sentryBlocks, kindException},
		{"exception from another bot", genericException, kindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p := classify(decode(t, tt.payload), tr); p.kind != tt.want {
				t.Errorf("kind = %d, want %d", p.kind, tt.want)
			}
		})
	}
	// The plain-text bot is trusted by its bot profile name, case aside.
	tr = trust{alert: trustSet([]string{"ALERTMANAGER-BOT"})}
	if p := classify(decode(t, amPlainText), tr); p.kind != kindAlert {
		t.Errorf("trusted by bot profile name: kind = %d, want alert", p.kind)
	}
	// An untrusted alert-shaped post is not an exception either.
	tr = trust{alert: trustSet([]string{"someone-else"})}
	if p := classify(decode(t, errorRateAlertName), tr); p.kind != kindOther {
		t.Errorf("untrusted alert: kind = %d, want other", p.kind)
	}
}

func TestNormalizeTitle(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ValueError: invalid literal for int() with base 10: 'abc'", "ValueError: invalid literal for int() with base N: 'abc'"},
		{"KeyError: 'user_8f3a9c2e1b'", "KeyError: 'user_<id>'"},
		{"KeyError: 'user_77aa01b2c3'", "KeyError: 'user_<id>'"},
		{"OrderNotFound: order 6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f not found", "OrderNotFound: order <uuid> not found"},
		{"SIGSEGV at 0x7ffd5e8c", "SIGSEGV at <hex>"},
		{"Http11Processor   failed\tafter 1500ms", "HttpNProcessor failed after Nms"},
		{"ConnectionError: req-a1b2c3d4e5 to 10.0.3.7:5432", "ConnectionError: req-<id> to N.N.N.N:N"},
	}
	for _, tt := range tests {
		if got := normalizeTitle(tt.in); got != tt.want {
			t.Errorf("normalizeTitle(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlainAndStripLead(t *testing.T) {
	tests := []struct{ in, want string }{
		{":red_circle: <https://x.sentry.io/issues/1/|*ValueError: a &lt; b*>", "ValueError: a < b"},
		{"🔥 *[FIRING:1]* `Foo`", "[FIRING:1] Foo"},
		{"<https://example.com>", "https://example.com"},
		{"snake_case_name stays", "snake_case_name stays"},
	}
	for _, tt := range tests {
		if got := stripLead(plain(tt.in)); got != tt.want {
			t.Errorf("stripLead(plain(%q)) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
