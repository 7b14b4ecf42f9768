// Package pgtest starts a real, throwaway PostgreSQL server for tests and
// benchmarks: a fresh cluster (initdb) in a temporary directory, listening
// only on 127.0.0.1 at a free port, with trust authentication, killed and
// deleted by Stop, and killed by the kernel if the test binary dies first
// (Pdeathsig, Linux).
//
// initdb and postgres refuse to run as root; as root, both run as the
// "postgres" OS user, in a directory that user owns.
//
// Start takes a context and returns errors (no *testing.T), so TestMain and
// benchmark commands can use it. When the binaries are missing it returns an
// error matching ErrNotInstalled; tests should then fail with that message
// (CI installs PostgreSQL), unless they run with -short.
package pgtest

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
)

// DefaultBinDir is where Debian's postgresql-15 package puts the server
// binaries. The OPSBOT_PG_BIN environment variable overrides it.
const DefaultBinDir = "/usr/lib/postgresql/15/bin"

// BinDirEnv names the environment variable that overrides DefaultBinDir.
const BinDirEnv = "OPSBOT_PG_BIN"

// ErrNotInstalled is matched (errors.Is) by Start's error when the
// PostgreSQL server binaries cannot be found.
var ErrNotInstalled = errors.New("PostgreSQL server binaries not found")

// Options configure Start. The zero value is fine for tests.
type Options struct {
	// BinDir holds initdb and postgres. Default: $OPSBOT_PG_BIN, else
	// DefaultBinDir.
	BinDir string
	// Durable keeps PostgreSQL's durability settings (fsync,
	// synchronous_commit, full_page_writes on), e.g. for benchmarks that
	// should resemble production. Default off: faster, and a throwaway
	// cluster need not survive a power cut.
	Durable bool
	// StartTimeout bounds initdb plus start-up. Default 2 minutes.
	StartTimeout time.Duration
	// Logger receives the server's log lines at debug level. Default: none.
	Logger *zap.Logger
	// Settings are server settings (postgres -c name=value), after and so
	// over pgtest's own, e.g. max_connections or
	// shared_preload_libraries. Default: none.
	Settings map[string]string
}

// Server is a running throwaway PostgreSQL.
type Server struct {
	dir    string
	port   int
	cmd    *exec.Cmd
	exited chan struct{} // closed when the server process has exited
	log    *tail
	dbs    atomic.Int64

	stopOnce sync.Once
	stopErr  error
}

// Start creates a cluster and starts PostgreSQL on it.
func Start(ctx context.Context, opts Options) (_ *Server, err error) {
	if opts.BinDir == "" {
		opts.BinDir = cmp.Or(os.Getenv(BinDirEnv), DefaultBinDir)
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	for _, b := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(opts.BinDir, b)); err != nil {
			return nil, fmt.Errorf("%w: no %s in %s: install PostgreSQL 15 (Debian: apt-get install postgresql-15; "+
				"scripts/test does it) or set %s to the directory holding initdb and postgres",
				ErrNotInstalled, b, opts.BinDir, BinDirEnv)
		}
	}
	ctx, cancel := context.WithTimeoutCause(ctx, opts.StartTimeout,
		fmt.Errorf("pgtest: PostgreSQL did not start within %s", opts.StartTimeout))
	defer cancel()

	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "opsbot-pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if cred != nil {
		if err := os.Chown(dir, int(cred.uid), int(cred.gid)); err != nil {
			return nil, fmt.Errorf("pgtest: give %s to the postgres user: %w", dir, err)
		}
	}
	data := filepath.Join(dir, "data")
	env := []string{"LC_ALL=C", "TZ=UTC", "HOME=" + dir, "PATH=" + opts.BinDir + ":/usr/bin:/bin"}

	initdb := exec.CommandContext(ctx, filepath.Join(opts.BinDir, "initdb"),
		"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.Dir, initdb.Env, initdb.SysProcAttr = dir, env, sysProcAttr(cred)
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %w: %s", errors.Join(err, context.Cause(ctx)), lastLines(string(out), 10))
	}

	// The port is free when we look; another process may take it before
	// postgres binds it, so try a few.
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, opts, dir, data, env, cred)
		if err == nil {
			return s, nil
		}
		if attempt == 3 || !errors.Is(err, errPortTaken) {
			return nil, err
		}
	}
}

var errPortTaken = errors.New("port taken")

func start(ctx context.Context, opts Options, dir, data string, env []string, cred *credential) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	args := []string{"-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + dir,
		"-c", "max_connections=200",
		"-c", "log_destination=stderr",
		"-c", "logging_collector=off",
	}
	if !opts.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	for _, name := range slices.Sorted(maps.Keys(opts.Settings)) {
		args = append(args, "-c", name+"="+opts.Settings[name])
	}
	// Not CommandContext: the server outlives ctx (the start-up deadline).
	cmd := exec.Command(filepath.Join(opts.BinDir, "postgres"), args...)
	cmd.Dir, cmd.Env, cmd.SysProcAttr = dir, env, sysProcAttr(cred)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s := &Server{dir: dir, port: port, cmd: cmd, exited: make(chan struct{}), log: &tail{max: 30}}
	ready := make(chan struct{})
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		var once sync.Once
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.log.add(line)
			opts.Logger.Debug("postgres", zap.String("line", line))
			if strings.Contains(line, "database system is ready to accept connections") {
				once.Do(func() { close(ready) })
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() {
		<-logDone // Wait must not run before the pipe is drained
		_ = cmd.Wait()
		close(s.exited)
	}()

	select {
	case <-ready:
		return s, nil
	case <-s.exited:
		logs := s.log.String()
		if strings.Contains(logs, "could not bind") || strings.Contains(logs, "already in use") {
			return nil, fmt.Errorf("pgtest: %w: %d", errPortTaken, port)
		}
		return nil, fmt.Errorf("pgtest: postgres exited during start-up (%v): %s", cmd.ProcessState, logs)
	case <-ctx.Done():
		s.kill()
		return nil, fmt.Errorf("pgtest: %w: %s", context.Cause(ctx), s.log.String())
	}
}

// Port is the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// DSN returns the connection string of database name, as the superuser
// "postgres" (no password: trust authentication on loopback).
func (s *Server) DSN(name string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/" + name,
		RawQuery: "sslmode=disable"}
	return u.String()
}

// CreateDatabase creates a new, empty database and returns its DSN.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("test_%d", s.dbs.Add(1))
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return s.DSN(name), nil
}

// Stop stops the server (fast shutdown, then SIGKILL after 10 s) and
// deletes its directory. It is safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown: disconnect clients, then exit
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.kill()
		}
		s.stopErr = os.RemoveAll(s.dir)
	})
	return s.stopErr
}

func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// credential is an OS user and group to run PostgreSQL as.
type credential struct{ uid, gid uint32 }

// runAs returns the credentials to run PostgreSQL with: the postgres user's
// when we are root, none otherwise.
func runAs() (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, and initdb refuses root: need a \"postgres\" OS user: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgtest: postgres user: %w", err)
	}
	return &credential{uid: uint32(uid), gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail keeps the last lines of the server's log, for error messages.
type tail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
