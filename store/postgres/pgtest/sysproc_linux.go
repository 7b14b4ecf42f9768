package pgtest

import "syscall"

// sysProcAttr runs a child as cred (if set) and has the kernel kill it if
// the test binary dies first.
func sysProcAttr(cred *credential) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if cred != nil {
		a.Credential = &syscall.Credential{Uid: cred.uid, Gid: cred.gid}
	}
	return a
}
