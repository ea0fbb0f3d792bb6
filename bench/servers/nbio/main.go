// Command nbio is the echo server of levent's echo benchmark on nbio, as
// nbio's echo example writes it, with one poller (NPoller 1): OnData
// writes back what was read. nbio accepts on a goroutine of its own and
// hands connections to the poller. TCP_NODELAY is on, as Go's net sets it
// on the connections nbio takes over, unless -nodelay=false.
//
//	nbio [-addr 127.0.0.1:9005] [-nodelay=true] [-cpuprofile file]
//
// SIGINT and SIGTERM stop the engine; the program then exits 0.
package main

import (
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"

	"github.com/levent-go/levent/bench/servers/internal/serve"
)

func main() {
	serve.Main("nbio", "127.0.0.1:9005", run)
}

func run(o serve.Options) error {
	logging.SetLevel(logging.LevelError)
	eng := nbio.NewEngine(nbio.Config{
		Network: "tcp",
		Addrs:   []string{o.Addr},
		NPoller: 1,
	})
	if !o.NoDelay {
		eng.OnOpen(func(c *nbio.Conn) { c.SetNoDelay(false) })
	}
	eng.OnData(func(c *nbio.Conn, data []byte) { c.Write(data) })
	if err := eng.Start(); err != nil {
		return err
	}
	<-serve.Signals()
	eng.Stop()
	return nil
}
