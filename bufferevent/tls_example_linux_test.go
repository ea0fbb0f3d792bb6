package bufferevent_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"syscall"
	"time"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
)

// A TLS echo server and its client on one loop. The server side of each
// connection is NewTLS with TLSAccepting on the accepted descriptor; the
// client is NewTLS with TLSConnecting and no descriptor, then Connect. Both
// report Connected once the handshake is done, and their callbacks see
// only plaintext.
func ExampleNewTLS() {
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

	serverCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	l, err := listener.NewBind(base, func(l *listener.Listener, fd int, _ net.Addr) {
		bev, err := bufferevent.NewTLS(base, fd, serverCfg, bufferevent.TLSAccepting, bufferevent.CloseOnFree)
		if err != nil {
			syscall.Close(fd)
			return
		}
		bev.SetCallbacks(func(bev *bufferevent.BufferEvent) {
			bev.Output().AddBuffer(bev.Input()) // echo the plaintext
		}, nil, func(bev *bufferevent.BufferEvent, what bufferevent.What) {
			if what&(bufferevent.EOF|bufferevent.Error) != 0 {
				fmt.Println("server:", what) // the client's close_notify
				bev.Free()
			}
		})
		bev.Enable(event.Read)
		l.Free() // one connection is all this example serves
	}, listener.Reuseable, 0, "tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}

	clientCfg := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	client, err := bufferevent.NewTLS(base, -1, clientCfg, bufferevent.TLSConnecting, bufferevent.CloseOnFree)
	if err != nil {
		fmt.Println(err)
		return
	}
	client.SetCallbacks(func(c *bufferevent.BufferEvent) {
		if line, ok := c.Input().ReadLine(bufferevent.EOLLF); ok {
			fmt.Printf("echo: %s\n", line)
			c.Free() // sends close_notify, then closes
		}
	}, nil, func(c *bufferevent.BufferEvent, what bufferevent.What) {
		fmt.Println("client:", what)
		if what == bufferevent.Connected {
			st, _ := c.TLSConnectionState()
			fmt.Println("version:", tls.VersionName(st.Version))
			c.WriteString("hello over TLS\n")
		} else {
			c.Free()
		}
	})
	client.Enable(event.Read)
	if err := client.Connect("tcp4", l.Addr().String()); err != nil {
		fmt.Println(err)
		return
	}
	base.Dispatch()
	// Output:
	// client: Connected
	// version: TLS 1.3
	// echo: hello over TLS
	// server: Reading|EOF
}

// selfSigned makes a certificate for localhost and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
