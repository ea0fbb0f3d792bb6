package exampletest

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// WaitListening waits until some process listens on TCP port on
// 127.0.0.1 or any IPv4 address, as /proc/net/tcp shows, for a server
// that prints nothing when it is ready (the seeds' C servers). A probe
// connection would do, but the server would see it as a client.
func WaitListening(t testing.TB, port int) {
	t.Helper()
	want := []string{fmt.Sprintf("0100007F:%04X", port), fmt.Sprintf("00000000:%04X", port)}
	deadline := time.Now().Add(Timeout)
	for {
		b, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			t.Fatalf("reading /proc/net/tcp: %v", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			// sl local_address rem_address st ...; st 0A is LISTEN
			if len(f) > 3 && f[3] == "0A" && (f[1] == want[0] || f[1] == want[1]) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on port %d after %v", port, Timeout)
		}
		time.Sleep(pollEvery)
	}
}
