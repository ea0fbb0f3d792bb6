//go:build !linux

package main

import "os"

// openRoot has nothing to open where openat2 does not exist.
func openRoot(string) (int, error) { return -1, nil }

// openBeneath is Linux's openat2; elsewhere the server resolves symbolic
// links itself.
func openBeneath(int, string) (*os.File, bool, error) { return nil, false, nil }
