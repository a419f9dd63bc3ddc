package nodeapi

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"sync"
)

// LimitListener wraps the node's listener with the connection limits:
// at most MaxConnections connections held, at most MaxConnectionsPerIP
// from one client address. Call it once, on the plain listener: a TLS
// listener goes around it (tls.NewListener), so that net/http sees
// *tls.Conn and bounds the handshake by ReadHeaderTimeout.
//
// A connection above a bound is closed as soon as it is accepted (with a
// reset: no TIME_WAIT is left on the node), rather than left waiting in
// the kernel's accept queue: the client learns at once that this node is
// full and can retry or move to another node (a writer needs only a
// quorum), a client that gave up does not take a slot later, and a flood
// of connections cannot fill the accept queue that legitimate clients
// need when slots free up. At MaxConnections, though, the connection that
// has been idle longest (kept alive between requests, which HTTP lets a
// server close at any time) is closed to make room first, so that idle
// connections never lock out new clients; the ConnState hook that
// ConfigureHTTPServer installs tells the limit which connections are
// idle.
func (s *Server) LimitListener(l net.Listener) net.Listener {
	lim := s.cfg.Limits
	if lim.MaxConnections <= 0 && lim.MaxConnectionsPerIP <= 0 {
		return l
	}
	cl := &connLimiter{Listener: l, max: lim.MaxConnections, perIP: lim.MaxConnectionsPerIP,
		byIP: make(map[netip.Addr]int), metrics: s.limitMetrics}
	cl.idle.prev, cl.idle.next = &cl.idle, &cl.idle
	s.conns.Store(cl)
	return cl
}

// connLimiter is a listener that holds at most max connections, at most
// perIP from one client address (non-positive: no bound).
type connLimiter struct {
	net.Listener
	max, perIP int
	metrics    *limitMetrics

	mu   sync.Mutex
	open int
	byIP map[netip.Addr]int // entries > 0 only
	idle limitedConn        // sentinel of the idle list: idle.next idled most recently
}

// Accept returns the next connection within the bounds; those above them
// are closed.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc := l.admit(c); lc != nil {
			return lc, nil
		}
	}
}

// admit takes a slot for c, closing the longest idle connection if that
// makes room, or refuses c (closing it) and returns nil.
func (l *connLimiter) admit(c net.Conn) *limitedConn {
	key := connKey(c.RemoteAddr())
	l.mu.Lock()
	if l.perIP > 0 && l.byIP[key] >= l.perIP {
		l.mu.Unlock()
		l.refuse(c, "max_connections_per_ip")
		return nil
	}
	var victim *limitedConn
	if l.max > 0 && l.open >= l.max {
		if victim = l.idle.prev; victim == &l.idle {
			l.mu.Unlock()
			l.refuse(c, "max_connections")
			return nil
		}
		l.releaseLocked(victim)
	}
	l.open++
	l.byIP[key]++
	lc := &limitedConn{Conn: c, l: l, key: key}
	l.mu.Unlock()
	if victim != nil {
		// Closing the connection below makes net/http's wait for the next
		// request fail; it then closes the rest. The slot is free already.
		_ = victim.Conn.Close()
		l.metrics.connEvicted()
	}
	l.metrics.connOpened()
	return lc
}

// refuse closes a connection above a bound with a reset.
func (l *connLimiter) refuse(c net.Conn, reason string) {
	if t, ok := c.(*net.TCPConn); ok {
		_ = t.SetLinger(0)
	}
	_ = c.Close()
	l.metrics.connRefused(reason)
}

// releaseLocked gives back c's slot, once.
func (l *connLimiter) releaseLocked(c *limitedConn) {
	if c.released {
		return
	}
	c.released = true
	l.unidleLocked(c)
	l.open--
	if n := l.byIP[c.key] - 1; n > 0 {
		l.byIP[c.key] = n
	} else {
		delete(l.byIP, c.key)
	}
	l.metrics.connClosed()
}

func (l *connLimiter) unidleLocked(c *limitedConn) {
	if c.next != nil {
		c.prev.next, c.next.prev = c.next, c.prev
		c.prev, c.next = nil, nil
	}
}

// setIdle records whether c is idle between requests.
func (l *connLimiter) setIdle(c *limitedConn, idle bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unidleLocked(c)
	if idle && !c.released {
		c.prev, c.next = &l.idle, l.idle.next
		l.idle.next.prev = c
		l.idle.next = c
	}
}

// limitedConn is a connection holding a slot of its connLimiter; the
// list fields and released belong to the limiter's lock.
type limitedConn struct {
	net.Conn
	l          *connLimiter
	key        netip.Addr
	prev, next *limitedConn // in the idle list
	released   bool
}

// Close gives back the slot and closes the connection.
func (c *limitedConn) Close() error {
	c.l.mu.Lock()
	c.l.releaseLocked(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// CloseWrite shuts down the writing side, when the connection below can
// (net/http does it before closing a plain HTTP connection whose request
// body it did not read, so that the client gets the answer).
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// connState is the http.Server's ConnState hook: it keeps the idle list
// of the connection limit.
func (s *Server) connState(c net.Conn, st http.ConnState) {
	cl := s.conns.Load()
	if cl == nil {
		return
	}
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	lc, ok := c.(*limitedConn)
	if !ok || lc.l != cl {
		return
	}
	cl.setIdle(lc, st == http.StateIdle)
}
