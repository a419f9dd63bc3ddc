package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/nodeapi"
)

// refusal is an answer a flaky transport gives instead of a node's.
type refusal struct {
	status, reason string
}

// flakyTransport stands between the client and the storage nodes: to each
// node, it refuses the first requests of each kind (metadata upload, sliver
// upload, confirmation) with the answers its plan lists for the kind, as a
// node does for a moment when it is busy or still moving a blob's metadata
// from its pending cache to its store; later requests reach the node.
type flakyTransport struct {
	next http.RoundTripper // the client's transport to the nodes

	mu   sync.Mutex
	plan map[string][]refusal // by request kind
	sent map[string]int       // refusals sent, by node and kind ("host kind")
}

// setPlan makes the transport follow plan from now on, as if no request had
// been refused yet.
func (t *flakyTransport) setPlan(plan map[string][]refusal) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.plan, t.sent = plan, map[string]int{}
}

// refused returns the refusals sent to all nodes, by kind.
func (t *flakyTransport) refused() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]int{}
	for key, n := range t.sent {
		out[key[strings.LastIndexByte(key, ' ')+1:]] += n
	}
	return out
}

// kind classifies a request to a node: "metadata" and "slivers" for the
// uploads (batched or not), "confirmation", or "" for anything else.
func kind(r *http.Request) string {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodPut && strings.HasSuffix(p, "/metadata"):
		return "metadata"
	case r.Method == http.MethodPut && strings.Contains(p, "/slivers"):
		return "slivers"
	case r.Method == http.MethodGet && strings.Contains(p, "/confirmation/"):
		return "confirmation"
	}
	return ""
}

func (t *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	k := kind(r)
	t.mu.Lock()
	key := r.URL.Host + " " + k
	i := t.sent[key]
	var ref *refusal
	if k != "" && i < len(t.plan[k]) {
		ref = &t.plan[k][i]
		t.sent[key]++
	}
	t.mu.Unlock()
	if ref == nil {
		return t.next.RoundTrip(r)
	}
	if r.Body != nil {
		r.Body.Close()
	}
	e := httpx.New(ref.status, ref.reason, "refused by the test")
	e.Domain = nodeapi.DomainStorageNode
	if ref.status == httpx.StatusUnavailable {
		e.Domain, e.RetryAfter = httpx.DomainGlobal, 1
	}
	w := httptest.NewRecorder()
	httpx.WriteError(w, e)
	resp := w.Result()
	resp.Request = r
	return resp, nil
}

var (
	metadataNotFound  = refusal{"FAILED_PRECONDITION", nodeapi.ReasonMetadataNotFound}
	unavailable       = refusal{httpx.StatusUnavailable, httpx.ReasonUnavailable}
	resourceExhausted = refusal{httpx.StatusResourceExhausted, "RESOURCE_EXHAUSTED"}
)

// TestStoreRetriesTransientRefusals: every node refuses some requests of a
// store for a moment, and the client repeats them: the store succeeds, on
// every node. Before the client retried them, every node failed and so did
// the store.
//   - METADATA_NOT_FOUND to the first slivers, right after the node
//     accepted the metadata (its pending cache and its store disagreeing
//     for a moment while it flushes the blob's pending data).
//   - 503 to the metadata, 503 then 429 to the slivers (after a
//     METADATA_NOT_FOUND), 429 to the confirmation.
func TestStoreRetriesTransientRefusals(t *testing.T) {
	tr := &flakyTransport{}
	wrap := func(pinned http.RoundTripper) http.RoundTripper { tr.next = pinned; return tr }
	net := testnet.Start(t, testnet.Config{Client: client.Config{WrapTransport: wrap}})
	for i, c := range []struct {
		name string
		plan map[string][]refusal
	}{
		{"metadata not found", map[string][]refusal{"slivers": {metadataNotFound}}},
		{"busy", map[string][]refusal{
			"metadata":     {unavailable},
			"slivers":      {metadataNotFound, unavailable, resourceExhausted},
			"confirmation": {resourceExhausted},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr.setPlan(c.plan)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			data := []byte(strings.Repeat("transient refusals are retried: "+c.name+". ", 1000+i))
			res, err := net.Client.Store(ctx, data, client.StoreOptions{Epochs: 2})
			if err != nil {
				t.Fatalf("store: %v", err)
			}
			if err := net.Client.WaitUploads(ctx); err != nil {
				t.Fatal(err)
			}
			if len(res.NodeErrors) != 0 {
				t.Fatalf("node errors: %v", res.NodeErrors)
			}
			// Every node refused its metadata and slivers as planned; the
			// nodes asked to confirm (all but, perhaps, those of the tail:
			// no confirmation is needed once the blob is certified) refused
			// a confirmation first.
			got, n := tr.refused(), net.NodeCount()
			if got["metadata"] != n*len(c.plan["metadata"]) || got["slivers"] != n*len(c.plan["slivers"]) ||
				len(c.plan["confirmation"]) > 0 && got["confirmation"] == 0 {
				t.Fatalf("refusals sent to %d nodes: %v, plan %v", n, got, c.plan)
			}
			for i := range n {
				if m, err := net.Node(i).MissingSlivers(res.BlobID); err != nil || m != 0 {
					t.Fatalf("node %d misses %d slivers (%v)", i, m, err)
				}
			}
		})
	}
}
