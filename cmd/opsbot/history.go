package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/opsbot/opsbot/history"
	"github.com/opsbot/opsbot/report"
)

func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return historyCommand(ctx, args, stdout, stderr, storeDeps{getenv: os.Getenv, now: time.Now})
}

// historyCommand is `opsbot history`: the search of past investigations
// in the bot's store (the config's bot.store), the same hits as `/ops
// history`.
func historyCommand(ctx context.Context, args []string, stdout, stderr io.Writer, deps storeDeps) int {
	p := newPrologue("opsbot history", fmt.Sprintf("Usage: opsbot history [flags] WORDS...\n\n"+
		"Searches the bot's store (the config file's bot.store) for past investigations: the words\n"+
		"of their titles, conclusions, five whys, tickets and incidents, best match first, newest\n"+
		"first among equals; the first %d are shown. \"quoted words\" must follow each other.\n"+
		"Filters: fingerprint:<prefix>, decision:<%s>, since:<N>d or since:<N>h.\n"+
		"`/ops history` in Slack shows the same.\n"+
		"Exit status: 0 searched (found or not), 1 the store could not be read, 2 usage or config error.\n",
		history.MaxHits, strings.Join(history.DecisionNames(), "|")), "warn", false, stderr)
	output := p.fs.String("output", "text", "output format: text or json")
	if code, done := p.parse(args); done {
		return code
	}
	query := strings.Join(p.fs.Args(), " ")
	if _, err := history.Parse(query); err != nil {
		return p.usageError("%v", err)
	}
	if *output != "text" && *output != "json" {
		return p.usageError("--output must be text or json, got %q", *output)
	}
	logger, cfg, ok := p.start()
	if logger != nil {
		defer func() { _ = logger.Sync() }()
	}
	if !ok {
		return exitUsage
	}
	db, closeStore, code := p.readStore(ctx, cfg, "the search", deps, logger)
	if db == nil {
		return code
	}
	defer closeStore()
	res, err := history.Find(ctx, db, query, deps.now())
	var qe *history.QueryError
	if errors.As(err, &qe) {
		return p.usageError("%v", err)
	}
	if err != nil {
		fmt.Fprintf(stderr, "opsbot history: %v\n", err)
		return exitProblems
	}
	if *output == "json" {
		err = report.WriteHistoryJSON(stdout, res)
	} else {
		err = report.WriteHistoryText(stdout, query, res)
	}
	if err != nil {
		fmt.Fprintf(stderr, "opsbot history: writing the result: %v\n", err)
		return exitProblems
	}
	return exitOK
}
