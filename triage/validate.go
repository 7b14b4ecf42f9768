package triage

// Maximum lengths, in characters (runes). Free-text limits match Slack's
// plain-text input limit (3000) so that anything typed in a modal fits.
const (
	MaxFingerprintLen = 1000 // checks.Fingerprint output
	MaxTitleLen       = 500
	MaxTextLen        = 3000 // detail, conclusion, five whys, follow-up text
)
