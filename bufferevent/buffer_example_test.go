package bufferevent_test

import (
	"fmt"
	"os"

	"github.com/levent-go/levent/bufferevent"
)

func ExampleBuffer_ReadLine() {
	var in bufferevent.Buffer
	in.WriteString("GET / HTTP/1.1\r\nHost: example.com\r\n\r\nbody")
	for {
		line, ok := in.ReadLine(bufferevent.EOLCRLF)
		if !ok || len(line) == 0 {
			break // no complete line yet, or the blank line ending the header
		}
		fmt.Printf("%q\n", line)
	}
	fmt.Printf("%d bytes left: %q\n", in.Len(), in.Peek(-1))
	// Output:
	// "GET / HTTP/1.1"
	// "Host: example.com"
	// 4 bytes left: "body"
}

func ExampleBuffer_AddBuffer() {
	var in, out bufferevent.Buffer
	in.WriteString("hello")
	out.AddBuffer(&in) // out is empty: it takes in's storage, nothing is copied
	out.Prepend([]byte("echo: "))
	fmt.Println(in.Len(), out.Search([]byte("hello")))
	fmt.Println(string(out.Peek(-1)))
	// Output:
	// 0 6
	// echo: hello
}

// Reserve and Commit write into the buffer without an intermediate copy
// (evbuffer_reserve_space / evbuffer_commit_space).
func ExampleBuffer_Reserve() {
	var b bufferevent.Buffer
	s1, _, _ := b.Reserve(5)
	n := copy(s1, "hello")
	b.Commit(n)
	fmt.Printf("%s\n", b.Peek(-1))
	// Output: hello
}

// AddReference queues bytes without copying them
// (evbuffer_add_reference); release says when they may be reused.
func ExampleBuffer_AddReference() {
	var b bufferevent.Buffer
	page := []byte("<html>...</html>\n") // a cached response, shared by many connections
	b.WriteString("200 OK\n")
	b.AddReference(page, func() { fmt.Println("page released") })
	b.WriteTo(os.Stdout) // written from page itself, as WriteFd does
	// Output:
	// 200 OK
	// <html>...</html>
	// page released
}

// AddCallback reports every change (evbuffer_add_cb), here to keep a
// running count of the bytes that went through a buffer.
func ExampleBuffer_AddCallback() {
	var b bufferevent.Buffer
	total := 0
	cb, _ := b.AddCallback(func(b *bufferevent.Buffer, info bufferevent.BufferCBInfo) {
		total += info.Deleted
		fmt.Printf("was %d, +%d -%d\n", info.OrigSize, info.Added, info.Deleted)
	})
	b.WriteString("hello, world")
	b.Drain(7)
	cb.Disable()
	b.Reset() // not reported
	fmt.Println("drained", total)
	// Output:
	// was 0, +12 -0
	// was 12, +0 -7
	// drained 7
}
