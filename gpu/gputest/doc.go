// Package gputest builds mock NVML machines for tests of package gpu and of
// the fleetsim gpu commands: every NVML call those make answers from a
// scripted GPU whose values tests can change or whose mock functions they
// can replace to inject errors. It needs cgo, as go-nvml does.
package gputest
