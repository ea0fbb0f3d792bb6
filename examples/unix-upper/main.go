// Command unix-upper is the seeds' Unix-domain stream server ("本地套接字通信")
// rewritten on a levent listener and BufferEvents, with its client.
//
//	unix-upper [-path serv.socket]                          the server
//	unix-upper -client [-path serv.socket] [-bind clie.socket]   the client
//
// The server listens on a socket file, prints "Accept ..." and, for each
// client, "client bind filename NAME" (the path the client bound, or
// "(unnamed)"), then answers everything a client sends with its ASCII
// letters in upper case (toupper in the C locale; other bytes, UTF-8
// included, pass unchanged). It serves any number of clients at once; the
// original served one at a time, the next waiting in the backlog until
// the first hung up. A socket file left behind by a server that was
// killed is replaced; any other file at the path is left alone and the
// server fails. The server removes its socket file when it exits, cleanly,
// with status 0, on SIGINT or SIGTERM.
//
// The stream has no messages: the server answers each byte it reads with
// its upper case, in the order read, whatever arrived with it. The client
// sends what fgets(buf, 4096, stdin) gives, a line with its newline or
// the next 4095 bytes of a longer one, up to its first NUL byte (write of
// strlen(buf) bytes), and reads back as many bytes before it sends more.
//
// The client binds its own path (-bind; "" for none), connects, and sends
// standard input so, printing each answer; it removes its path at the end
// of its input or on SIGINT or SIGTERM, and exits 0. The original printed
// what one read returned, which could be part of the answer; a piece of
// input that strlen made empty sent nothing and left it waiting forever
// for an answer.
package main

import (
	"flag"
	"fmt"
	"os"
)

const (
	servAddr = "serv.socket" // SERV_ADDR
	clieAddr = "clie.socket" // CLIE_ADDR
)

func main() {
	client := flag.Bool("client", false, "run the client: send standard input's lines, print the answers")
	path := flag.String("path", servAddr, "the server's socket file")
	bind := flag.String("bind", clieAddr, "client: the socket file to bind before connecting (\"\" for none)")
	flag.Parse()
	if flag.NArg() != 0 || *path == "" {
		fmt.Fprintln(os.Stderr, "usage: unix-upper [-path p] | unix-upper -client [-path p] [-bind p]")
		os.Exit(2)
	}
	var err error
	if *client {
		err = runClient(*path, *bind)
	} else {
		err = runServer(*path)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "unix-upper:", err)
		os.Exit(1)
	}
}

// toUpper is toupper on each byte, in the C locale: ASCII letters only.
func toUpper(b []byte) {
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
}
