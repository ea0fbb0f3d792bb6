// Command gnet is the echo server of levent's echo benchmark on gnet v2,
// as gnet's own echo example writes it, with one event loop
// (WithMulticore(false), WithNumEventLoop(1)): OnTraffic writes back
// everything read. TCP_NODELAY is on, as gnet sets it, unless
// -nodelay=false.
//
//	gnet [-addr 127.0.0.1:9004] [-nodelay=true] [-cpuprofile file]
//
// SIGINT and SIGTERM stop the engine; the program then exits 0.
package main

import (
	"context"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"

	"github.com/levent-go/levent/bench/servers/internal/serve"
)

type echoServer struct {
	gnet.BuiltinEventEngine
	booted chan gnet.Engine
}

func (s *echoServer) OnBoot(eng gnet.Engine) gnet.Action {
	s.booted <- eng
	return gnet.None
}

func (s *echoServer) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	c.Write(buf)
	return gnet.None
}

func main() {
	serve.Main("gnet", "127.0.0.1:9004", run)
}

func run(o serve.Options) error {
	s := &echoServer{booted: make(chan gnet.Engine, 1)}
	sigs := serve.Signals()
	go func() {
		eng := <-s.booted
		<-sigs
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		eng.Stop(ctx)
	}()
	nodelay := gnet.TCPNoDelay
	if !o.NoDelay {
		nodelay = gnet.TCPDelay
	}
	return gnet.Run(s, "tcp://"+o.Addr,
		gnet.WithTCPNoDelay(nodelay),
		gnet.WithMulticore(false),
		gnet.WithNumEventLoop(1),
		gnet.WithReuseAddr(true),
		gnet.WithLogLevel(logging.ErrorLevel))
}
