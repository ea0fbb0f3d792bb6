package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// runClient is the post's blocking test client.
func runClient(addr string) error {
	// fd = socket(AF_INET, SOCK_STREAM, 0); connect(fd, ...): net.Dial does
	// both and blocks, as the original did.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err // perror("connect\n"); close(fd); exit(1)
	}
	defer conn.Close() // close(fd)
	exitOnSignals(conn)

	in := bufio.NewScanner(os.Stdin)
	in.Split(bufio.ScanWords)  // scanf("%s", buf) reads one word
	var buf [printBufSize]byte // char buf[128] = {0}
	for {
		fmt.Println("Input:") // printf("Input: \n")
		// The original ignored scanf's result: at the end of its input
		// it sent its last word again, forever.
		if !in.Scan() {
			return in.Err()
		}
		if err := sendWord(conn, buf[:], in.Text()); err != nil {
			return err // printf("send error! \n")
		}
	}
}

// sendWord sends word as the original did after scanf("%s", buf):
// send(fd, buf, sizeof(buf), 0), all 128 bytes of buf, so the word, its
// NUL, and whatever a longer earlier word left behind it (the server
// prints only up to the NUL), byte for byte what the original sent. scanf
// wrote past buf for a word of 128 bytes or more; here such a word goes as
// several messages of 127 bytes and a NUL.
func sendWord(conn net.Conn, buf []byte, word string) error {
	for {
		n := copy(buf[:len(buf)-1], word)
		buf[n] = 0
		if _, err := conn.Write(buf); err != nil {
			return err
		}
		if word = word[n:]; word == "" {
			return nil
		}
	}
}

// exitOnSignals makes SIGINT and SIGTERM close the connection and exit 0.
// The client has no event loop: it spends its time blocked reading
// standard input, where nothing but the end of the process can stop it.
func exitOnSignals(conn net.Conn) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		conn.Close()
		os.Exit(0)
	}()
}
