package chainclient

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/ids"
)

// Signer is an account key with its next sequence number. One Signer per
// account and process: it hands out consecutive sequences, so several
// transactions can be in flight at once.
type Signer struct {
	key  ed25519.PrivateKey
	addr ids.Address
	// submit orders sign-and-submit: CheckTx wants an account's pending
	// sequences in order, so a transaction is submitted before the next
	// sequence is handed out (inclusion is awaited outside it).
	submit sync.Mutex
	mu     struct {
		sync.Mutex
		next uint64 // 0: unknown, read from the chain
	}
}

// NewSigner returns a signer for an ed25519 key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{key: key, addr: ids.AddressOf(key.Public().(ed25519.PublicKey))}
}

// Address is the signer's account address.
func (s *Signer) Address() ids.Address { return s.addr }

func (s *Signer) nextSequence(ctx context.Context, c *Client) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.next == 0 {
		next, err := c.NextSequence(ctx, s.addr)
		if err != nil {
			return 0, err
		}
		s.mu.next = next
	}
	seq := s.mu.next
	s.mu.next++
	return seq, nil
}

// resync forgets the sequence so that the next transaction reads it again.
func (s *Signer) resync() {
	s.mu.Lock()
	s.mu.next = 0
	s.mu.Unlock()
}

// TxResult is an included transaction.
type TxResult struct {
	Digest  ids.Digest
	Height  int64
	Index   uint32
	Code    uint32
	Log     string
	Events  []chain.EventRecord
	Created []ids.ObjectID
}

// Abort returns the chain's abort when the transaction aborted (nil when
// it succeeded; an abort code this client does not know is returned with
// its number and an empty name).
func (r *TxResult) Abort() *chain.Abort {
	if r.Code == chain.CodeOK {
		return nil
	}
	if a, ok := chain.AbortByCode(r.Code); ok {
		return a
	}
	return &chain.Abort{Code: r.Code}
}

// AbortedError is the error of an included transaction that aborted: it
// matches ErrAborted and its abort, so callers test
// errors.Is(err, chain.ENotOwner).
type AbortedError struct {
	Abort *chain.Abort
	Log   string // the chain's message, starting with the abort's name
}

func (e *AbortedError) Error() string { return fmt.Sprintf("%v: %s", ErrAborted, e.Log) }

// Is reports ErrAborted and the abort itself.
func (e *AbortedError) Is(target error) bool {
	if target == ErrAborted {
		return true
	}
	a, ok := target.(*chain.Abort)
	return ok && e.Abort != nil && a.Code == e.Abort.Code
}

// Unwrap is the abort.
func (e *AbortedError) Unwrap() error {
	if e.Abort == nil {
		return nil
	}
	return e.Abort
}

// Execute builds a transaction of calls, pays the chain's minimum fee,
// signs, submits and waits until it is in a block. An aborted transaction
// returns its result and an error wrapping ErrAborted.
func (c *Client) Execute(ctx context.Context, s *Signer, calls ...chain.Call) (*TxResult, error) {
	sys, err := c.System(ctx)
	if err != nil {
		return nil, err
	}
	return c.ExecuteWithFee(ctx, s, sys.MinFee, calls...)
}

// ExecuteWithFee is Execute with an explicit fee.
func (c *Client) ExecuteWithFee(ctx context.Context, s *Signer, fee uint64, calls ...chain.Call) (*TxResult, error) {
	hash, err := c.signAndSubmit(ctx, s, fee, calls)
	if err != nil {
		return nil, err
	}
	return c.WaitTx(ctx, hash)
}

// sequenceRetries bounds how often a transaction is re-signed after a
// wrong-sequence rejection: another process using the same account (two
// CLI commands, a CLI and a publisher) takes sequences this Signer does
// not know of, and each retry re-reads the account's next sequence,
// pending transactions included.
const sequenceRetries = 6

func (c *Client) signAndSubmit(ctx context.Context, s *Signer, fee uint64, calls []chain.Call) ([]byte, error) {
	s.submit.Lock()
	defer s.submit.Unlock()
	for attempt := 0; ; attempt++ {
		seq, err := s.nextSequence(ctx, c)
		if err != nil {
			return nil, err
		}
		tx := &chain.Tx{Sender: s.addr, Sequence: seq, Fee: fee, Calls: calls}
		raw, _ := chain.Sign(tx, c.chainID, s.key)
		hash, err := c.Submit(ctx, raw)
		var rej *RejectedError
		if errors.As(err, &rej) && rej.Code == chain.CodeWrongSequence && attempt < sequenceRetries {
			s.resync()
			if attempt > 0 { // let the other sender's transaction land
				select {
				case <-time.After(time.Duration(attempt) * 25 * time.Millisecond):
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			continue
		}
		if err != nil {
			if errors.As(err, &rej) {
				s.resync()
			}
			return nil, err
		}
		return hash, nil
	}
}

// Submit broadcasts signed transaction bytes and returns CometBFT's hash
// of them once CheckTx accepted them.
func (c *Client) Submit(ctx context.Context, raw []byte) ([]byte, error) {
	r, err := c.rpc.BroadcastTxSync(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("chainclient: broadcast: %w", err)
	}
	if r.Code != 0 {
		return nil, &RejectedError{Code: r.Code, Log: r.Log}
	}
	return r.Hash, nil
}

// TxHash is CometBFT's hash of transaction bytes (SHA-256), which its RPC
// indexes; the Walrus digest (chain.TxDigest) is a different value.
func TxHash(raw []byte) []byte {
	h := sha256.Sum256(raw)
	return h[:]
}

// WaitTx waits until the transaction with CometBFT hash is in a block.
func (c *Client) WaitTx(ctx context.Context, hash []byte) (*TxResult, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	t := time.NewTicker(c.poll)
	defer t.Stop()
	for {
		r, err := c.rpc.Tx(ctx, hash, false)
		if err == nil {
			return txResult(r.Height, r.Index, &r.TxResult)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("chainclient: waiting for transaction %X: %w (last error: %v)", hash, ctx.Err(), err)
		case <-t.C:
		}
	}
}

func txResult(height int64, index uint32, r *abcitypes.ExecTxResult) (*TxResult, error) {
	out := &TxResult{Height: height, Index: index, Code: r.Code, Log: r.Log}
	if len(r.Data) > 0 {
		d, err := chain.UnmarshalTxData(r.Data)
		if err != nil {
			return nil, err
		}
		out.Digest, out.Created = d.Digest, d.Created
	}
	for _, e := range r.Events {
		rec, ok, err := EventFromABCI(e)
		if err != nil {
			return nil, err
		}
		if ok {
			out.Events = append(out.Events, rec)
		}
	}
	if r.Code != chain.CodeOK {
		return out, &AbortedError{Abort: out.Abort(), Log: r.Log}
	}
	return out, nil
}

// EventFromABCI decodes a Walrus event from its CometBFT form; ok is false
// for events that are not the application's (such as CometBFT's own tx events).
func EventFromABCI(e abcitypes.Event) (chain.EventRecord, bool, error) {
	var rec chain.EventRecord
	attrs := map[string]string{}
	for _, a := range e.Attributes {
		attrs[a.Key] = a.Value
	}
	data, ok := attrs["data"]
	cur, ok2 := attrs["cursor"]
	if !ok || !ok2 {
		return rec, false, nil
	}
	var err error
	rec.Event.Type = e.Type
	if rec.Event.Data, err = base64.StdEncoding.DecodeString(data); err != nil {
		return rec, false, fmt.Errorf("chainclient: event data: %w", err)
	}
	if rec.Cursor, err = chain.ParseCursor(cur); err != nil {
		return rec, false, err
	}
	if rec.TxDigest, err = ids.ParseDigest(attrs["tx_digest"]); err != nil {
		return rec, false, err
	}
	ep, err := strconv.ParseUint(attrs["epoch"], 10, 32)
	if err != nil {
		return rec, false, fmt.Errorf("chainclient: event epoch: %w", err)
	}
	rec.Event.Epoch = uint32(ep)
	if s, ok := attrs["blob_id"]; ok {
		id, err := blob.ParseID(s)
		if err != nil {
			return rec, false, err
		}
		rec.Event.BlobID = &id
	}
	if s, ok := attrs["object_id"]; ok {
		id, err := ids.ParseObjectID(s)
		if err != nil {
			return rec, false, err
		}
		rec.Event.ObjectID = &id
	}
	return rec, true, nil
}
