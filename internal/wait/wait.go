// Package wait is opsbot's one way to pause: Sleep, unless the context is
// done first.
package wait

import (
	"context"
	"time"
)

// Sleep pauses for d, or until ctx is done, whichever comes first. It
// returns nil after the pause, and context.Cause(ctx) when ctx ended it (at
// once when ctx is done already, even for d <= 0). A d <= 0 does not pause.
func Sleep(ctx context.Context, d time.Duration) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
