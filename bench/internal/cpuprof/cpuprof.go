// Package cpuprof runs a function under a CPU profile, for the -cpuprofile
// flag of the bench module's commands (levbench and the echo servers).
package cpuprof

import (
	"os"
	"runtime/pprof"
)

// Run runs fn, under a CPU profile written to path unless path is "". A
// profile that cannot be started is an error, and fn does not run; fn's
// own error comes first, then the failure to close the profile.
func Run(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	err = fn()
	pprof.StopCPUProfile()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
