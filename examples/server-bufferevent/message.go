package main

import (
	"bytes"

	"github.com/levent-go/levent/bufferevent"
)

// A message, for both servers, is what one bufferevent_read of the
// original took from the input: at most its buffer's size (1024 bytes for
// the libevent notes' server, 128 for the post's), whatever the client's
// framing. The post's client sends 128-byte messages, a word padded with
// NUL bytes; a client of the notes sends a string and its NUL
// (bufferevent_write(bev, buf, strlen(buf) + 1)); nc sends a line. Each is
// one message when it arrives in one read, as it does from a client that
// waits between messages.
//
// The originals called bufferevent_read once per read callback, so data
// beyond the buffer's size waited in the input until the client sent
// more. Here the callback takes message after message until the input is
// empty. That changes nothing on the wire for a client whose messages fit
// the buffer.

// readMessage takes the next message from bev's input into buf, whose
// length is the original's buffer size, and returns it as the original's
// printf("%s") showed it (see text). ok is false when the input is empty.
func readMessage(bev *bufferevent.BufferEvent, buf []byte) (msg []byte, ok bool) {
	n := bev.Read(buf) // bufferevent_read(bev, buf, sizeof(buf))
	if n == 0 {
		return nil, false
	}
	return text(buf[:n]), true
}

// text is what printf("%s", buf) printed of a message: the bytes before the
// first NUL, here also without the line ending a line-based client sent,
// since the print adds its own.
func text(msg []byte) []byte {
	if i := bytes.IndexByte(msg, 0); i >= 0 {
		msg = msg[:i]
	}
	return bytes.TrimRight(msg, "\r\n")
}
