package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	// modulePath is the main module; the repository root is the directory
	// of the go.mod declaring it.
	modulePath = "github.com/opsbot/opsbot"

	// kubeToolsDir is the tools module pinning k8s.io/kubernetes, relative
	// to the repository root.
	kubeToolsDir = "tools/kube"

	// envKubeBinDir names a directory holding kube-apiserver and kubectl;
	// when set, KubeBinaries uses it and never builds.
	envKubeBinDir = "OPSBOT_KUBE_BIN_DIR"
)

// KubeBinaries returns the paths of the kube-apiserver and kubectl binaries.
//
// If $OPSBOT_KUBE_BIN_DIR is set, both must be in it. Otherwise they are
// cached in $XDG_CACHE_HOME/opsbot/kube-<version>/ (or ~/.cache/...), where
// version is the k8s.io/kubernetes version required by tools/kube/go.mod of
// the repository containing the working directory. On a cache miss they are
// built there with `go build` (about 7 minutes on two cores, so ctx should
// allow for it); a file lock makes concurrent callers (several test packages
// at once) wait for one build instead of racing, and the binaries appear in
// the cache atomically (built in a temporary directory, then renamed).
func KubeBinaries(ctx context.Context) (apiserver, kubectl string, err error) {
	if dir := os.Getenv(envKubeBinDir); dir != "" {
		apiserver, kubectl = filepath.Join(dir, "kube-apiserver"), filepath.Join(dir, "kubectl")
		for _, p := range []string{apiserver, kubectl} {
			if !isExecutable(p) {
				return "", "", fmt.Errorf("$%s is %s, but %s is not an executable file", envKubeBinDir, dir, p)
			}
		}
		return apiserver, kubectl, nil
	}

	root, err := RepoRoot()
	if err != nil {
		return "", "", err
	}
	toolsDir := filepath.Join(root, kubeToolsDir)
	version, err := kubeVersion(filepath.Join(toolsDir, "go.mod"))
	if err != nil {
		return "", "", err
	}
	cache, err := os.UserCacheDir() // $XDG_CACHE_HOME or ~/.cache
	if err != nil {
		return "", "", fmt.Errorf("find the cache directory (or set $%s): %w", envKubeBinDir, err)
	}
	base := filepath.Join(cache, "opsbot")
	dir := filepath.Join(base, "kube-"+version)
	apiserver, kubectl = filepath.Join(dir, "kube-apiserver"), filepath.Join(dir, "kubectl")
	have := func() bool { return isExecutable(apiserver) && isExecutable(kubectl) }
	if have() {
		return apiserver, kubectl, nil
	}

	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", "", fmt.Errorf("create cache directory: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(base, "kube-"+version+".lock"))
	if err != nil {
		return "", "", err
	}
	defer unlock()
	if have() { // built by someone else while we waited for the lock
		return apiserver, kubectl, nil
	}
	if err := buildKube(ctx, toolsDir, base, dir, version); err != nil {
		return "", "", err
	}
	return apiserver, kubectl, nil
}

// buildKube builds kube-apiserver and kubectl from toolsDir into a temporary
// directory under base, then renames them into dir.
func buildKube(ctx context.Context, toolsDir, base, dir, version string) error {
	tmp, err := os.MkdirTemp(base, ".build-kube-"+version+"-")
	if err != nil {
		return fmt.Errorf("create build directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	minor := ""
	if parts := strings.Split(strings.TrimPrefix(version, "v"), "."); len(parts) >= 2 {
		minor = parts[1]
	}
	// Stamp the version the way Kubernetes' own build does, so /version and
	// `kubectl version` say v1.32.4 rather than v0.0.0-master.
	ldflags := "-s -w" +
		" -X k8s.io/component-base/version.gitVersion=" + version +
		" -X k8s.io/component-base/version.gitMajor=1" +
		" -X k8s.io/component-base/version.gitMinor=" + minor +
		" -X k8s.io/client-go/pkg/version.gitVersion=" + version +
		" -X k8s.io/client-go/pkg/version.gitMajor=1" +
		" -X k8s.io/client-go/pkg/version.gitMinor=" + minor
	cmd := exec.CommandContext(ctx, "go", "build", "-mod=readonly", "-ldflags="+ldflags, "-o", tmp+string(filepath.Separator),
		"k8s.io/kubernetes/cmd/kube-apiserver", "k8s.io/kubernetes/cmd/kubectl")
	cmd.Dir = toolsDir
	// go.sum in tools/kube is committed and -mod=readonly holds the build to
	// it; the checksum database does not answer for some k8s.io modules on
	// these machines, so it is not asked.
	cmd.Env = append(os.Environ(), "GONOSUMDB=k8s.io/*", "GOFLAGS=-mod=readonly")
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("build kube-apiserver and kubectl %s in %s: %w\n%s", version, toolsDir, err, tailString(string(out), logTailLines))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	// kubectl last: have() needs both, and each rename is atomic.
	for _, name := range []string{"kube-apiserver", "kubectl"} {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("install %s: %w", name, err)
		}
	}
	return nil
}

// lockFile takes an exclusive flock on path, waiting until ctx is done.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for lock %s (another build running?): %w", path, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// RepoRoot walks up from the working directory to the directory whose
// go.mod declares the main module: the repository's root, where deploy/
// and cmd/ are.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if mod, err := moduleOf(filepath.Join(dir, "go.mod")); err == nil && mod == modulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod for module %s above %s (run inside the repository or set $%s)", modulePath, wd, envKubeBinDir)
		}
		dir = parent
	}
}

// moduleOf returns the module path declared by the go.mod at path.
func moduleOf(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`), nil
		}
	}
	if err := s.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: no module line", path)
}

// kubeVersion returns the k8s.io/kubernetes version required by the go.mod
// at path, in either the one-line or the block form of require.
func kubeVersion(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read the Kubernetes version: %w", err)
	}
	return parseKubeVersion(string(b), path)
}

func parseKubeVersion(gomod, name string) (string, error) {
	inRequire := false
	for _, line := range strings.Split(gomod, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
			continue
		case inRequire && fields[0] == ")":
			inRequire = false
			continue
		case fields[0] == "require" && len(fields) == 2 && fields[1] == "(":
			inRequire = true
			continue
		case fields[0] == "require":
			fields = fields[1:]
		case !inRequire:
			continue
		}
		if len(fields) >= 2 && fields[0] == "k8s.io/kubernetes" {
			return fields[1], nil
		}
	}
	return "", fmt.Errorf("%s: no require line for k8s.io/kubernetes", name)
}

// tailString returns the last n lines of s.
func tailString(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
