package moto

import "syscall"

// sysProcAttr puts the server in its own process group (Stop signals the
// group) and kills it if the test binary dies without running Stop.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
