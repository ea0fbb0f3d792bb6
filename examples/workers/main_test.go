package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// dial connects and checks the server's log line.
func dial(t *testing.T, server *exampletest.Proc, addr string) net.Conn {
	t.Helper()
	c := exampletest.Dial(t, "tcp", addr)
	server.ExpectLine("accept a client " + c.LocalAddr().String())
	return c
}

// want is the answer to a request, as the server computes it.
func want(line string) string {
	a, _ := compute([]byte(line), nil)
	return string(a)
}

// readAnswers reads the answers to lines from r, in order, and returns
// the first mismatch as an error.
func readAnswers(c net.Conn, r *bufio.Reader, lines []string) error {
	c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
	for i, l := range lines {
		got, err := r.ReadString('\n')
		if err != nil || got != want(l) {
			return fmt.Errorf("answer %d: got %q (err %v), want %q", i, got, err, want(l))
		}
	}
	return nil
}

// requests returns n request lines, some of them slow (primes near 10^12).
func requests(n, salt int) []string {
	lines := make([]string, n)
	for i := range lines {
		if i%17 == 0 {
			lines[i] = "999999999989"
		} else {
			lines[i] = strconv.Itoa(i*7919 + salt)
		}
	}
	return lines
}

func TestAnswersComeInTheOrderOfTheRequests(t *testing.T) {
	_, addr, server := exampletest.StartServer(t, "-workers", "2", "-queue", "4")
	c := dial(t, server, addr)
	r := bufio.NewReader(c)
	// The slow request first: the second worker answers the fast one long
	// before, and its answer waits for the first.
	first := []string{"10000000000037", "4"}
	io.WriteString(c, strings.Join(first, "\n")+"\n")
	if err := readAnswers(c, r, first); err != nil {
		t.Fatal(err)
	}
	// Far more requests than the queue holds: the connection stops
	// reading while it is full and goes on as workers finish.
	lines := requests(300, 1)
	go io.WriteString(c, strings.Join(lines, "\n")+"\n")
	if err := readAnswers(c, r, lines); err != nil {
		t.Fatal(err)
	}
	server.ExitsCleanly(syscall.SIGINT)
}

func TestConnectionsShareThePoolAndKeepTheirOwnOrder(t *testing.T) {
	_, addr, server := exampletest.StartServer(t, "-workers", "3", "-queue", "5")
	fds := server.OpenFds()
	const n = 4
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		c := dial(t, server, addr)
		lines := requests(100, i+2)
		go func() {
			r := bufio.NewReader(c)
			go io.WriteString(c, strings.Join(lines, "\n")+"\n")
			errs <- readAnswers(c, r, lines)
			c.Close()
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for i := 0; i < n; i++ {
		server.Expect(" closed")
	}
	// The server prints " closed" just before it frees the connection.
	server.WaitFds(fds)
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestBadRequestsAreAnsweredAndTheLastLineNeedsNoNewline(t *testing.T) {
	_, addr, server := exampletest.StartServer(t)
	c := dial(t, server, addr)
	r := bufio.NewReader(c)
	io.WriteString(c, "abc\r\n12\r\n0\n 1 \n-5\n18446744073709551616\n97")
	c.(*net.TCPConn).CloseWrite()
	for _, w := range []string{
		`error: "abc" is not a valid unsigned integer`,
		"12: 2 2 3", "0:", "1:",
		`error: "-5" is not a valid unsigned integer`,
		`error: "18446744073709551616" is not a valid unsigned integer`,
		"97: 97",
	} {
		exampletest.ExpectReply(t, c, r, w+"\n")
	}
	exampletest.ExpectEOF(t, c, r)
	server.ExpectLine("client " + c.LocalAddr().String() + " closed")
	server.ExitsCleanly(syscall.SIGINT)
}

func TestALineTooLongIsAnsweredAfterTheOthersAndCloses(t *testing.T) {
	_, addr, server := exampletest.StartServer(t)
	c := dial(t, server, addr)
	r := bufio.NewReader(c)
	io.WriteString(c, "10000000000037\n6\n"+strings.Repeat("7", 5000))
	if err := readAnswers(c, r, []string{"10000000000037", "6"}); err != nil {
		t.Fatal(err)
	}
	exampletest.ExpectReply(t, c, r, "error: line longer than 4096 bytes\n")
	exampletest.ExpectEOF(t, c, r)
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestAClientThatReadsLateGetsEveryAnswer(t *testing.T) {
	_, addr, server := exampletest.StartServer(t)
	// A small receive buffer, set before the connection is made (it
	// decides the window scaling), and 6 MB of answers to 4 MB of
	// requests: more than the kernel's buffers hold, so the answers back
	// up in the server, which must stop reading rather than buffer them
	// all, and go on once the client reads. The buffer is no smaller than
	// 64 KiB: below loopback's 64 KiB segment size the receiver may hold
	// back its window updates (silly window avoidance), and a sender
	// left probing a zero window backs off for seconds at a time.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 65536) })
		return nil
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 2000000
	go func() {
		io.WriteString(c, strings.Repeat("1\n", n))
		c.(*net.TCPConn).CloseWrite()
	}()
	time.Sleep(time.Second)
	c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != strings.Repeat("1:\n", n) {
		t.Fatalf("read %d bytes (err %v), want %d answers and the end", len(got), err, n)
	}
	server.ExitsCleanly(syscall.SIGINT)
}

func TestInterruptCancelsWorkInProgress(t *testing.T) {
	_, addr, server := exampletest.StartServer(t, "-workers", "2")
	slow := dial(t, server, addr)
	// 2^64-59 is prime: trial division would take minutes.
	io.WriteString(slow, "18446744073709551557\n")
	fast := dial(t, server, addr)
	io.WriteString(fast, "8\n")
	if err := readAnswers(fast, bufio.NewReader(fast), []string{"8"}); err != nil {
		t.Fatal(err)
	}
	server.ExitsCleanly(syscall.SIGINT)
}
