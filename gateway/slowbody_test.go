package gateway_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/gateway"
	"github.com/walrus-go/walrus/internal/testnet"
)

// slowClient is a raw connection that sends a PUT /v1/blobs with a large
// Content-Length, then its body one byte a second, until the server
// answers or the test stops it.
type slowClient struct {
	conn   net.Conn
	status chan int    // the answer's status code (0: none)
	body   chan []byte // the answer's body
	stop   chan struct{}
}

func startSlowClient(t *testing.T, addr string) *slowClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := &slowClient{conn: conn, status: make(chan int, 1), body: make(chan []byte, 1), stop: make(chan struct{})}
	fmt.Fprintf(conn, "PUT /v1/blobs HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000000\r\n\r\nx", addr)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-tick.C:
			}
			if _, err := conn.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			c.status <- 0
			c.body <- nil
			return
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		c.status <- resp.StatusCode
		c.body <- b.Bytes()
	}()
	t.Cleanup(c.close)
	return c
}

func (c *slowClient) close() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	c.conn.Close()
}

// TestSlowBodies: clients that trickle their bodies, one byte a second,
// in as many connections as the publisher has admission slots (8 running
// and 8 waiting, the defaults) are cut off once their body falls behind
// the minimum rate (408, AIP-193), and a normal PUT is then admitted:
// they cannot lock the publisher out of uploads. The default limits are
// used, so the test shows the wait a normal client sees with them.
func TestSlowBodies(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	srv, pub := startServer(t, net, gateway.Config{Publisher: true, MetricsAddress: "off", Wallets: gateway.WalletsConfig{N: 2}})
	const slots = gateway.DefaultPublisherRequests + gateway.DefaultPublisherBuffer
	start := time.Now()
	var slow []*slowClient
	for range slots {
		slow = append(slow, startSlowClient(t, srv.Addr()))
	}
	// Once the slow clients hold every slot, a normal client retries on
	// 429 until admitted (a try may also wait in the buffer); it must not
	// wait much past the slow bodies' grace period.
	time.Sleep(500 * time.Millisecond)
	// The bound: the 8 running slow clients are cut after the grace, the 8
	// admitted from the buffer after theirs; then the normal PUT is in (a
	// store takes well under a second here; the rest is the shared
	// machine's slack).
	const bound = 2*gateway.DefaultBodyRateGrace + 10*time.Second
	waitFrom := time.Now()
	hc := &http.Client{Timeout: bound}
	var waited time.Duration
	var tries, refused int
	for {
		tries++
		req, _ := http.NewRequest("PUT", pub+"/v1/blobs", bytes.NewReader(randomBytes(1000, uint64(77+tries))))
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if err == nil && resp.StatusCode == http.StatusOK {
			waited = time.Since(waitFrom)
			break
		}
		if err == nil && resp.StatusCode == http.StatusTooManyRequests {
			refused++
		} else if err != nil && time.Since(waitFrom) < bound {
			t.Fatalf("a normal PUT: %v", err)
		} else if err == nil {
			t.Fatalf("a normal PUT: %d", resp.StatusCode)
		}
		if time.Since(waitFrom) >= bound {
			t.Fatalf("a normal PUT was not admitted within %v (%d tries, %d refused) while %d clients trickled their bodies",
				bound, tries, refused, slots)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if refused == 0 && waited < time.Second {
		t.Fatalf("the slow clients never held the slots (a normal PUT went through in %v)", waited)
	}
	t.Logf("%d slow clients (1 B/s): a normal PUT was stored after waiting %v (%d tries, %d answered 429), %v after the slow clients connected",
		slots, waited.Round(10*time.Millisecond), tries, refused, time.Since(start).Round(10*time.Millisecond))
	// Every slow client was answered 408 with an AIP-193 error.
	var wg sync.WaitGroup
	for i, c := range slow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case code := <-c.status:
				body := <-c.body
				var e aip193
				if code != http.StatusRequestTimeout || json.Unmarshal(body, &e) != nil || e.Error.Code != http.StatusRequestTimeout ||
					len(e.Error.Details) != 1 || e.Error.Details[0].Reason != "BODY_TOO_SLOW" {
					t.Errorf("slow client %d: %d %s", i, code, body)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("slow client %d was never answered", i)
			}
		}()
	}
	wg.Wait()
}
