package bot

import (
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/templates"
)

// texts is what renders the bot's message texts: the templates
// (Options.Templates) and the logger a failure goes to. Renderers take it
// as a parameter; handlers get it from b.texts().
type texts struct {
	set *templates.Set
	log *zap.Logger
}

// texts returns the bot's templates and logger.
func (b *Bot) texts() texts { return texts{set: b.opts.Templates, log: b.log} }

// textFailed is what a user reads in place of a text that could not be
// rendered: the one sentence that cannot come from the templates.
const textFailed = ":warning: Something went wrong; the details are in opsbot's logs."

// say renders the text t with data, whose text is escaped already (Escape,
// Link, Mention, escapeLine: see the templates package). Every template was
// checked against its data type when the Set was built, so this does not
// fail; if it ever does, the failure is logged and the user reads
// textFailed, never a half-rendered or missing text.
func say[T any](tx texts, t templates.Text[T], data T) string {
	s, err := templates.Render(tx.set, t, data)
	if err != nil {
		log := tx.log
		if log == nil {
			log = zap.NewNop()
		}
		log.Error("could not render a message text", zap.String("template", t.Name()), zap.Error(err))
		return textFailed
	}
	return s
}
