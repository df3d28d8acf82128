//go:build !linux

package moto

import "syscall"

// sysProcAttr puts the server in its own process group (Stop signals the group).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
