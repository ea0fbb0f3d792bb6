package bufferevent

import (
	"bytes"
	"io"
	"testing"

	"github.com/levent-go/levent/event"
)

// A TLS BufferEvent's Output takes references and file ranges like any
// Output: their bytes are encrypted in order behind what was written
// before them (a file range read from the file, never sent with sendfile,
// which would put plaintext on the wire), and each release runs once its
// last byte has been encrypted. Both the NewTLS and the NewTLSFilter form.
func TestTLSOutputTakesReferencesAndFiles(t *testing.T) {
	for _, kind := range tlsServerKinds {
		t.Run(kind.name, func(t *testing.T) {
			checkLeaks(t)
			sent := countSendfile(t)
			data := pattern(200<<10, 9)
			f := tempFile(t, data)
			ref := pattern(40<<10, 3)
			b := startLoop(t)
			server, c, _, _ := tlsServerAndGoClient(t, b, kind.make, 0)
			releases := make(chan string, 2)
			onLoop(t, b, func() {
				if _, err := server.Write([]byte("head:")); err != nil {
					t.Error(err)
				}
				if err := server.Output().AddReference(ref, func() { releases <- "reference" }); err != nil {
					t.Error(err)
				}
				if err := server.Output().AddFile(f, 0, int64(len(data)), func() { releases <- "file" }); err != nil {
					t.Error(err)
				}
			})
			want := append(append([]byte("head:"), ref...), data...)
			got := make([]byte, len(want))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatalf("reading the plaintext: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("plaintext differs at byte %d of %d", firstDiff(got, want), len(want))
			}
			for _, w := range []string{"reference", "file"} {
				if r := wait(t, releases, "the releases"); r != w {
					t.Fatalf("released %s, want %s first", r, w)
				}
			}
			if n := sent.Load(); n != 0 {
				t.Errorf("sendfile sent %d bytes of a TLS connection", n)
			}
		})
	}
}

// A filter's Output hands a reference's bytes to its underlying, and the
// release runs then, though no callback of the filter is due.
func TestFilterOutputReleasesReferences(t *testing.T) {
	for _, kind := range underKinds {
		t.Run(kind.name, func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			x, y, err := kind.make(b, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer y.Free()
			fl, err := NewFilter(x, nil, nil, CloseOnFree, nil)
			if err != nil {
				x.Free()
				t.Fatal(err)
			}
			defer fl.Free()
			ref := pattern(100<<10, 4)
			got := make(chan []byte, 1)
			var in []byte
			y.SetCallbacks(func(y *BufferEvent) {
				in = append(in, y.Input().Peek(-1)...)
				y.Input().Reset()
				if len(in) == len(ref) {
					got <- in
				}
			}, nil, nil)
			released := make(chan struct{})
			onLoop(t, b, func() {
				y.Enable(event.Read)
				fl.Enable(event.Write)
				if err := fl.Output().AddReference(ref, func() { close(released) }); err != nil {
					t.Error(err)
				}
			})
			if p := wait(t, got, "the reference's bytes"); !bytes.Equal(p, ref) {
				t.Fatalf("got %d bytes, first difference at %d", len(p), firstDiff(p, ref))
			}
			wait(t, released, "the release")
		})
	}
}
