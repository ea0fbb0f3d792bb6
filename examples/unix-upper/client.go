package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// runClient is the seeds' client: blocking, one line out, its answer back.
func runClient(path, bind string) error {
	// cfd = Socket(AF_UNIX, SOCK_STREAM, 0); unlink(CLIE_ADDR);
	// Bind(cfd, (struct sockaddr *)&cliaddr, len);
	// Connect(cfd, (struct sockaddr *)&servaddr, len)
	var laddr *net.UnixAddr
	if bind != "" {
		if err := removeStaleSocket(bind); err != nil {
			return err
		}
		laddr = &net.UnixAddr{Name: bind, Net: "unix"}
	}
	conn, err := net.DialUnix("unix", laddr, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		if bind != "" {
			os.Remove(bind) // bind made the file before connect failed
		}
		return err
	}
	// close(cfd), and the bound path removed: the original left it behind.
	cleanUp := func() {
		conn.Close()
		if bind != "" {
			os.Remove(bind)
		}
	}
	defer cleanUp()
	exitOnSignals(cleanUp)

	in := bufio.NewReader(os.Stdin)
	for {
		// while (fgets(buf, sizeof(buf), stdin) != NULL)
		line, err := fgets(in, bufSize)
		if len(line) > 0 {
			// write(cfd, buf, strlen(buf)): up to the first NUL.
			if i := bytes.IndexByte(line, 0); i >= 0 {
				line = line[:i]
			}
			if _, err := conn.Write(line); err != nil {
				return err
			}
			// len = read(cfd, buf, sizeof(buf)); write(STDOUT_FILENO, buf, len):
			// one read may return only part of the answer, whose rest then
			// came out after the next line's, or never. The answer is as
			// long as what was sent, and all of it is read.
			answer := make([]byte, len(line))
			if _, err := io.ReadFull(conn, answer); err != nil {
				return fmt.Errorf("reading the answer: %w", err)
			}
			os.Stdout.Write(answer)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// bufSize is the size of the original's char buf[4096].
const bufSize = 4096

// fgets is fgets(buf, size, stdin): the next line, newline included, or
// its next size-1 bytes if it is longer; at the end of the input, the
// bytes before it and io.EOF.
func fgets(in *bufio.Reader, size int) ([]byte, error) {
	var line []byte
	for len(line) < size-1 {
		c, err := in.ReadByte()
		if err != nil {
			return line, err
		}
		line = append(line, c)
		if c == '\n' {
			break
		}
	}
	return line, nil
}

// removeStaleSocket is the original's unlink(CLIE_ADDR), which removed
// whatever had the name: here only a socket file is removed, anything else
// is refused. A missing path is fine.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&os.ModeSocket == 0:
		return fmt.Errorf("%s exists and is not a socket; not removing it", path)
	}
	return os.Remove(path)
}

// exitOnSignals makes SIGINT and SIGTERM run cleanUp and exit 0. The
// client has no event loop: it spends its time blocked in a read, where
// nothing but the end of the process can stop it.
func exitOnSignals(cleanUp func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		cleanUp()
		os.Exit(0)
	}()
}
