package main

import (
	"errors"
	"syscall"
	"testing"
)

func TestOpenat2KeepsRequestsUnderTheRoot(t *testing.T) {
	root := testRoot(t)
	fd, err := openRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"hello.txt", nil},
		{"inside.txt", nil},         // a link that stays under the root
		{"link.txt", syscall.EXDEV}, // a link that leaves it
		{"sub/../../secret.txt", syscall.EXDEV},
		{"nope", syscall.ENOENT},
	} {
		f, supported, err := openBeneath(fd, tc.name)
		if !supported {
			t.Skip("this kernel has no openat2")
		}
		if f != nil {
			f.Close()
		}
		if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
}
