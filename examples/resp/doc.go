// Command resp is a key-value server that speaks Redis's protocol (RESP2)
// on a levent loop, so that redis-cli and redis-benchmark talk to it as to
// a Redis server.
//
//	resp [-addr 127.0.0.1:6379] [-max-bulk 536870912] [-max-inline 1048576]
//	     [-max-query 1073741824] [-max-output 4194304]
//
// It prints "listening on ADDR" when it is ready and ends cleanly, with
// status 0, on SIGINT or SIGTERM.
//
// # Commands
//
// PING, ECHO, QUIT, SET (NX, XX, EX, PX, KEEPTTL), GET, DEL, EXISTS, INCR,
// DECR, INCRBY, DECRBY, MGET, MSET, EXPIRE (NX, XX, GT, LT), TTL, PTTL,
// DBSIZE, FLUSHALL, and enough of COMMAND and CONFIG GET for redis-cli and
// redis-benchmark to start. Replies and error messages are Redis 7's.
// Values are strings; there are no other types and no persistence.
//
// # How it maps onto levent
//
// One loop on one goroutine does everything, as in Redis. A listener
// (evconnlistener) hands each connection to a BufferEvent whose read
// callback parses the requests in its input and answers them (conn.go);
// a persistent timer event sweeps expired keys (store.go), and two signal
// events end the loop.
//
// # Parsing and pipelining
//
// The parser (parse.go) reads requests straight from the input buffer
// through Peek, without copying them; only keys and values that are
// stored are copied, into the key space. Every complete request in the
// input is answered in one pass, in order, and all the replies of a pass
// are added to the output with one write; a partial request waits for
// more bytes, and the parser resumes where it stopped. Inline commands
// (PING typed into telnet, or redis-benchmark's PING_INLINE) are accepted
// with redis-cli's quoting.
//
// # Limits
//
// A bulk string longer than -max-bulk or an inline request longer than
// -max-inline is refused when its length is known, before its bytes are
// buffered. The read high watermark is -max-query, so a connection's input
// never holds more than that; a request that does not fit gets an error.
// All three close the connection after the error reply, as Redis does for
// every protocol error. Errors that leave the framing intact (an unknown
// command, a wrong argument, unbalanced quotes in an inline command) get
// an error reply and the connection goes on. A client that sends requests
// without reading the replies stops being read once -max-output bytes of
// replies wait for it, until it has read half of them.
//
// # Expiry
//
// A key's deadline is kept in a timer queue ordered by deadline. Commands
// delete an expired key when they meet it, so no client sees one; a
// periodic sweep deletes those nobody asks for again. See store.go.
package main
