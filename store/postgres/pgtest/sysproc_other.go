//go:build !linux

package pgtest

import "syscall"

// sysProcAttr outside Linux: no Pdeathsig (a server outlives a test binary
// that is killed) and no switching users (run the tests as a normal user).
func sysProcAttr(*credential) *syscall.SysProcAttr { return nil }
