package bot

import "context"

// HoldViewValidation makes the validation of callback's submissions wait,
// ignoring its context, until release is closed, as a handler stuck in a
// call without a deadline would; then it validates as usual. Call it
// before Run.
func HoldViewValidation(b *Bot, callback string, release <-chan struct{}) {
	route := b.views[callback]
	h := route.h
	route.h = func(ctx context.Context, r *request) (any, handlerFunc, error) {
		<-release
		return h(ctx, r)
	}
	b.views[callback] = route
}

// HomeTurnHeld reports whether user's App Home tab is within its throttle:
// published (or being published) less than HomeEvery ago.
func HomeTurnHeld(b *Bot, user string) bool {
	h := b.hand
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.published[user]
	return ok
}
