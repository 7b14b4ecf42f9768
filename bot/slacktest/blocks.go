package slacktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Block Kit limits enforced by the fake. Sources: the Block Kit reference on
// docs.slack.dev — blocks (50 per message, 100 per modal or Home tab),
// section-block (text 3000, fields 10 × 2000), header-block (150),
// actions-block (25 elements), context-block (10 elements), input-block
// (label and hint 2000), markdown-block (12,000 cumulative),
// composition-objects/text-object (1..3000), option-object (text 75, value 150),
// block-elements/button-element (text 75, action_id 255, value 2000, url 3000),
// select menus (placeholder 150, 100 options), overflow (5 options), checkboxes
// and radio buttons (10 options), plain-text input (max_length 3000);
// block_id is at most 255 characters everywhere; the chat.postMessage
// reference for the 40,000-character text limit (msg_too_long); the
// modal-views reference for title/submit/close (24), callback_id (255),
// private_metadata (3000) and external_id (255).
const (
	maxMessageBlocks     = 50
	maxModalBlocks       = 100
	maxTextObjectText    = 3000
	maxSectionFields     = 10
	maxSectionFieldText  = 2000
	maxHeaderText        = 150
	maxActionsElements   = 25
	maxContextElements   = 10
	maxInputLabel        = 2000
	maxInputHint         = 2000
	maxImageAltText      = 2000
	maxImageTitle        = 2000
	maxMarkdownTotal     = 12000
	maxButtonText        = 75
	maxActionID          = 255
	maxBlockID           = 255
	maxButtonValue       = 2000
	maxURL               = 3000
	maxOptionText        = 75
	maxOptionValue       = 150
	maxOptionDescription = 75
	maxPlaceholder       = 150
	maxSelectOptions     = 100
	maxOverflowOptions   = 5
	maxCheckboxOptions   = 10
	maxInputMaxLength    = 3000
	maxMessageText       = 40000
	maxViewTitle         = 24
	maxViewButtonText    = 24
	maxCallbackID        = 255
	maxPrivateMetadata   = 3000
	maxExternalID        = 255
)

// surface is where blocks are shown; the block limit differs.
type surface int

const (
	surfaceMessage surface = iota
	surfaceModal
	// surfaceHome is an App Home tab: "Max of 100 blocks" (home tab
	// views reference).
	surfaceHome
)

// knownBlockTypes are accepted without a closer look beyond block_id.
var knownBlockTypes = map[string]bool{
	"section": true, "header": true, "divider": true, "actions": true, "context": true,
	"image": true, "input": true, "markdown": true, "rich_text": true, "file": true,
	"video": true, "table": true, "call": true, "context_actions": true,
}

var blockKeys = map[string][]string{
	"section":  {"type", "block_id", "text", "fields", "accessory", "expand"},
	"header":   {"type", "block_id", "text", "level"},
	"divider":  {"type", "block_id"},
	"actions":  {"type", "block_id", "elements"},
	"context":  {"type", "block_id", "elements"},
	"image":    {"type", "block_id", "image_url", "slack_file", "alt_text", "title"},
	"input":    {"type", "block_id", "label", "element", "dispatch_action", "hint", "optional"},
	"markdown": {"type", "block_id", "text"},
}

var buttonKeys = []string{"type", "text", "action_id", "url", "value", "style", "confirm", "accessibility_label"}

// inputElementTypes may appear in an input block.
var inputElementTypes = map[string]bool{
	"plain_text_input": true, "number_input": true, "email_text_input": true, "url_text_input": true,
	"rich_text_input": true, "file_input": true, "datepicker": true, "timepicker": true,
	"datetimepicker": true, "checkboxes": true, "radio_buttons": true,
	"static_select": true, "multi_static_select": true, "external_select": true, "multi_external_select": true,
	"users_select": true, "multi_users_select": true, "conversations_select": true,
	"multi_conversations_select": true, "channels_select": true, "multi_channels_select": true,
}

// interactiveElementTypes may appear in actions blocks and section accessories.
var interactiveElementTypes = map[string]bool{
	"button": true, "overflow": true, "image": true, "workflow_button": true,
	"datepicker": true, "timepicker": true, "datetimepicker": true, "checkboxes": true, "radio_buttons": true,
	"static_select": true, "multi_static_select": true, "external_select": true, "multi_external_select": true,
	"users_select": true, "multi_users_select": true, "conversations_select": true,
	"multi_conversations_select": true, "channels_select": true, "multi_channels_select": true,
	"rich_text_input": true, "plain_text_input": true,
}

// blockValidator collects Slack-style errors: "<message> [json-pointer:<path>]".
type blockValidator struct {
	errs          []string
	markdownTotal int
}

func (v *blockValidator) fail(ptr, format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...)+" [json-pointer:"+ptr+"]")
}

// decodeJSON decodes raw keeping numbers as json.Number.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// parseBlocks decodes a blocks argument. ok is false when it is not a JSON
// array (Slack's invalid_blocks_format).
func parseBlocks(raw string) ([]any, bool) {
	v, err := decodeJSON([]byte(raw))
	if err != nil {
		return nil, false
	}
	list, ok := v.([]any)
	return list, ok
}

// validateBlocks checks blocks for surf and returns Slack's error strings.
// base is the JSON pointer of the array ("/blocks" or "/view/blocks").
func validateBlocks(blocks []any, surf surface, base string) []string {
	v := &blockValidator{}
	limit := maxMessageBlocks
	if surf == surfaceModal || surf == surfaceHome {
		limit = maxModalBlocks
	}
	if len(blocks) > limit {
		v.fail(base, "no more than %d items allowed", limit)
	}
	seen := map[string]bool{}
	for i, b := range blocks {
		v.block(b, fmt.Sprintf("%s/%d", base, i), seen)
	}
	return v.errs
}

func runes(s string) int { return utf8.RuneCountInString(s) }

func (v *blockValidator) checkKeys(m map[string]any, allowed []string, ptr string) {
	for k := range m {
		ok := false
		for _, a := range allowed {
			if a == k {
				ok = true
				break
			}
		}
		if !ok {
			v.fail(ptr, "invalid additional property: %s", k)
		}
	}
}

func (v *blockValidator) block(b any, ptr string, seen map[string]bool) {
	m, ok := b.(map[string]any)
	if !ok {
		v.fail(ptr, "failed to match all allowed schemas")
		return
	}
	typ, _ := m["type"].(string)
	if typ == "" {
		v.fail(ptr, "missing required field: type")
		return
	}
	if !knownBlockTypes[typ] {
		v.fail(ptr+"/type", "unsupported type: %s", typ)
		return
	}
	if keys, ok := blockKeys[typ]; ok {
		v.checkKeys(m, keys, ptr)
	}
	if raw, present := m["block_id"]; present {
		id, isStr := raw.(string)
		switch {
		case !isStr:
			v.fail(ptr+"/block_id", "must be a string")
		case runes(id) > maxBlockID:
			v.fail(ptr+"/block_id", "must be less than %d characters", maxBlockID+1)
		case seen[id]:
			v.fail(ptr+"/block_id", "duplicate block_id: %s", id)
		default:
			seen[id] = true
		}
	}
	switch typ {
	case "section":
		_, hasText := m["text"]
		fields, hasFields := m["fields"]
		if !hasText && !hasFields {
			v.fail(ptr, "must define either `text` or `fields`")
		}
		if hasText {
			v.textObject(m["text"], ptr+"/text", false, maxTextObjectText)
		}
		if hasFields {
			list, ok := fields.([]any)
			if !ok {
				v.fail(ptr+"/fields", "must be an array")
			} else {
				if len(list) > maxSectionFields {
					v.fail(ptr+"/fields", "no more than %d items allowed", maxSectionFields)
				}
				for i, f := range list {
					v.textObject(f, fmt.Sprintf("%s/fields/%d", ptr, i), false, maxSectionFieldText)
				}
			}
		}
		if acc, ok := m["accessory"]; ok {
			v.element(acc, ptr+"/accessory", nil, interactiveElementTypes)
		}
	case "header":
		if _, ok := m["text"]; !ok {
			v.fail(ptr, "missing required field: text")
		} else {
			v.textObject(m["text"], ptr+"/text", true, maxHeaderText)
		}
	case "actions":
		list, ok := m["elements"].([]any)
		if !ok {
			v.fail(ptr, "missing required field: elements")
			return
		}
		if len(list) == 0 {
			v.fail(ptr+"/elements", "must contain at least 1 item")
		}
		if len(list) > maxActionsElements {
			v.fail(ptr+"/elements", "no more than %d items allowed", maxActionsElements)
		}
		ids := map[string]bool{}
		for i, el := range list {
			v.element(el, fmt.Sprintf("%s/elements/%d", ptr, i), ids, interactiveElementTypes)
		}
	case "context":
		list, ok := m["elements"].([]any)
		if !ok {
			v.fail(ptr, "missing required field: elements")
			return
		}
		if len(list) == 0 {
			v.fail(ptr+"/elements", "must contain at least 1 item")
		}
		if len(list) > maxContextElements {
			v.fail(ptr+"/elements", "no more than %d items allowed", maxContextElements)
		}
		for i, el := range list {
			ep := fmt.Sprintf("%s/elements/%d", ptr, i)
			em, _ := el.(map[string]any)
			if t, _ := em["type"].(string); t == "image" {
				v.image(em, ep)
			} else {
				v.textObject(el, ep, false, maxTextObjectText)
			}
		}
	case "image":
		v.image(m, ptr)
		if t, ok := m["title"]; ok {
			v.textObject(t, ptr+"/title", true, maxImageTitle)
		}
	case "input":
		if _, ok := m["label"]; !ok {
			v.fail(ptr, "missing required field: label")
		} else {
			v.textObject(m["label"], ptr+"/label", true, maxInputLabel)
		}
		if h, ok := m["hint"]; ok {
			v.textObject(h, ptr+"/hint", true, maxInputHint)
		}
		if el, ok := m["element"]; !ok {
			v.fail(ptr, "missing required field: element")
		} else {
			v.element(el, ptr+"/element", nil, inputElementTypes)
		}
	case "markdown":
		text, ok := m["text"].(string)
		if !ok {
			v.fail(ptr, "missing required field: text")
			return
		}
		v.markdownTotal += runes(text)
		if v.markdownTotal > maxMarkdownTotal {
			v.fail(ptr+"/text", "cumulative markdown text must be less than %d characters", maxMarkdownTotal+1)
		}
	case "rich_text":
		if _, ok := m["elements"].([]any); !ok {
			v.fail(ptr, "missing required field: elements")
		}
	}
}

// textObject checks a composition text object. plainOnly rejects mrkdwn.
func (v *blockValidator) textObject(t any, ptr string, plainOnly bool, max int) {
	m, ok := t.(map[string]any)
	if !ok {
		v.fail(ptr, "failed to match all allowed schemas")
		return
	}
	typ, _ := m["type"].(string)
	switch typ {
	case "plain_text":
		v.checkKeys(m, []string{"type", "text", "emoji"}, ptr)
	case "mrkdwn":
		if plainOnly {
			v.fail(ptr+"/type", "must be plain_text")
		}
		v.checkKeys(m, []string{"type", "text", "verbatim"}, ptr)
	case "":
		v.fail(ptr, "missing required field: type")
	default:
		v.fail(ptr+"/type", "must be one of plain_text, mrkdwn")
	}
	raw, present := m["text"]
	text, isStr := raw.(string)
	switch {
	case !present:
		v.fail(ptr, "missing required field: text")
	case !isStr:
		v.fail(ptr+"/text", "must be a string")
	case text == "":
		v.fail(ptr+"/text", "must be more than 0 characters")
	case runes(text) > max:
		v.fail(ptr+"/text", "must be less than %d characters", max+1)
	}
}

func (v *blockValidator) image(m map[string]any, ptr string) {
	url, hasURL := m["image_url"].(string)
	_, hasFile := m["slack_file"]
	if !hasURL && !hasFile {
		v.fail(ptr, "must define either `image_url` or `slack_file`")
	}
	if hasURL && runes(url) > maxURL {
		v.fail(ptr+"/image_url", "must be less than %d characters", maxURL+1)
	}
	alt, ok := m["alt_text"].(string)
	if !ok {
		v.fail(ptr, "missing required field: alt_text")
	} else if runes(alt) > maxImageAltText {
		v.fail(ptr+"/alt_text", "must be less than %d characters", maxImageAltText+1)
	}
}

func (v *blockValidator) maxString(m map[string]any, key, ptr string, max int) {
	raw, ok := m[key]
	if !ok {
		return
	}
	s, isStr := raw.(string)
	if !isStr {
		v.fail(ptr+"/"+key, "must be a string")
		return
	}
	if runes(s) > max {
		v.fail(ptr+"/"+key, "must be less than %d characters", max+1)
	}
}

// element checks an interactive or input element. ids collects action_ids of
// the enclosing block (nil: not checked for uniqueness).
func (v *blockValidator) element(el any, ptr string, ids map[string]bool, allowed map[string]bool) {
	m, ok := el.(map[string]any)
	if !ok {
		v.fail(ptr, "failed to match all allowed schemas")
		return
	}
	typ, _ := m["type"].(string)
	if typ == "" {
		v.fail(ptr, "missing required field: type")
		return
	}
	if !allowed[typ] {
		v.fail(ptr, "failed to match all allowed schemas")
		return
	}
	if raw, ok := m["action_id"]; ok {
		id, isStr := raw.(string)
		switch {
		case !isStr:
			v.fail(ptr+"/action_id", "must be a string")
		case runes(id) > maxActionID:
			v.fail(ptr+"/action_id", "must be less than %d characters", maxActionID+1)
		case ids != nil && ids[id]:
			v.fail(ptr+"/action_id", "duplicate action_id: %s", id)
		case ids != nil:
			ids[id] = true
		}
	}
	if p, ok := m["placeholder"]; ok {
		v.textObject(p, ptr+"/placeholder", true, maxPlaceholder)
	}
	switch typ {
	case "button":
		v.checkKeys(m, buttonKeys, ptr)
		if t, ok := m["text"]; !ok {
			v.fail(ptr, "missing required field: text")
		} else {
			v.textObject(t, ptr+"/text", true, maxButtonText)
		}
		v.maxString(m, "value", ptr, maxButtonValue)
		v.maxString(m, "url", ptr, maxURL)
		if st, ok := m["style"]; ok {
			if s, _ := st.(string); s != "primary" && s != "danger" {
				v.fail(ptr+"/style", "must be one of primary, danger")
			}
		}
	case "static_select", "multi_static_select":
		opts, hasOpts := m["options"]
		groups, hasGroups := m["option_groups"]
		if !hasOpts && !hasGroups {
			v.fail(ptr, "must define either `options` or `option_groups`")
		}
		if hasOpts {
			v.options(opts, ptr+"/options", maxSelectOptions, 1, true)
		}
		if hasGroups {
			list, _ := groups.([]any)
			if len(list) > maxSelectOptions {
				v.fail(ptr+"/option_groups", "no more than %d items allowed", maxSelectOptions)
			}
			for i, g := range list {
				gm, _ := g.(map[string]any)
				v.options(gm["options"], fmt.Sprintf("%s/option_groups/%d/options", ptr, i), maxSelectOptions, 1, true)
			}
		}
	case "overflow":
		v.options(m["options"], ptr+"/options", maxOverflowOptions, 1, true)
	case "checkboxes", "radio_buttons":
		v.options(m["options"], ptr+"/options", maxCheckboxOptions, 1, false)
	case "plain_text_input":
		if n, ok := m["max_length"].(json.Number); ok {
			if x, err := n.Int64(); err != nil || x > maxInputMaxLength {
				v.fail(ptr+"/max_length", "must be less than or equal to %d", maxInputMaxLength)
			}
		}
	case "image":
		v.image(m, ptr)
	}
}

// options checks an array of option objects. plainOnly: option text must be
// plain_text (selects and overflow menus).
func (v *blockValidator) options(raw any, ptr string, max, min int, plainOnly bool) {
	list, ok := raw.([]any)
	if !ok {
		v.fail(ptr, "must be an array")
		return
	}
	if len(list) < min {
		v.fail(ptr, "must contain at least %d item", min)
	}
	if len(list) > max {
		v.fail(ptr, "no more than %d items allowed", max)
	}
	for i, o := range list {
		op := fmt.Sprintf("%s/%d", ptr, i)
		om, ok := o.(map[string]any)
		if !ok {
			v.fail(op, "failed to match all allowed schemas")
			continue
		}
		v.textObject(om["text"], op+"/text", plainOnly, maxOptionText)
		if d, ok := om["description"]; ok {
			v.textObject(d, op+"/description", plainOnly, maxOptionDescription)
		}
		val, ok := om["value"].(string)
		if !ok {
			v.fail(op, "missing required field: value")
		} else if runes(val) > maxOptionValue {
			v.fail(op+"/value", "must be less than %d characters", maxOptionValue+1)
		}
	}
}

// fillIDs gives every block a block_id and every interactive element an
// action_id where the app left them out, as Slack does when it stores blocks,
// and returns the JSON.
func fillIDs(blocks []any) json.RawMessage {
	used := map[string]bool{}
	for _, b := range blocks {
		if m, ok := b.(map[string]any); ok {
			if id, ok := m["block_id"].(string); ok {
				used[id] = true
			}
		}
	}
	for _, b := range blocks {
		m, ok := b.(map[string]any)
		if !ok {
			continue
		}
		if _, ok := m["block_id"]; !ok {
			id := randomBlockID()
			for used[id] {
				id = randomBlockID()
			}
			used[id] = true
			m["block_id"] = id
		}
		fillActionID := func(el any) {
			em, ok := el.(map[string]any)
			if !ok {
				return
			}
			typ, _ := em["type"].(string)
			if _, has := em["action_id"]; !has && interactiveElementTypes[typ] && typ != "image" {
				em["action_id"] = randomBlockID()
			}
		}
		if els, ok := m["elements"].([]any); ok && m["type"] == "actions" {
			for _, el := range els {
				fillActionID(el)
			}
		}
		if acc, ok := m["accessory"]; ok {
			fillActionID(acc)
		}
		if el, ok := m["element"]; ok {
			fillActionID(el)
		}
	}
	return jsonCompact(blocks)
}

const blockIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomBlockID returns a short id like the ones Slack generates ("Sesm").
func randomBlockID() string { return randomString(blockIDAlphabet, 5) }

// slackErrorMessages returns Slack's response_metadata.messages form of errs.
func slackErrorMessages(errs []string) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = "[ERROR] " + e
	}
	return out
}
