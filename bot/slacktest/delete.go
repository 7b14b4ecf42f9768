package slacktest

// chat.delete (docs.slack.dev/reference/methods/chat.delete): with a bot
// token the bot deletes its own messages only (cant_delete_message
// otherwise); an unknown or already deleted message is message_not_found.
// A deleted message is left out of Messages, ThreadReplies, Message and
// WaitForMessage, as response_url deletions are.
func (s *Server) chatDelete(r *apiRequest) (map[string]any, *apiError) {
	ch, ok := s.channelLocked(r.args.Get("channel"))
	if !ok || (ch.IsPrivate && !ch.isMember(s.opts.BotUserID)) {
		return nil, fail("channel_not_found")
	}
	ts := r.args.Get("ts")
	m := s.findMessageLocked(ch.ID, ts)
	if m == nil || m.Deleted {
		return nil, fail("message_not_found")
	}
	if m.BotID != s.opts.BotID || m.User != s.opts.BotUserID {
		return nil, fail("cant_delete_message")
	}
	if ch.IsArchived {
		return nil, fail("is_archived")
	}
	m.Deleted = true
	return map[string]any{"channel": ch.ID, "ts": m.TS}, nil
}
