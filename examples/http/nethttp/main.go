// Command nethttp serves the http example's routes with Go's net/http, as
// the baseline the example is measured against (examples/http/compare.sh).
//
//	nethttp [-addr 127.0.0.1:8081] [-root .] [-tls-cert cert.pem -tls-key key.pem]
//
// The routes answer as the levent server's do: /plaintext, /json,
// /static/ (http.FileServer under -root) and POST /echo. It prints
// "listening on ADDR" when ready and exits 0 on SIGINT or SIGTERM, after
// shutting the server down.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

const (
	plaintextBody = "Hello, World!"
	jsonBody      = `{"message":"Hello, World!"}`
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	root := flag.String("root", ".", "directory served under /static/")
	certFile := flag.String("tls-cert", "", "serve HTTPS with this PEM certificate file; needs -tls-key")
	keyFile := flag.String("tls-key", "", "the PEM private key of -tls-cert")
	flag.Parse()
	if err := run(*addr, *root, *certFile, *keyFile); err != nil {
		fmt.Fprintln(os.Stderr, "nethttp:", err)
		os.Exit(1)
	}
}

// routes returns the handler: the same routes as the levent server.
func routes(root string) http.Handler {
	mux := http.NewServeMux()
	plaintext, json := []byte(plaintextBody), []byte(jsonBody)
	mux.HandleFunc("GET /plaintext", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"text/plain; charset=utf-8"}
		w.Write(plaintext)
	})
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"application/json"}
		w.Write(json)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header()["Content-Type"] = []string{"application/octet-stream"}
		w.Write(body)
	})
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.Dir(root))))
	return mux
}

func run(addr, root, certFile, keyFile string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: routes(root)}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() {
		<-sigs
		done <- srv.Shutdown(context.Background())
	}()
	fmt.Printf("listening on %s\n", ln.Addr())
	serve := func() error { return srv.Serve(ln) }
	if certFile != "" {
		serve = func() error { return srv.ServeTLS(ln, certFile, keyFile) }
	}
	if err := serve(); err != http.ErrServerClosed {
		return err
	}
	return <-done
}
