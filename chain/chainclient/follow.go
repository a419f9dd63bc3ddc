package chainclient

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/internal/fsutil"
)

// CursorStore persists a follower's position in the event stream.
type CursorStore interface {
	// Load returns the last saved cursor; the zero cursor if none.
	Load() (chain.Cursor, error)
	// Save records that every event up to and including c was handled.
	Save(c chain.Cursor) error
}

// FileCursor keeps the cursor in a small file, replaced atomically.
type FileCursor struct{ Path string }

// Load implements CursorStore.
func (f FileCursor) Load() (chain.Cursor, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return chain.Cursor{}, nil
	}
	if err != nil {
		return chain.Cursor{}, err
	}
	return chain.ParseCursor(string(b))
}

// Save implements CursorStore.
func (f FileCursor) Save(c chain.Cursor) error {
	return fsutil.WriteFileAtomic(f.Path, []byte(c.String()), 0o600)
}

// Subscription reads the event stream in cursor order from a starting
// cursor. It catches up with /events?after= pages and then polls for new
// blocks. The caller owns the cursor: a consumer that persists each
// event's cursor atomically with its effects, and restarts from it, sees
// every event exactly once.
type Subscription struct {
	c      *Client
	cursor chain.Cursor
	buf    []chain.EventRecord
}

// Subscribe returns a subscription to events after from (the zero cursor: all).
func (c *Client) Subscribe(from chain.Cursor) *Subscription {
	return &Subscription{c: c, cursor: from}
}

// Cursor is the cursor of the last event returned by Next.
func (s *Subscription) Cursor() chain.Cursor { return s.cursor }

// Next blocks until the next event, or ctx ends.
func (s *Subscription) Next(ctx context.Context) (chain.EventRecord, error) {
	for len(s.buf) == 0 {
		page, err := s.c.Events(ctx, s.cursor, chain.MaxEventsPerQuery)
		if err != nil {
			return chain.EventRecord{}, err
		}
		if len(page.Events) > 0 {
			s.buf = page.Events
			break
		}
		t := time.NewTimer(s.c.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return chain.EventRecord{}, ctx.Err()
		case <-t.C:
		}
	}
	ev := s.buf[0]
	s.buf = s.buf[1:]
	if !s.cursor.Less(ev.Cursor) && s.cursor != (chain.Cursor{}) {
		return chain.EventRecord{}, fmt.Errorf("chainclient: event %s out of order after %s", ev.Cursor, s.cursor)
	}
	s.cursor = ev.Cursor
	return ev, nil
}

// Follow hands every event after the stored cursor to handle, in order,
// and saves the cursor after each handled event. It returns when ctx ends
// or handle fails (the failed event is not saved, so it comes again after a
// restart). No event is skipped; an event whose handling completed but
// whose cursor was not yet saved when the process died is handed again.
func (c *Client) Follow(ctx context.Context, store CursorStore, handle func(chain.EventRecord) error) error {
	from, err := store.Load()
	if err != nil {
		return fmt.Errorf("chainclient: load cursor: %w", err)
	}
	sub := c.Subscribe(from)
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			return err
		}
		if err := handle(ev); err != nil {
			return err
		}
		if err := store.Save(ev.Cursor); err != nil {
			return fmt.Errorf("chainclient: save cursor: %w", err)
		}
	}
}
