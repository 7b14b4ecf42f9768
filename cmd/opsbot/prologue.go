package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/opsbot/opsbot/internal/config"
)

// prologue is what every subcommand starts with: its flags (with --config
// and --log-level), a logger on stderr and the configuration file, each
// problem reported the same way and ending in exitUsage.
type prologue struct {
	name     string // "opsbot checklist"
	fs       *flag.FlagSet
	config   *string
	logLevel *string
	json     bool // JSON log lines (serve) rather than console ones
	stderr   io.Writer
}

// newPrologue makes the subcommand's flag set; usage is printed by -h
// before the flags. The caller adds its own flags to p.fs.
func newPrologue(name, usage, defaultLevel string, json bool, stderr io.Writer) *prologue {
	p := &prologue{name: name, fs: flag.NewFlagSet(name, flag.ContinueOnError), json: json, stderr: stderr}
	p.fs.SetOutput(stderr)
	p.config = p.fs.String("config", envOr("OPSBOT_CONFIG", "opsbot.yaml"), "configuration file (env OPSBOT_CONFIG)")
	p.logLevel = p.fs.String("log-level", defaultLevel, "log level on stderr: debug, info, warn or error")
	p.fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\nFlags:\n", usage)
		p.fs.PrintDefaults()
	}
	return p
}

// parse parses args. done is true when the command should stop with code:
// after -h (exitOK) or bad flags (exitUsage, the flag package said why).
func (p *prologue) parse(args []string) (code int, done bool) {
	if err := p.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, true
		}
		return exitUsage, true
	}
	return exitOK, false
}

// usageError tells a problem with the command line; the command then
// exits with exitUsage.
func (p *prologue) usageError(format string, args ...any) int {
	fmt.Fprintf(p.stderr, "%s: %s\n", p.name, fmt.Sprintf(format, args...))
	return exitUsage
}

// start makes the logger and loads the configuration. ok is false when
// either failed: the problem was told (on stderr, or in the JSON log) and
// the command exits with exitUsage. Sync the logger when done.
func (p *prologue) start() (logger *zap.Logger, cfg *config.Config, ok bool) {
	if logger, ok = p.logger(); !ok {
		return nil, nil, false
	}
	cfg, ok = p.loadConfig(logger)
	return logger, cfg, ok
}

// logger makes the logger; ok is false when --log-level is wrong (told).
func (p *prologue) logger() (*zap.Logger, bool) {
	logger, err := newLogger(*p.logLevel, p.json, p.stderr)
	if err != nil {
		p.usageError("%v", err)
		return nil, false
	}
	return logger, true
}

// configGiven reports whether the user named a configuration file
// (--config or $OPSBOT_CONFIG), or the default one exists.
func (p *prologue) configGiven() bool {
	given := os.Getenv("OPSBOT_CONFIG") != ""
	p.fs.Visit(func(f *flag.Flag) { given = given || f.Name == "config" })
	if given {
		return true
	}
	_, err := os.Stat(*p.config)
	return err == nil
}

// loadConfig loads the configuration file; ok is false when it is missing
// or invalid (told, on stderr or in the JSON log).
func (p *prologue) loadConfig(logger *zap.Logger) (cfg *config.Config, ok bool) {
	cfg, err := config.Load(*p.config)
	if err != nil {
		if p.json {
			logger.Error("invalid config", zap.Error(err))
		} else {
			fmt.Fprintf(p.stderr, "opsbot: invalid config: %v\n", err)
		}
		return nil, false
	}
	return cfg, true
}

// newLogger logs to w at level: JSON lines, or console lines for a person.
func newLogger(level string, json bool, w io.Writer) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	encoder := zapcore.NewConsoleEncoder(enc)
	if json {
		encoder = zapcore.NewJSONEncoder(enc)
	}
	return zap.New(zapcore.NewCore(encoder, zapcore.Lock(zapcore.AddSync(w)), lvl)), nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
