// Command pause is the pod sandbox process of fleetsim's local kind node
// image, standing in for registry.k8s.io/pause, which cannot be pulled here.
//
// Like the upstream pause (kubernetes/build/pause/linux/pause.c) it sleeps
// until SIGINT or SIGTERM and then exits 0, and it reaps any child that is
// re-parented to it when it is PID 1 of a pod with a shared PID namespace.
// With -v it prints its version and exits.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is the pause image version this program stands in for.
const version = "fleetsim-pause 3.10.2"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println(version)
		return
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every exited child without blocking.
func reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
