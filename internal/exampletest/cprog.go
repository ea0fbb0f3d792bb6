package exampletest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// libeventHeader is the header every libevent program of the seeds
// includes, directly or through <event.h>.
const libeventHeader = "/usr/include/event2/event.h"

// BuildC compiles the C program src with gcc against libevent, with each
// of defines passed as -D, and returns the binary's path. It skips the test
// only where the tools truly are not there: gcc, or libevent's headers
// (Debian's libevent-dev, which .ci/run installs). A program that does not
// compile fails the test.
func BuildC(t testing.TB, src string, defines ...string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skipf("gcc is not installed (%v): the seeds' C programs cannot be built", err)
	}
	if _, err := os.Stat(libeventHeader); err != nil {
		t.Skipf("libevent's headers are not installed (%v; Debian: apt-get install libevent-dev)", err)
	}
	bin := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(src), ".c"))
	args := []string{"-w", "-o", bin, src}
	for _, d := range defines {
		args = append(args, "-D"+d)
	}
	args = append(args, "-levent")
	if out, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// StartC runs a C program built by BuildC. Its standard output is
// unbuffered (stdbuf -o0), as it would be on a terminal where the seeds
// ran them, so that each printf reaches the test when it happens rather
// than when the program exits.
func StartC(t testing.TB, bin string, args ...string) *Proc {
	t.Helper()
	stdbuf, err := exec.LookPath("stdbuf")
	if err != nil {
		t.Fatalf("stdbuf (coreutils) is needed to read a C program's output as it prints: %v", err)
	}
	return Start(t, stdbuf, append([]string{"-o0", bin}, args...)...)
}

// PortDefine is the -D definition that makes a seed's C program use port.
func PortDefine(port int) string { return fmt.Sprintf("PORT=%d", port) }
