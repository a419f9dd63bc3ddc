package gateway

import (
	"container/list"
	"sync"
	"time"
)

// cache is an LRU of values bounded by their total size in bytes, each
// entry living until its own deadline. A value larger than a quarter of
// the bound is not kept (it would evict everything else).
type cache[K comparable, V any] struct {
	limit int64
	now   func() time.Time

	mu struct {
		sync.Mutex
		size  int64
		order *list.List // front: most recently used
		items map[K]*list.Element
	}
}

type cacheEntry[K comparable, V any] struct {
	key      K
	value    V
	size     int64
	deadline time.Time
}

// newCache returns a cache of at most limit bytes (limit <= 0: keeps nothing).
func newCache[K comparable, V any](limit int64, now func() time.Time) *cache[K, V] {
	c := &cache[K, V]{limit: limit, now: now}
	c.mu.order = list.New()
	c.mu.items = map[K]*list.Element{}
	return c
}

// get returns the live value of key.
func (c *cache[K, V]) get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.mu.items[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*cacheEntry[K, V])
	if !c.now().Before(e.deadline) {
		c.removeLocked(el)
		return zero, false
	}
	c.mu.order.MoveToFront(el)
	return e.value, true
}

// fits reports whether a value of size bytes would be kept.
func (c *cache[K, V]) fits(size int64) bool { return size <= c.limit/4 }

// put stores value (of size bytes) until deadline, evicting the least
// recently used entries as needed.
func (c *cache[K, V]) put(key K, value V, size int64, deadline time.Time) {
	if size > c.limit/4 || !c.now().Before(deadline) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.mu.items[key]; ok {
		c.removeLocked(el)
	}
	c.mu.items[key] = c.mu.order.PushFront(&cacheEntry[K, V]{key: key, value: value, size: size, deadline: deadline})
	c.mu.size += size
	for c.mu.size > c.limit {
		c.removeLocked(c.mu.order.Back())
	}
}

// remove drops key.
func (c *cache[K, V]) remove(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.mu.items[key]; ok {
		c.removeLocked(el)
	}
}

// removeFunc drops every key for which drop reports true.
func (c *cache[K, V]) removeFunc(drop func(K) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, el := range c.mu.items {
		if drop(k) {
			c.removeLocked(el)
		}
	}
}

func (c *cache[K, V]) removeLocked(el *list.Element) {
	e := c.mu.order.Remove(el).(*cacheEntry[K, V])
	delete(c.mu.items, e.key)
	c.mu.size -= e.size
}

// stats returns the entries and bytes held.
func (c *cache[K, V]) stats() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.mu.items), c.mu.size
}
