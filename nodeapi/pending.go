package nodeapi

import (
	"errors"
	"sync"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
)

// errSaturated: the pending cache is full.
var errSaturated = errors.New("nodeapi: pending cache saturated")

// pendingCache holds verified metadata and slivers of blobs whose
// registration the node has not seen yet (uploads with ?pending=true), in
// memory, bounded in bytes and blobs; entries older than the TTL are
// dropped. Nothing in it is confirmed or served.
type pendingCache struct {
	cfg PendingConfig
	now func() time.Time

	mu    sync.Mutex
	blobs map[blob.ID]*pendingBlob
	bytes int64
}

type sliverKey struct {
	shard uint16
	t     blob.SliverType
}

type pendingBlob struct {
	added   time.Time
	md      *blob.MetadataWithID
	slivers map[sliverKey]*redstuff.Sliver
	bytes   int64
}

func newPendingCache(cfg PendingConfig, now func() time.Time) *pendingCache {
	return &pendingCache{cfg: cfg, now: now, blobs: map[blob.ID]*pendingBlob{}}
}

// expireLocked drops entries older than the TTL.
func (c *pendingCache) expireLocked() {
	cutoff := c.now().Add(-c.cfg.TTL)
	for id, p := range c.blobs {
		if p.added.Before(cutoff) {
			c.bytes -= p.bytes
			delete(c.blobs, id)
		}
	}
}

// entryLocked returns the blob's entry, creating it if there is room.
func (c *pendingCache) entryLocked(id blob.ID, size int64) (*pendingBlob, error) {
	c.expireLocked()
	if c.bytes+size > c.cfg.MaxBytes {
		return nil, errSaturated
	}
	p := c.blobs[id]
	if p == nil {
		if len(c.blobs) >= c.cfg.MaxBlobs {
			return nil, errSaturated
		}
		p = &pendingBlob{added: c.now(), slivers: map[sliverKey]*redstuff.Sliver{}}
		c.blobs[id] = p
	}
	return p, nil
}

func (c *pendingCache) putMetadata(md *blob.MetadataWithID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.blobs[md.ID]; p != nil && p.md != nil {
		return nil
	}
	size := int64(len(md.Hashes)*64 + 64)
	p, err := c.entryLocked(md.ID, size)
	if err != nil {
		return err
	}
	p.md = md
	p.bytes += size
	c.bytes += size
	return nil
}

func (c *pendingCache) putSliver(id blob.ID, shard uint16, s *redstuff.Sliver) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := sliverKey{shard, s.Type}
	if p := c.blobs[id]; p != nil && p.slivers[k] != nil {
		return nil
	}
	size := int64(len(s.Data) + 16)
	p, err := c.entryLocked(id, size)
	if err != nil {
		return err
	}
	p.slivers[k] = s
	p.bytes += size
	c.bytes += size
	return nil
}

// putSlivers buffers slivers of one blob, all of them or (errSaturated)
// none. Slivers already buffered are kept as they are.
func (c *pendingCache) putSlivers(id blob.ID, slivers []ShardSliver) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked()
	old := c.blobs[id]
	var size int64
	for _, x := range slivers {
		if old == nil || old.slivers[sliverKey{x.Shard, x.Sliver.Type}] == nil {
			size += int64(len(x.Sliver.Data) + 16)
		}
	}
	p, err := c.entryLocked(id, size)
	if err != nil {
		return err
	}
	for _, x := range slivers {
		k := sliverKey{x.Shard, x.Sliver.Type}
		if p.slivers[k] != nil {
			continue
		}
		p.slivers[k] = x.Sliver
		n := int64(len(x.Sliver.Data) + 16)
		p.bytes += n
		c.bytes += n
	}
	return nil
}

func (c *pendingCache) metadata(id blob.ID) *blob.MetadataWithID {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.blobs[id]; p != nil && !p.added.Before(c.now().Add(-c.cfg.TTL)) {
		return p.md
	}
	return nil
}

func (c *pendingCache) hasSliver(id blob.ID, shard uint16, t blob.SliverType) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.blobs[id]
	return p != nil && p.slivers[sliverKey{shard, t}] != nil && !p.added.Before(c.now().Add(-c.cfg.TTL))
}

// peek returns a snapshot of a blob's pending data (nil if none or
// expired), leaving it in the cache: uploads racing with the flush still
// find the metadata until remove.
func (c *pendingCache) peek(id blob.ID) *pendingBlob {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.blobs[id]
	if p == nil || p.added.Before(c.now().Add(-c.cfg.TTL)) {
		return nil
	}
	snap := &pendingBlob{added: p.added, md: p.md, slivers: make(map[sliverKey]*redstuff.Sliver, len(p.slivers)), bytes: p.bytes}
	for k, v := range p.slivers {
		snap.slivers[k] = v
	}
	return snap
}

// remove drops the slivers of snap (and the metadata) from the cache; what
// was added after the snapshot stays for the next flush.
func (c *pendingCache) remove(id blob.ID, snap *pendingBlob) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.blobs[id]
	if p == nil {
		return
	}
	for k := range snap.slivers {
		if s := p.slivers[k]; s != nil {
			delete(p.slivers, k)
			size := int64(len(s.Data) + 16)
			p.bytes -= size
			c.bytes -= size
		}
	}
	if len(p.slivers) == 0 {
		c.bytes -= p.bytes
		delete(c.blobs, id)
	}
}

// take removes and returns a blob's pending data (nil if none).
func (c *pendingCache) take(id blob.ID) *pendingBlob {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.blobs[id]
	if p != nil {
		delete(c.blobs, id)
		c.bytes -= p.bytes
		if p.added.Before(c.now().Add(-c.cfg.TTL)) {
			return nil
		}
	}
	return p
}

func (c *pendingCache) size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}
