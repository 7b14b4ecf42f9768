package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// maxHomeViewBytes is the largest view views.publish takes: "view_too_large:
// Error returned if the provided view is greater than 250kb" (views.publish
// reference).
const maxHomeViewBytes = 250 << 10

// homeState is a user's App Home tab.
type homeState struct {
	id, hash  string
	spec      json.RawMessage
	blocks    json.RawMessage
	publishes int
}

// HomeView is a user's App Home tab as the app last published it.
type HomeView struct {
	ID, Hash string
	// Blocks are the view's blocks, block ids filled in; Spec the view
	// object as the app sent it.
	Blocks json.RawMessage
	Spec   json.RawMessage
	// Publishes counts the views.publish calls that succeeded for the user.
	Publishes int
}

// HomeView returns user's App Home tab; ok is false when none was
// published.
func (s *Server) HomeView(user string) (HomeView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.homes[user]
	if !ok {
		return HomeView{}, false
	}
	return HomeView{ID: h.id, Hash: h.hash, Blocks: h.blocks, Spec: h.spec, Publishes: h.publishes}, true
}

// viewsPublish is views.publish: the Home tab of user_id, checked as Slack
// does (a known, active user of the team; a home view of at most 100
// valid blocks and 250 kB; hash, when given, the current one; the Home
// tab enabled). The method needs no scope.
func (s *Server) viewsPublish(r *apiRequest) (map[string]any, *apiError) {
	user := r.args.Get("user_id")
	if u, ok := s.userLocked(user); !ok || u.Deleted || u.IsBot {
		// As the reference's example: the message without "[ERROR]".
		return nil, &apiError{code: "invalid_arguments", messages: []string{"invalid `user_id`"}}
	}
	raw := r.args.Get("view")
	if len(raw) > maxHomeViewBytes {
		return nil, fail("view_too_large")
	}
	v, err := decodeJSON([]byte(raw))
	spec, ok := v.(map[string]any)
	if err != nil || !ok {
		return nil, invalidArguments([]string{"failed to match all allowed schemas [json-pointer:/view]"})
	}
	if errs := validateHomeView(spec, "/view"); len(errs) > 0 {
		return nil, invalidArguments(errs)
	}
	if s.opts.HomeTabDisabled {
		return nil, fail("not_enabled")
	}
	h := s.homes[user]
	if hash := r.args.Get("hash"); hash != "" && (h == nil || hash != h.hash) {
		return nil, fail("hash_conflict")
	}
	if h == nil {
		h = &homeState{id: randomID("V", 10)}
		s.homes[user] = h
	}
	blocks, _ := spec["blocks"].([]any)
	h.blocks = fillIDs(blocks)
	h.spec = jsonCompact(spec)
	h.hash = newViewHash()
	h.publishes++
	view := map[string]any{
		"id": h.id, "team_id": s.opts.TeamID, "type": "home", "blocks": h.blocks,
		"private_metadata": spec["private_metadata"], "callback_id": spec["callback_id"],
		"state": map[string]any{"values": map[string]any{}}, "hash": h.hash,
		"clear_on_close": false, "notify_on_close": false, "close": nil, "submit": nil,
		"previous_view_id": nil, "root_view_id": h.id, "app_id": s.opts.AppID,
		"external_id": spec["external_id"], "app_installed_team_id": s.opts.TeamID, "bot_id": s.opts.BotID,
	}
	return map[string]any{"view": view}, nil
}

// validateHomeView checks a home tab view object (home tab views
// reference): type home, blocks (at most 100), the optional strings' limits.
func validateHomeView(m map[string]any, base string) []string {
	v := &blockValidator{}
	if t, _ := m["type"].(string); t != "home" {
		v.fail(base+"/type", "must be one of home")
	}
	v.maxString(m, "callback_id", base, maxCallbackID)
	v.maxString(m, "private_metadata", base, maxPrivateMetadata)
	v.maxString(m, "external_id", base, maxExternalID)
	blocks, ok := m["blocks"].([]any)
	if !ok {
		v.fail(base, "missing required field: blocks")
		return v.errs
	}
	return append(v.errs, validateBlocks(blocks, surfaceHome, base+"/blocks")...)
}

// SendAppHomeOpened delivers the app_home_opened event of user opening the
// app's Home tab (tab "home"; with the current view when one was
// published), as an events_api envelope. It returns when the app acks.
func (s *Server) SendAppHomeOpened(ctx context.Context, user string, opts ...PayloadOption) (*Envelope, error) {
	s.mu.Lock()
	_, known := s.userLocked(user)
	event := map[string]any{
		"type": "app_home_opened", "user": user, "channel": "D" + randomString(idAlphabet, 10), "tab": "home",
		"event_ts": fmt.Sprintf("%d.%06d", time.Now().Unix(), time.Now().Nanosecond()/1000),
	}
	if h, ok := s.homes[user]; ok {
		event["view"] = map[string]any{"id": h.id, "team_id": s.opts.TeamID, "type": "home", "blocks": h.blocks,
			"hash": h.hash, "root_view_id": h.id, "app_id": s.opts.AppID, "bot_id": s.opts.BotID}
	}
	s.mu.Unlock()
	if !known {
		return nil, fmt.Errorf("slacktest: no user %q", user)
	}
	return s.SendEvent(ctx, event, opts...)
}
