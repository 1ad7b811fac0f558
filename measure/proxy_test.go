package measure

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"testing"
	"time"
)

// echoServer accepts connections and echoes what it reads until EOF.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// pingPong dials addr and returns the connect-to-reply time of the first
// one-byte round trip and the times of n more.
func pingPong(t *testing.T, addr string, n int) (first time.Duration, rest []time.Duration) {
	t.Helper()
	start := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := []byte{0}
	for i := range n + 1 {
		t0 := time.Now()
		if i == 0 {
			t0 = start
		}
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = time.Since(t0)
		} else {
			rest = append(rest, time.Since(t0))
		}
	}
	return first, rest
}

func TestDelayProxyRTT(t *testing.T) {
	echo := echoServer(t)
	// Timers on a loaded 2-core machine overshoot by up to about a
	// millisecond per delivery and the loopback adds tens of µs; a round
	// trip has two deliveries, so the median round trip may be 3 ms above
	// the configured RTT, and no trip may be below it (a chunk is never
	// delivered early). Single trips may be late by a scheduling hiccup
	// when the whole test suite runs in parallel: up to 20 ms.
	const slack, hiccup = 3 * time.Millisecond, 20 * time.Millisecond
	cases := []struct {
		name              string
		oneWay, handshake time.Duration
	}{
		{"no delay", 0, 0},
		{"rtt 20ms", 10 * time.Millisecond, 0},
		{"rtt 50ms, handshake 40ms", 25 * time.Millisecond, 40 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewDelayProxy(echo, tc.oneWay, tc.handshake)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			rtt := 2 * tc.oneWay
			first, rest := pingPong(t, p.Addr(), 5)
			// The first request's bytes wait for the handshake, then cross both ways.
			if want := tc.handshake + rtt; first < want || first > want+hiccup {
				t.Errorf("first round trip on a new connection: got %v, want %v (+%v)", first, want, hiccup)
			}
			for i, got := range rest {
				if got < rtt || got > rtt+hiccup {
					t.Errorf("round trip %d: got %v, want %v (+%v)", i+1, got, rtt, hiccup)
				}
			}
			sorted := append([]time.Duration(nil), rest...)
			slices.Sort(sorted)
			if med := sorted[len(sorted)/2]; med > rtt+slack {
				t.Errorf("median round trip %v, want %v (+%v)", med, rtt, slack)
			}
		})
	}
}

func TestDelayProxyPreservesBytes(t *testing.T) {
	echo := echoServer(t)
	p, err := NewDelayProxy(echo, 2*time.Millisecond, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range want {
		want[i] = byte(r.Uint32())
	}
	// Write in uneven pieces while reading, then half-close: the proxy must
	// deliver every byte in order and pass the EOF on.
	go func() {
		for off := 0; off < len(want); {
			n := min(1+r.IntN(50_000), len(want)-off)
			if _, err := c.Write(want[off : off+n]); err != nil {
				return
			}
			off += n
		}
		_ = c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("echoed %d bytes through the proxy, want the %d sent, unchanged", len(got), len(want))
	}
}

func TestNewDelayProxyRejectsNegativeDelay(t *testing.T) {
	if p, err := NewDelayProxy("127.0.0.1:1", -time.Millisecond, 0); err == nil {
		_ = p.Close()
		t.Errorf("got no error for a negative one-way delay, want one")
	}
}
