package bufferevent_test

import (
	"crypto/tls"
	"fmt"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
)

// TLS over an in-memory pair: each end of NewPair gets a TLS filter, one
// accepting, one connecting. The ciphertext moves between the pair's
// buffers with no descriptor; the filters' callbacks see plaintext, and
// the client's Free reaches the server as close_notify.
func ExampleNewTLSFilter() {
	cert, pool, err := selfSigned()
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
	a, b, err := bufferevent.NewPair(base, 0)
	if err != nil {
		fmt.Println(err)
		return
	}

	serverCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	server, err := bufferevent.NewTLSFilter(b, serverCfg, bufferevent.TLSAccepting, bufferevent.CloseOnFree)
	if err != nil {
		fmt.Println(err)
		return
	}
	server.SetCallbacks(func(s *bufferevent.BufferEvent) {
		s.Output().AddBuffer(s.Input()) // echo the plaintext
	}, nil, func(s *bufferevent.BufferEvent, what bufferevent.What) {
		if what&(bufferevent.EOF|bufferevent.Error) != 0 {
			fmt.Println("server:", what)
			s.Free() // frees b too: CloseOnFree
			base.LoopBreak()
		}
	})
	server.Enable(event.Read)

	clientCfg := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	client, err := bufferevent.NewTLSFilter(a, clientCfg, bufferevent.TLSConnecting, bufferevent.CloseOnFree)
	if err != nil {
		fmt.Println(err)
		return
	}
	client.SetCallbacks(func(c *bufferevent.BufferEvent) {
		if line, ok := c.Input().ReadLine(bufferevent.EOLLF); ok {
			fmt.Printf("echo: %s\n", line)
			c.Free() // sends close_notify, and frees a
		}
	}, nil, func(c *bufferevent.BufferEvent, what bufferevent.What) {
		fmt.Println("client:", what)
		if what == bufferevent.Connected {
			st, _ := c.TLSConnectionState()
			fmt.Println("version:", tls.VersionName(st.Version))
			c.WriteString("hello over a pair\n")
		}
	})
	client.Enable(event.Read)
	// The handshakes run on goroutines while nothing is pending on the
	// loop: keep it running until the server is done.
	base.Loop(event.LoopNoExitOnEmpty)
	// Output:
	// client: Connected
	// version: TLS 1.3
	// echo: hello over a pair
	// server: Reading|EOF
}
