// Command http is an HTTP/1.1 server on a levent loop: a listener hands
// each connection to a BufferEvent, whose read callback parses requests
// straight from its input buffer and answers them.
//
//	http [-addr 127.0.0.1:8080] [-root .] [-header-timeout 10s] [-idle-timeout 60s]
//	     [-max-header 8192] [-max-body 1048576] [-max-output 1048576]
//	     [-tls-cert cert.pem -tls-key key.pem]
//
// With -tls-cert and -tls-key it serves HTTPS instead, TLS 1.2 and 1.3 on
// crypto/tls (bufferevent.NewTLS): the handshake must end within
// -header-timeout like a request head, and a connection that closes after
// its response sends TLS's close_notify before its end of stream.
//
// It prints "listening on ADDR" when it is ready and ends cleanly, with
// status 0, on SIGINT or SIGTERM.
//
// # Routes
//
//	GET, HEAD  /plaintext   Hello, World!
//	GET, HEAD  /json        {"message":"Hello, World!"}
//	GET, HEAD  /static/...  the file of that name under -root
//	POST       /echo        the request body
//
// Static files are answered with Content-Length and a Content-Type from
// the file's extension; a missing file is 404, a directory or a path that
// leads outside the root (a ".." segment, escaped or not, or a symbolic
// link pointing out) 403; on Linux the kernel enforces this, the file
// being opened with openat2 and RESOLVE_BENEATH (static.go). A method the server does not know gets 501, a
// known one a route does not take 405 with Allow, other paths 404, and the
// connection goes on.
//
// # Protocol
//
// Requests are parsed incrementally (request.go, body.go): the request
// line and headers, Content-Length bodies and chunked bodies (with
// extensions and trailers), each byte looked at once however the request
// is cut into reads. Connections are kept alive unless the client says
// Connection: close (or speaks HTTP/1.0 without keep-alive), and requests
// may be pipelined: every complete request in the input is answered, in
// order, in one pass, and the responses go out in one write. HEAD gets the
// headers GET would. Expect: 100-continue is answered before the body.
//
// A malformed request gets 400, a head longer than -max-header 431, a body
// larger than -max-body 413, a transfer coding other than chunked 501, an
// HTTP version other than 1.0 and 1.1 505; these close the connection,
// since the request's end is unknown, and only that connection. Closing
// shuts down the sending side first and discards what the client still
// sends for a moment, so the client reads the response rather than a
// reset.
//
// # Timeouts
//
// A request head must arrive within -header-timeout of its first byte: a
// client sending one byte a second (slowloris) gets 408 and is
// disconnected at the deadline, however steadily it sends. This is the
// BufferEvent's read timeout, which counts from the last read, set again
// after every read to the time left. Between requests, and while a body
// arrives or a response waits to be written, -idle-timeout applies; an
// idle connection is closed without a response.
//
// # Costs
//
// The responses of /plaintext and /json are built once; a persistent timer
// rewrites their Date once a second, in place. On that path a request
// allocates nothing: the head is parsed where it lies in the input buffer,
// and the answer is a copy of the prebuilt bytes. A client that sends
// requests without reading the responses stops being read once
// -max-output bytes wait for it; a static file is sent in parts of 256
// KiB as the client reads, never held whole. Files are opened and read on
// the loop's goroutine, as libevent's evhttp does: fine for local disks,
// not for slow network file systems.
package main
