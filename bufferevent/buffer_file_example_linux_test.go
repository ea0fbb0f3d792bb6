package bufferevent_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
)

// AddFile sends part of a file (evbuffer_add_file): on a socket's Output
// the bytes go from the file to the socket with sendfile, never through
// the program's memory. The file stays the program's; release closes it.
func ExampleBuffer_AddFile() {
	dir, _ := os.MkdirTemp("", "levent")
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "greeting.txt")
	os.WriteFile(name, []byte("Hello from a file!\n"), 0o600)
	f, err := os.Open(name)
	if err != nil {
		fmt.Println(err)
		return
	}

	base, err := event.NewBase()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer base.Close()
	server, client, err := bufferevent.NewSocketPair(base, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The loop is not running yet: this goroutine may use the buffers.
	server.Output().WriteString(">> ")
	if err := server.Output().AddFile(f, 6, 13, func() { f.Close(); fmt.Println("file closed") }); err != nil {
		fmt.Println(err)
		return
	}
	client.SetCallbacks(func(client *bufferevent.BufferEvent) {
		if line, ok := client.Input().ReadLine(bufferevent.EOLLF); ok {
			fmt.Printf("%s\n", line)
			client.Free()
			server.Free()
		}
	}, nil, nil)
	client.Enable(event.Read)
	base.Dispatch()
	// Output:
	// file closed
	// >> from a file!
}
