package slacktest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestValidateBlocks(t *testing.T) {
	rep := func(s string, n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = s
		}
		return strings.Join(parts, ",")
	}
	button := func(id string) string {
		return fmt.Sprintf(`{"type":"button","action_id":%q,"text":{"type":"plain_text","text":"b"}}`, id)
	}
	opt := `{"text":{"type":"plain_text","text":"o"},"value":"v"}`
	cases := []struct {
		name   string
		blocks string
		surf   surface
		want   string // "" = valid
	}{
		{"valid section", `[{"type":"section","text":{"type":"mrkdwn","text":"*hi*"}}]`, surfaceMessage, ""},
		{"emoji on mrkdwn", `[{"type":"section","text":{"type":"mrkdwn","text":"x","emoji":true}}]`, surfaceMessage,
			"invalid additional property: emoji [json-pointer:/blocks/0/text]"},
		{"disabled button", `[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"b"},"disabled":true}]}]`, surfaceMessage,
			"invalid additional property: disabled [json-pointer:/blocks/0/elements/0]"},
		{"no type", `[{"text":{"type":"mrkdwn","text":"x"}}]`, surfaceMessage, "missing required field: type [json-pointer:/blocks/0]"},
		{"section without text or fields", `[{"type":"section"}]`, surfaceMessage, "must define either `text` or `fields` [json-pointer:/blocks/0]"},
		{"text object without text", `[{"type":"section","text":{"type":"mrkdwn"}}]`, surfaceMessage, "missing required field: text [json-pointer:/blocks/0/text]"},
		{"26 actions", `[{"type":"actions","elements":[` + rep(button("x"), 26) + `]}]`, surfaceMessage,
			"no more than 25 items allowed [json-pointer:/blocks/0/elements]"},
		{"11 context elements", `[{"type":"context","elements":[` + rep(`{"type":"mrkdwn","text":"c"}`, 11) + `]}]`, surfaceMessage,
			"no more than 10 items allowed [json-pointer:/blocks/0/elements]"},
		{"image without alt_text", `[{"type":"image","image_url":"https://x/y.png"}]`, surfaceMessage, "missing required field: alt_text [json-pointer:/blocks/0]"},
		{"overflow with 6 options", `[{"type":"section","text":{"type":"mrkdwn","text":"x"},"accessory":{"type":"overflow","action_id":"o","options":[` + rep(opt, 6) + `]}}]`, surfaceMessage,
			"no more than 5 items allowed [json-pointer:/blocks/0/accessory/options]"},
		{"option value 151", `[{"type":"actions","elements":[{"type":"static_select","action_id":"s","options":[{"text":{"type":"plain_text","text":"o"},"value":"` + strings.Repeat("v", 151) + `"}]}]}]`, surfaceMessage,
			"must be less than 151 characters [json-pointer:/blocks/0/elements/0/options/0/value]"},
		{"input without label", `[{"type":"input","element":{"type":"plain_text_input","action_id":"a"}}]`, surfaceModal, "missing required field: label [json-pointer:/blocks/0]"},
		{"button in an input", `[{"type":"input","label":{"type":"plain_text","text":"L"},"element":` + button("a") + `}]`, surfaceModal,
			"failed to match all allowed schemas [json-pointer:/blocks/0/element]"},
		{"markdown over 12000 in total", `[{"type":"markdown","text":"` + strings.Repeat("m", 6000) + `"},{"type":"markdown","text":"` + strings.Repeat("m", 6001) + `"}]`, surfaceMessage,
			"cumulative markdown text must be less than 12001 characters [json-pointer:/blocks/1/text]"},
		{"100 blocks in a modal", `[` + rep(`{"type":"divider"}`, 100) + `]`, surfaceModal, ""},
		{"101 blocks in a modal", `[` + rep(`{"type":"divider"}`, 101) + `]`, surfaceModal, "no more than 100 items allowed [json-pointer:/blocks]"},
		{"same action_id in two blocks", `[{"type":"actions","elements":[` + button("x") + `]},{"type":"actions","elements":[` + button("x") + `]}]`, surfaceMessage, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			list, ok := parseBlocks(tc.blocks)
			if !ok {
				t.Fatalf("test blocks are not an array")
			}
			errs := validateBlocks(list, tc.surf, "/blocks")
			if tc.want == "" {
				if len(errs) != 0 {
					t.Errorf("errors = %q, want none", errs)
				}
				return
			}
			if !contains(errs, tc.want) {
				t.Errorf("errors = %q, want %q", errs, tc.want)
			}
		})
	}
}

func TestFillIDs(t *testing.T) {
	list, _ := parseBlocks(`[{"type":"section","text":{"type":"mrkdwn","text":"x"},"accessory":{"type":"button","text":{"type":"plain_text","text":"b"}}},{"type":"divider","block_id":"keep"}]`)
	var out []map[string]any
	if err := json.Unmarshal(fillIDs(list), &out); err != nil {
		t.Fatal(err)
	}
	id, _ := out[0]["block_id"].(string)
	acc, _ := out[0]["accessory"].(map[string]any)
	if id == "" || id == "keep" || out[1]["block_id"] != "keep" || acc["action_id"] == nil {
		t.Errorf("filled = %v", out)
	}
}

func TestParseTS(t *testing.T) {
	for in, want := range map[string]int64{"1732430000.000100": 1732430000000100, "1.5": 1500000, "12": 12000000} {
		if got, ok := parseTS(in); !ok || got != want {
			t.Errorf("parseTS(%q) = %d, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "x.1", "1.x", ".5"} {
		if _, ok := parseTS(bad); ok {
			t.Errorf("parseTS(%q) ok", bad)
		}
	}
	if got := formatTS(1732430000000100); got != "1732430000.000100" {
		t.Errorf("formatTS = %s", got)
	}
}
