package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/levent-go/levent/internal/exampletest"
)

// The baseline must answer what the levent server answers, or the
// comparison would measure different work.
func TestRoutesAnswerAsTheLeventServer(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "hello.txt"), []byte("hello, file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, addr, p := exampletest.StartServer(t, "-root", root)
	client := &http.Client{Timeout: exampletest.Timeout}
	defer client.CloseIdleConnections()
	for _, tc := range []struct {
		method, path, body string
		status             int
		ctype, want        string
	}{
		{"GET", "/plaintext", "", 200, "text/plain; charset=utf-8", plaintextBody},
		{"GET", "/json", "", 200, "application/json", jsonBody},
		{"GET", "/static/hello.txt", "", 200, "text/plain; charset=utf-8", "hello, file\n"},
		{"POST", "/echo", "abc", 200, "application/octet-stream", "abc"},
		{"GET", "/static/nope", "", 404, "text/plain; charset=utf-8", "404 page not found\n"},
	} {
		req, _ := http.NewRequest(tc.method, "http://"+addr+tc.path, strings.NewReader(tc.body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != tc.ctype || string(b) != tc.want {
			t.Errorf("%s %s: got %d %q %q, want %d %q %q", tc.method, tc.path,
				resp.StatusCode, resp.Header.Get("Content-Type"), b, tc.status, tc.ctype, tc.want)
		}
	}
	p.ExitsCleanly(syscall.SIGTERM)
}
