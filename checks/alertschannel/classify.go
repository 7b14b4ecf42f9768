package alertschannel

import (
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// kind is what a post of the alerts channel is, as far as the check cares.
type kind int

const (
	kindOther kind = iota
	kindAlert
	kindException
)

// post is one classified message of the channel.
type post struct {
	kind kind
	ts   string

	// Alerts.
	name     string // the alert name
	group    string // the notification group: group labels' values
	firing   bool   // [FIRING...] rather than [RESOLVED]
	critical bool   // severity critical (or page) as far as the post says

	// Exceptions.
	title   string // the exception title, markup removed, as posted
	key     string // the normalised title: what identifies the exception
	project string // the Sentry project, when the post names it

	// line is the text the post was recognised by (one line), for details.
	line string
}

// trust restricts the bots whose posts count. A nil set means any bot.
type trust struct {
	alert, exception map[string]bool
}

func trustSet(names []string) map[string]bool {
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(strings.TrimSpace(n))] = true
	}
	return m
}

// isBot reports whether m was posted by a bot or an integration (incoming
// webhook, app) rather than a person.
func isBot(m *slack.Message) bool {
	return m.BotID != "" || m.SubType == "bot_message" || m.BotProfile != nil
}

// from reports whether m was posted by one of the bots in set (any bot when
// set is nil). A bot is named by its bot ID, its user ID, the username it
// posted as or its bot profile's name or app ID.
func from(m *slack.Message, set map[string]bool) bool {
	if set == nil {
		return true
	}
	ids := []string{m.BotID, m.User, m.Username}
	if p := m.BotProfile; p != nil {
		ids = append(ids, p.ID, p.Name, p.AppID)
	}
	for _, id := range ids {
		if id != "" && set[strings.ToLower(id)] {
			return true
		}
	}
	return false
}

// skippedSubtypes are message subtypes that are never notifications.
var skippedSubtypes = map[string]bool{
	"channel_join": true, "channel_leave": true, "channel_topic": true, "channel_purpose": true,
	"channel_name": true, "channel_archive": true, "channel_unarchive": true, "pinned_item": true,
	"unpinned_item": true, "message_changed": true, "message_deleted": true, "tombstone": true,
	"group_join": true, "group_leave": true, "group_topic": true, "group_purpose": true,
}

// classify tells what m is: an Alertmanager notification, an exception
// report, or something else. Only bot posts are classified: a person pasting
// "[FIRING:1] ..." is a conversation, not a notification.
func classify(m *slack.Message, t trust) post {
	p := post{ts: m.Timestamp}
	if !isBot(m) || skippedSubtypes[m.SubType] || m.Hidden {
		return p
	}
	// A post shaped like an alert is never an exception, even when its
	// bot is not trusted for alerts ("[FIRING:1] KafkaConsumerError").
	if a, ok := classifyAlert(m); ok {
		if !from(m, t.alert) {
			return p
		}
		a.ts = p.ts
		return a
	}
	if e, ok := classifyException(m); ok && from(m, t.exception) {
		e.ts = p.ts
		return e
	}
	return p
}

// Alerts ------------------------------------------------------------------------

// statusRE matches the status prefix of Alertmanager's default Slack title
// ({{ template "__subject" . }}): "[FIRING:3] ", "[RESOLVED] ", and the
// "[FIRING:2, RESOLVED:1] " variant of Grafana-style templates. The rest is
// the group labels' values and, in parentheses, the other common labels'.
var statusRE = regexp.MustCompile(`(?i)^\[\s*(FIRING|RESOLVED)\s*(?::\s*\d+)?\s*(?:,\s*(?:FIRING|RESOLVED)\s*(?::\s*\d+)?\s*)?\]\s*(.*)$`)

// alertnameRE finds an explicit alertname label in a notification's text, as
// custom templates print labels ("alertname = X", "*alertname:* X",
// "alertname: `X`").
var alertnameRE = regexp.MustCompile(`(?i)\balertname\s*[:=]\s*["']?([A-Za-z_:][A-Za-z0-9_:.-]*)`)

// severityRE finds an explicit severity label in a notification's text.
var severityRE = regexp.MustCompile(`(?i)\bseverity\s*[:=]\s*["']?([A-Za-z]+)`)

// codeWordRE finds a severity printed as inline code, as common custom
// templates do ("*Alert:* {{ .Annotations.summary }} - `{{ .Labels.severity }}`").
var codeWordRE = regexp.MustCompile("(?i)`(critical|page)`")

// metricNameRE is what a Prometheus alert name looks like.
var metricNameRE = regexp.MustCompile(`^[A-Za-z_:][A-Za-z0-9_:.-]*$`)

// classifyAlert recognises an Alertmanager notification: an attachment (or
// the message text, or its first block) whose title reads like
// "[FIRING:3] KubePodCrashLooping (shop critical)".
func classifyAlert(m *slack.Message) (post, bool) {
	var (
		line, rest string
		firing     bool
		found      bool
	)
	for _, c := range candidates(m) {
		l := stripLead(plain(firstLine(c)))
		if ms := statusRE.FindStringSubmatch(l); ms != nil {
			line, firing, rest, found = l, strings.EqualFold(ms[1], "FIRING"), ms[2], true
			break
		}
	}
	if !found {
		return post{}, false
	}
	// The fallback is "title | titlelink".
	if i := strings.Index(rest, " | "); i >= 0 {
		rest = rest[:i]
	}
	rest = strings.TrimSpace(rest)
	groupPart, labelPart := rest, ""
	if i := strings.Index(rest, "("); i >= 0 {
		groupPart = strings.TrimSpace(rest[:i])
		labelPart = strings.Trim(rest[i:], "() ")
	}

	body := bodyText(m)
	name := ""
	if ms := alertnameRE.FindStringSubmatch(plain(body)); ms != nil {
		name = ms[1]
	} else {
		// The default template puts the group labels' values first, the
		// alert name first of all when it is one of them ("alertname"
		// sorts first in Alertmanager's SortedPairs); without group labels
		// it is the first of the common labels in parentheses.
		words := strings.Fields(groupPart)
		if len(words) == 0 {
			words = strings.Fields(labelPart)
		}
		if len(words) > 0 {
			name = strings.Trim(words[0], ",;:-")
		}
	}
	if name == "" || !metricNameRE.MatchString(name) {
		name = "(unnamed alert)"
	}
	group := strings.Join(strings.Fields(groupPart), " ")
	if group == "" {
		group = name
	}

	critical := false
	if ms := severityRE.FindStringSubmatch(plain(body)); ms != nil {
		critical = criticalWord(ms[1])
	} else if ms := codeWordRE.FindStringSubmatch(body); ms != nil {
		critical = true // "*Alert:* Pod is crash looping - `critical`"
	}
	for _, w := range strings.FieldsFunc(groupPart+" "+labelPart, func(r rune) bool {
		return unicode.IsSpace(r) || r == ',' || r == '`'
	}) {
		// Only the unambiguous values: a namespace may be called "high".
		if strings.EqualFold(w, "critical") || strings.EqualFold(w, "page") {
			critical = true
		}
	}
	return post{kind: kindAlert, name: name, group: group, firing: firing, critical: critical, line: line}, true
}

// criticalWord reports whether a severity label value means "critical", as
// the alerts check reads it (critical, page, error, high).
func criticalWord(s string) bool {
	switch strings.ToLower(s) {
	case "critical", "page", "error", "high":
		return true
	}
	return false
}

// Exceptions ----------------------------------------------------------------------

// newIssueRE matches Sentry's issue-alert wording ("New issue",
// "Regression", "Issue regressed").
var newIssueRE = regexp.MustCompile(`(?i)\b(new issue|regression|regressed)\b`)

// newIssuePrefixRE is that wording at the start of a text line, up to the
// colon that introduces the title: "New issue in shop: ValueError: ...".
var newIssuePrefixRE = regexp.MustCompile(`(?i)^(?:new issue|regression|issue regressed)\b[^:]*:\s*`)

// exceptionRE matches an exception-like title: an identifier ending in
// Error or Exception (ValueError, java.lang.NullPointerException, HTTPError)
// or the word Error or Exception itself, capitalised as type names are.
var exceptionRE = regexp.MustCompile(`(?:^|[^\w.$])[\w.$]*(?:Error|Exception)\b`)

// projectRE is the "[project] " prefix of Sentry's fallback text.
var projectRE = regexp.MustCompile(`^\[([^\]\s]{1,100})\]\s+(.+)$`)

// footerProjectRE is the project in Sentry's block-kit footer
// ("Project: shop    Alert: ...    Short ID: SHOP-1A").
var footerProjectRE = regexp.MustCompile(`\bProject:\s*(\S+)`)

// classifyException recognises an exception report: a post by Sentry (or
// linking to it, or saying "New issue"/"Regression"), or any bot post whose
// title looks like an exception ("ValueError: ...", "Error: ...").
func classifyException(m *slack.Message) (post, bool) {
	sentry := sentryShaped(m)
	title, project := exceptionTitle(m)
	if title == "" {
		return post{}, false
	}
	if !sentry && !exceptionRE.MatchString(title) {
		return post{}, false
	}
	if project == "" {
		if ms := footerProjectRE.FindStringSubmatch(plain(bodyText(m))); ms != nil {
			project = ms[1]
		}
	}
	return post{kind: kindException, title: title, key: normalizeTitle(title), project: project, line: title}, true
}

// sentryShaped reports whether m looks like a Sentry notification: posted
// by a bot named Sentry, linking to a Sentry URL, or worded like Sentry's
// issue alerts.
func sentryShaped(m *slack.Message) bool {
	names := []string{m.Username}
	if m.BotProfile != nil {
		names = append(names, m.BotProfile.Name)
	}
	for _, n := range names {
		if strings.Contains(strings.ToLower(n), "sentry") {
			return true
		}
	}
	for _, a := range m.Attachments {
		for _, u := range []string{a.TitleLink, a.FooterIcon, a.AuthorLink, a.AuthorIcon} {
			if strings.Contains(strings.ToLower(u), "sentry") {
				return true
			}
		}
	}
	for _, c := range candidates(m) {
		if link := firstLinkURL(c); strings.Contains(strings.ToLower(link), "sentry") {
			return true
		}
	}
	body := bodyText(m)
	return newIssueRE.MatchString(body)
}

// exceptionTitle returns the title of an exception report and, when the
// post names it, its project. In order: the first attachment title (Sentry's
// attachment layout), the first block's text (Sentry's Block Kit layout:
// ":red_circle: <link|*ValueError: ...*>"), the fallback text
// ("[shop] ValueError: ..."), the message text's first line.
func exceptionTitle(m *slack.Message) (title, project string) {
	clean := func(s string) string {
		s = stripLead(plain(firstLine(s)))
		s = newIssuePrefixRE.ReplaceAllString(s, "")
		return strings.TrimSpace(s)
	}
	for _, a := range m.Attachments {
		if t := clean(a.Title); t != "" {
			if ms := projectRE.FindStringSubmatch(plain(firstLine(a.Fallback))); ms != nil {
				project = ms[1]
			}
			return t, project
		}
	}
	if t := clean(firstBlockText(m)); t != "" {
		if ms := projectRE.FindStringSubmatch(plain(firstLine(m.Text))); ms != nil {
			project = ms[1]
		}
		return t, project
	}
	texts := []string{m.Text}
	for _, a := range m.Attachments {
		texts = append(texts, a.Fallback, a.Pretext, a.Text)
	}
	for _, s := range texts {
		t := clean(s)
		if ms := projectRE.FindStringSubmatch(t); ms != nil {
			project, t = ms[1], ms[2]
		}
		if t != "" {
			return t, project
		}
	}
	return "", ""
}

// Text helpers -----------------------------------------------------------------

// candidates returns the texts of m that may carry a notification's title,
// most specific first: each attachment's title, fallback and pretext and
// text, the message text, then the first header or section block.
func candidates(m *slack.Message) []string {
	var out []string
	for _, a := range m.Attachments {
		out = append(out, a.Title, a.Fallback, a.Pretext, a.Text)
	}
	out = append(out, m.Text, firstBlockText(m))
	return out
}

// bodyText is every text of m joined by newlines: where labels printed by
// custom templates are looked for.
func bodyText(m *slack.Message) string {
	var b strings.Builder
	add := func(s string) {
		if s != "" {
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	add(m.Text)
	for _, a := range m.Attachments {
		add(a.Title)
		add(a.Pretext)
		add(a.Text)
		add(a.Footer)
		for _, f := range a.Fields {
			add(f.Title + ": " + f.Value)
		}
	}
	for _, bl := range m.Blocks.BlockSet {
		switch bl := bl.(type) {
		case *slack.SectionBlock:
			if bl.Text != nil {
				add(bl.Text.Text)
			}
			for _, f := range bl.Fields {
				if f != nil {
					add(f.Text)
				}
			}
		case *slack.HeaderBlock:
			if bl.Text != nil {
				add(bl.Text.Text)
			}
		case *slack.ContextBlock:
			for _, e := range bl.ContextElements.Elements {
				if t, ok := e.(*slack.TextBlockObject); ok {
					add(t.Text)
				}
			}
		}
	}
	return b.String()
}

// firstBlockText returns the text of m's first header or section block.
func firstBlockText(m *slack.Message) string {
	for _, bl := range m.Blocks.BlockSet {
		switch bl := bl.(type) {
		case *slack.HeaderBlock:
			if bl.Text != nil {
				return bl.Text.Text
			}
		case *slack.SectionBlock:
			if bl.Text != nil {
				return bl.Text.Text
			}
		}
	}
	return ""
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// linkRE is Slack's link markup: <url|label> or <url>.
var linkRE = regexp.MustCompile(`<([^<>|]*)(?:\|([^<>]*))?>`)

// firstLinkURL returns the URL of the first link in Slack markup s.
func firstLinkURL(s string) string {
	if ms := linkRE.FindStringSubmatch(s); ms != nil {
		return ms[1]
	}
	return ""
}

// plain turns Slack mrkdwn into plain text: links become their label (or
// URL), bold/strike/code markers go, and &amp; &lt; &gt; are unescaped.
// Underscores stay: they are more often part of a name than italics.
func plain(s string) string {
	s = linkRE.ReplaceAllStringFunc(s, func(l string) string {
		ms := linkRE.FindStringSubmatch(l)
		if ms[2] != "" {
			return ms[2]
		}
		return ms[1]
	})
	s = strings.NewReplacer("*", "", "`", "", "~", "").Replace(s)
	return strings.TrimSpace(html.UnescapeString(s))
}

// emojiRE is a leading Slack emoji code such as ":red_circle: ".
var emojiRE = regexp.MustCompile(`^:[a-z0-9_+'-]+:\s*`)

// stripLead removes leading emoji codes, emoji and other symbols, so that
// ":fire: [FIRING:1] X" and "🔴 ValueError" read as "[FIRING:1] X" and
// "ValueError".
func stripLead(s string) string {
	for {
		s = strings.TrimSpace(s)
		if loc := emojiRE.FindStringIndex(s); loc != nil {
			s = s[loc[1]:]
			continue
		}
		r, size := utf8.DecodeRuneInString(s)
		if size == 0 || unicode.IsLetter(r) || unicode.IsDigit(r) || r == '[' || r == '(' || r == '_' || r == '$' || r == '.' {
			return s
		}
		s = s[size:]
	}
}

// maxKeyRunes bounds a normalised title (it goes into a fingerprint).
const maxKeyRunes = 200

// normalizeTitle returns what identifies an exception across posts: the
// title with UUIDs, 0x-hex numbers, ids and numbers replaced by
// placeholders, white space collapsed, at most 200 runes. An id is a run of
// 8 or more letters and digits that mixes both and is all hex or has 3 or
// more runs of digits (git shas, trace ids, random suffixes; not
// Http11Processor). So "KeyError: 'user_8f3a9c2e1b'" and
// "KeyError: 'user_77aa01b2c3'" are the same exception, and
// "timeout after 30s" reads "timeout after Ns". Quoted words are kept.
func normalizeTitle(s string) string {
	s = uuidRE.ReplaceAllString(s, "<uuid>")
	s = hexRE.ReplaceAllString(s, "<hex>")
	s = alnumRunRE.ReplaceAllStringFunc(s, func(tok string) string {
		digits, letters, runs := 0, 0, 0
		hexOnly := true
		prevDigit := false
		for _, r := range tok {
			d := r >= '0' && r <= '9'
			if d {
				digits++
				if !prevDigit {
					runs++
				}
			} else {
				letters++
				hexOnly = hexOnly && (r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F')
			}
			prevDigit = d
		}
		if len(tok) >= 8 && digits > 0 && letters > 0 && (hexOnly || runs >= 3) {
			return "<id>"
		}
		return numberRE.ReplaceAllString(tok, "N")
	})
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxKeyRunes {
		s = string([]rune(s)[:maxKeyRunes])
	}
	return s
}

var (
	uuidRE     = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
	hexRE      = regexp.MustCompile(`(?i)\b0x[0-9a-f]+\b`)
	alnumRunRE = regexp.MustCompile(`[A-Za-z0-9]+`)
	numberRE   = regexp.MustCompile(`[0-9]+`)
)
