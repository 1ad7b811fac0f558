package measure

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// DelayProxy is a user-space TCP proxy that emulates a network path of a
// fixed round-trip time: it listens on 127.0.0.1, forwards every accepted
// connection to Target, and delivers every chunk it reads, in either
// direction, OneWay after it read it, in order. A connection's first
// client bytes are moreover held until Handshake after the connection was
// accepted, as if the connection's TCP and TLS handshakes took that long
// (the local TCP connect itself is instant). The kernel has no netem, so
// this is how measure puts a wide-area network between a client and a
// server on one machine.
//
// Build one with NewDelayProxy; it serves until Close.
type DelayProxy struct {
	// Target is the address connections are forwarded to.
	Target string
	// OneWay is the delay added to each direction (RTT / 2).
	OneWay time.Duration
	// Handshake is the connection setup time a new connection pays before
	// its first request bytes leave the client.
	Handshake time.Duration

	ln     net.Listener
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// NewDelayProxy listens on 127.0.0.1:0 and starts forwarding to target
// with oneWay delay per direction and handshake setup time per connection.
// It returns an error when it cannot listen or a delay is negative.
func NewDelayProxy(target string, oneWay, handshake time.Duration) (*DelayProxy, error) {
	if oneWay < 0 || handshake < 0 {
		return nil, fmt.Errorf("delay proxy: delays must be >= 0, got one-way %v, handshake %v", oneWay, handshake)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("delay proxy: %w", err)
	}
	p := &DelayProxy{Target: target, OneWay: oneWay, Handshake: handshake, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr returns the address the proxy listens on (host:port).
func (p *DelayProxy) Addr() string { return p.ln.Addr().String() }

// Close stops listening, breaks the connections in progress and waits for
// the proxy's goroutines to end. It is idempotent and returns the
// listener's close error, if any.
func (p *DelayProxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	err := p.ln.Close()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// track registers c for Close; it reports false when the proxy is closed.
func (p *DelayProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *DelayProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *DelayProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		accepted := time.Now()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c, accepted)
		}()
	}
}

// handle forwards one connection until both directions end.
func (p *DelayProxy) handle(client net.Conn, accepted time.Time) {
	if !p.track(client) {
		_ = client.Close()
		return
	}
	defer p.untrack(client)
	defer client.Close()
	server, err := net.Dial("tcp", p.Target)
	if err != nil {
		return // the client sees the connection close
	}
	if !p.track(server) {
		_ = server.Close()
		return
	}
	defer p.untrack(server)
	defer server.Close()
	done := make(chan struct{}, 2)
	go func() { pipe(server, client, p.OneWay, accepted.Add(p.Handshake)); done <- struct{}{} }()
	go func() { pipe(client, server, p.OneWay, time.Time{}); done <- struct{}{} }()
	<-done
	<-done
}

// chunk is bytes read at one time, due for delivery at due.
type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies src to dst, delivering each chunk read at time t at
// max(t, notBefore) + delay, in order. When src ends it half-closes dst
// after the last chunk; when dst fails it closes src.
func pipe(dst, src net.Conn, delay time.Duration, notBefore time.Time) {
	// The queue is unbounded in effect: a reader never waits on the writer,
	// so that a slow (delayed) writer does not also slow the reading clock.
	q := make(chan chunk, 4096)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				t := time.Now()
				if t.Before(notBefore) {
					t = notBefore
				}
				q <- chunk{data: buf[:n], due: t.Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	timer := time.NewTimer(0)
	<-timer.C
	broken := false
	for c := range q {
		if broken {
			continue // drain, so the reader is not blocked
		}
		if d := time.Until(c.due); d > 0 {
			timer.Reset(d)
			<-timer.C
		}
		if _, err := dst.Write(c.data); err != nil {
			broken = true
			_ = src.Close()
		}
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok && !broken {
		_ = cw.CloseWrite()
	} else {
		_ = dst.Close()
	}
}
