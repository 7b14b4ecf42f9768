package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// defaultStartTimeout bounds a component's start-up when the caller's
	// context has no earlier deadline. Generous: the machines have two
	// shared cores and a cold kube-apiserver can be slow.
	defaultStartTimeout = 90 * time.Second

	// defaultWaitTimeout bounds WaitFor* helpers whose context has no deadline.
	defaultWaitTimeout = 60 * time.Second

	// pollInterval is how often readiness and WaitFor* helpers poll.
	pollInterval = 50 * time.Millisecond

	// stopGrace is how long a child has to exit after SIGTERM before its
	// process group gets SIGKILL.
	stopGrace = 5 * time.Second

	// portAttempts is how many times a component is started on fresh ports
	// when its port was taken between our probe and its bind.
	portAttempts = 3

	// logTailLines is how many lines of a child's log go into an error.
	logTailLines = 40
)

// process is one child process, in its own process group, with its stdout
// and stderr in a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	cancel  context.CancelFunc

	done    chan struct{} // closed when Wait returned
	waitErr error         // valid after done is closed

	stopOnce sync.Once
}

// startProcess starts bin with args, logging to logPath. The child runs
// until stop is called (not until a caller's context is done).
func startProcess(name, bin string, args []string, dir, logPath string, env []string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: create log file: %w", name, err)
	}
	// The child's lifetime is bound to this context, cancelled by stop; the
	// caller's start-up context must not kill a component that started fine.
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if env != nil {
		cmd.Env = env
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // own process group: stop kills grandchildren too
		Pdeathsig: syscall.SIGKILL, // die with the test binary
	}
	cmd.Cancel = func() error { return killGroup(cmd, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		cancel()
		logFile.Close()
		return nil, fmt.Errorf("%s: start %s: %w", name, bin, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, cancel: cancel, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// killGroup sends sig to the process group led by cmd's process.
func killGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// exited reports whether the child has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the child's process group, waits up to grace, then
// sends SIGKILL; it always ends with a SIGKILL to the group so no grandchild
// survives. Safe to call more than once.
func (p *process) stop(grace time.Duration) {
	p.stopOnce.Do(func() {
		if !p.exited() {
			_ = killGroup(p.cmd, syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(grace):
			}
		}
		p.cancel() // SIGKILL via cmd.Cancel if still running
		<-p.done
		// The leader is gone; the group may still have members.
		_ = killGroup(p.cmd, syscall.SIGKILL)
	})
}

// failure describes why the child is not (or no longer) running, with the
// tail of its log.
func (p *process) failure(what string, err error) error {
	msg := fmt.Sprintf("%s: %s", p.name, what)
	if p.exited() {
		msg += fmt.Sprintf(" (process exited: %v)", p.waitErr)
	}
	tail := tailFile(p.logPath, logTailLines)
	if err != nil {
		return fmt.Errorf("%s: %w\n--- last lines of %s ---\n%s", msg, err, p.logPath, tail)
	}
	return fmt.Errorf("%s\n--- last lines of %s ---\n%s", msg, p.logPath, tail)
}

// portClash reports whether the child exited because a port was taken.
func (p *process) portClash() bool {
	return p.exited() && strings.Contains(tailFile(p.logPath, logTailLines), "address already in use")
}

// tailFile returns the last n lines of the file at path (reading at most
// its last 64 KiB).
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	const max = 64 << 10
	var off int64
	if st, err := f.Stat(); err == nil && st.Size() > max {
		off = st.Size() - max
	}
	b, err := io.ReadAll(io.NewSectionReader(f, off, max))
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	b = bytes.TrimRight(b, "\n")
	lines := bytes.Split(b, []byte("\n"))
	if off > 0 && len(lines) > 1 {
		lines = lines[1:] // first line is probably cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// freePorts returns n distinct TCP ports that were free on 127.0.0.1 a moment
// ago. The listeners are all held until every port is picked, then closed;
// another process can take a port before our child binds it, which is why
// the Start functions retry on "address already in use".
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startContext returns ctx bounded by defaultStartTimeout unless it already
// has a deadline.
func startContext(ctx context.Context, what string) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, defaultStartTimeout,
		fmt.Errorf("%s: not ready after %s", what, defaultStartTimeout))
}

// waitContext returns ctx bounded by defaultWaitTimeout unless it already has
// a deadline.
func waitContext(ctx context.Context, what string) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, defaultWaitTimeout,
		fmt.Errorf("%s: not done after %s", what, defaultWaitTimeout))
}

// poll calls cond every pollInterval until it returns true or an error,
// ctx is done, or the process (if any) exits. It returns the last error
// cond reported when ctx ends, so a timeout says what was still failing.
func poll(ctx context.Context, p *process, cond func(ctx context.Context) (bool, error)) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	var last error
	var exited <-chan struct{}
	if p != nil {
		exited = p.done
	}
	for {
		ok, err := cond(ctx)
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			cause := context.Cause(ctx)
			if last != nil {
				return fmt.Errorf("%w (last attempt: %v)", cause, last)
			}
			return cause
		case <-exited:
			return errors.New("exited before it was ready")
		case <-t.C:
		}
	}
}

// httpOK reports whether GET url answers 200 (with an optional bearer
// token), returning the body.
func httpOK(ctx context.Context, c *http.Client, url, token string) (bool, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return false, nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return false, body, fmt.Errorf("GET %s: %s: %s", url, resp.Status, firstLines(body, 5))
	}
	return true, body, nil
}

// firstLines returns at most n lines of b, for error messages.
func firstLines(b []byte, n int) string {
	lines := strings.SplitN(strings.TrimSpace(string(b)), "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, " | ")
}

// lookBinary returns explicit if set, else the first of names found in
// $PATH or /usr/bin. Its error says which Debian package to install.
func lookBinary(explicit, debianPackage string, names ...string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("binary %s: %w", explicit, err)
		}
		return explicit, nil
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		if p := filepath.Join("/usr/bin", n); isExecutable(p) {
			return p, nil
		}
	}
	what := names[0] + " not found"
	if len(names) > 1 {
		what = "none of " + strings.Join(names, ", ") + " found"
	}
	return "", fmt.Errorf("%s in $PATH or /usr/bin: run scripts/test or scripts/demo once as root (they install it), or apt-get install %s", what, debianPackage)
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// makeTempDir creates a directory for one component under parent (or the
// system temp dir).
func makeTempDir(parent, component string) (string, error) {
	dir, err := os.MkdirTemp(parent, "opsbot-testenv-"+component+"-")
	if err != nil {
		return "", fmt.Errorf("%s: create temp dir: %w", component, err)
	}
	return dir, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
