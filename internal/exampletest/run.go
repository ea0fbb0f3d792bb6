package exampletest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Usage returns what bin prints for -h: the flags and their defaults.
func Usage(t testing.TB, bin string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	// The status is not checked: the usage text is what the tests read.
	out, _ := exec.CommandContext(ctx, bin, "-h").CombinedOutput()
	return string(out)
}

// RunWithInputFile runs bin with args to its end, its standard input a
// regular file holding input, and returns what it printed (stdout and
// stderr) and how it ended. A regular file is the input epoll refuses, so
// an example must read it another way. The run is cut off after Timeout.
func RunWithInputFile(t testing.TB, input, bin string, args ...string) ([]byte, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "input")
	if err := os.WriteFile(path, []byte(input), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = f
	return cmd.CombinedOutput()
}

// Output runs bin with args to its end, input on its standard input (a
// pipe), and returns the bytes it wrote to standard output, exactly. A
// failed run or one that lasts more than Timeout fails the test, with what
// it wrote to standard error. The seeds' C clients end at the end of their
// input, and a test compares what they printed with what a port printed.
func Output(t testing.TB, input, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}
