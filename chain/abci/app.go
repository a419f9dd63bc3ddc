// Package abci runs the Walrus state machine (package chain) as a CometBFT
// ABCI 2.0 application: state in Pebble under the chain's typed key
// prefixes, an app hash over the previous hash and the sorted writes of
// each block, CheckTx with distinct rejection codes and per-account pending
// sequences, the queries of CHAIN.md, and restart without replay. node.go
// embeds a CometBFT node around it, started by one call.
package abci

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	"golang.org/x/crypto/blake2b"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/ids"
)

// Config configures an App.
type Config struct {
	// ChainID must equal the CometBFT chain ID; transaction signatures cover it.
	ChainID string `yaml:"chain_id"`
	// Dir is the Pebble directory of the application state.
	Dir string `yaml:"dir"`
	// Workers verify signatures ahead of the apply (0: GOMAXPROCS).
	Workers int `yaml:"workers"`
	// Logger receives rejected transactions at debug level and failures at error level.
	Logger *slog.Logger `yaml:"-"`
}

// Validate reports every problem of the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.ChainID == "" {
		errs = append(errs, errors.New("abci: config: chain_id is empty"))
	}
	if c.Dir == "" {
		errs = append(errs, errors.New("abci: config: dir is empty"))
	}
	return errors.Join(errs...)
}

// Keys of the application's own metadata, beside the chain's state.
var keyMeta = []byte{chain.PrefixReserved, 'm'} // height u64 ‖ app hash

// App is the ABCI application. It is safe for the concurrent use CometBFT
// makes of it (one connection each for consensus, mempool and queries).
type App struct {
	abcitypes.BaseApplication
	cfg Config
	db  *pebble.DB
	m   *chain.Machine
	log *slog.Logger

	closeOnce sync.Once

	mu struct {
		sync.RWMutex
		height  int64
		appHash []byte
		sys     *chain.System
	}
	// pending holds the block between FinalizeBlock and Commit; only the
	// consensus connection touches it.
	pending *pendingBlock
	mempool struct {
		sync.Mutex
		inFlight map[ids.Address]uint64 // transactions accepted since the last commit
	}
}

type pendingBlock struct {
	height  int64
	appHash []byte
	res     *chain.BlockResult
}

// Open opens (or creates) the application state in cfg.Dir.
func Open(cfg Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := chain.New(chain.Config{ChainID: cfg.ChainID, Workers: cfg.Workers})
	if err != nil {
		return nil, err
	}
	db, err := pebble.Open(cfg.Dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("abci: open state: %w", err)
	}
	a := &App{cfg: cfg, db: db, m: m, log: cfg.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.mempool.inFlight = map[ids.Address]uint64{}
	meta, err := a.Get(keyMeta)
	if err != nil {
		db.Close()
		return nil, err
	}
	if meta != nil {
		if len(meta) != 8+32 {
			db.Close()
			return nil, fmt.Errorf("abci: corrupt metadata of %d bytes", len(meta))
		}
		a.mu.height = int64(binary.BigEndian.Uint64(meta))
		a.mu.appHash = append([]byte(nil), meta[8:]...)
		if a.mu.sys, err = chain.LoadSystem(a); err != nil {
			db.Close()
			return nil, err
		}
	}
	return a, nil
}

// Close closes the state; later calls do nothing. CometBFT must be stopped first.
func (a *App) Close() error {
	var err error
	a.closeOnce.Do(func() { err = a.db.Close() })
	return err
}

// Get implements chain.Reader over the committed state.
func (a *App) Get(key []byte) ([]byte, error) {
	v, closer, err := a.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("abci: read state: %w", err)
	}
	out := append([]byte(nil), v...)
	return out, closer.Close()
}

// Height is the last committed height.
func (a *App) Height() int64 {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.mu.height
}

// System returns the committed system state (nil before genesis).
func (a *App) System() *chain.System {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.mu.sys
}

// Info implements abcitypes.Application: CometBFT's handshake replays only
// blocks above the height reported here.
func (a *App) Info(context.Context, *abcitypes.RequestInfo) (*abcitypes.ResponseInfo, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return &abcitypes.ResponseInfo{Data: "walrus-go", Version: "1", AppVersion: 1,
		LastBlockHeight: a.mu.height, LastBlockAppHash: a.mu.appHash}, nil
}

// InitChain implements abcitypes.Application: app_state is a chain.Genesis in JSON.
func (a *App) InitChain(_ context.Context, req *abcitypes.RequestInitChain) (*abcitypes.ResponseInitChain, error) {
	if req.ChainId != a.cfg.ChainID {
		return nil, fmt.Errorf("abci: chain ID %q, configured %q", req.ChainId, a.cfg.ChainID)
	}
	var g chain.Genesis
	if err := json.Unmarshal(req.AppStateBytes, &g); err != nil {
		return nil, fmt.Errorf("abci: genesis app_state: %w", err)
	}
	res, err := a.m.InitGenesis(&g, uint64(req.Time.UnixMilli()))
	if err != nil {
		return nil, err
	}
	hash := appHash(make([]byte, 32), 0, res.Writes.Writes())
	if err := a.commitWrites(0, hash, res); err != nil {
		return nil, err
	}
	return &abcitypes.ResponseInitChain{AppHash: hash}, nil
}

// appHash commits to the previous hash, the height and every write.
func appHash(prev []byte, height int64, ws []chain.Write) []byte {
	h, _ := blake2b.New256(nil)
	h.Write(prev)
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(height)))
	var lb [binary.MaxVarintLen64]byte
	for _, w := range ws {
		h.Write(lb[:binary.PutUvarint(lb[:], uint64(len(w.Key)))])
		h.Write(w.Key)
		if w.Deleted {
			h.Write([]byte{0})
			continue
		}
		h.Write([]byte{1})
		h.Write(lb[:binary.PutUvarint(lb[:], uint64(len(w.Value)))])
		h.Write(w.Value)
	}
	return h.Sum(nil)
}

// CheckTx implements abcitypes.Application. It rejects undecodable, badly
// signed, out-of-sequence, under-fee and unaffordable transactions; several
// transactions of one account may be in flight with consecutive sequences.
func (a *App) CheckTx(_ context.Context, req *abcitypes.RequestCheckTx) (*abcitypes.ResponseCheckTx, error) {
	st, err := chain.DecodeTx(req.Tx, a.cfg.ChainID)
	if err == nil {
		err = a.checkAccount(st)
	}
	if err != nil {
		code := chain.CodeOf(err)
		a.log.Debug("transaction rejected", "code", code, "err", err)
		return &abcitypes.ResponseCheckTx{Code: code, Log: err.Error(), Codespace: "walrus"}, nil
	}
	return &abcitypes.ResponseCheckTx{Code: chain.CodeOK, GasWanted: 1}, nil
}

func (a *App) checkAccount(st *chain.SignedTx) error {
	sys := a.System()
	if sys == nil {
		return fmt.Errorf("%w: no genesis yet", chain.ErrBalanceTooLow)
	}
	acct, err := chain.LoadAccount(a, st.Tx.Sender)
	if err != nil {
		return err
	}
	a.mempool.Lock()
	defer a.mempool.Unlock()
	pending := a.mempool.inFlight[st.Tx.Sender]
	// Committed state may be ahead of what the mempool saw.
	if err := chain.CheckAccount(sys, acct, &st.Tx, pending); err != nil {
		return err
	}
	a.mempool.inFlight[st.Tx.Sender] = pending + 1
	return nil
}

// FinalizeBlock implements abcitypes.Application: it executes the block
// over the committed state and keeps the writes for Commit.
func (a *App) FinalizeBlock(_ context.Context, req *abcitypes.RequestFinalizeBlock) (*abcitypes.ResponseFinalizeBlock, error) {
	if h := a.Height(); req.Height != h+1 && h != 0 {
		// Blocks are applied once, in order: a replay of a committed block is a bug.
		return nil, fmt.Errorf("abci: finalize block %d after committed height %d", req.Height, h)
	}
	res, err := a.m.ExecuteBlock(a, chain.Block{Height: uint64(req.Height), TimeMs: uint64(req.Time.UnixMilli()), Txs: req.Txs})
	if err != nil {
		a.log.Error("block execution failed", "height", req.Height, "err", err)
		return nil, err
	}
	a.mu.RLock()
	prev := a.mu.appHash
	a.mu.RUnlock()
	hash := appHash(prev, req.Height, res.Writes.Writes())
	a.pending = &pendingBlock{height: req.Height, appHash: hash, res: res}
	out := &abcitypes.ResponseFinalizeBlock{AppHash: hash, TxResults: make([]*abcitypes.ExecTxResult, len(req.Txs))}
	for i, tr := range res.Txs {
		r := &abcitypes.ExecTxResult{Code: tr.Code, Log: tr.Log, Codespace: "walrus",
			Data: (&chain.TxData{Digest: tr.Digest, Created: tr.Created}).Marshal()}
		if tr.Code != chain.CodeOK {
			r.Codespace = "walrus"
		}
		for _, ev := range tr.Events {
			r.Events = append(r.Events, abciEvent(ev))
		}
		out.TxResults[i] = r
	}
	for _, ev := range res.BlockEvents {
		out.Events = append(out.Events, abciEvent(ev))
	}
	return out, nil
}

// abciEvent turns a chain event into a CometBFT event: type = Walrus name,
// data = base64 BCS payload, indexed blob_id, object_id and epoch.
func abciEvent(r chain.EventRecord) abcitypes.Event {
	e := abcitypes.Event{Type: r.Event.Type, Attributes: []abcitypes.EventAttribute{
		{Key: "data", Value: base64.StdEncoding.EncodeToString(r.Event.Data)},
		{Key: "cursor", Value: r.Cursor.String()},
		{Key: "tx_digest", Value: r.TxDigest.String()},
		{Key: "epoch", Value: strconv.FormatUint(uint64(r.Event.Epoch), 10), Index: true},
	}}
	if r.Event.BlobID != nil {
		e.Attributes = append(e.Attributes, abcitypes.EventAttribute{Key: "blob_id", Value: r.Event.BlobID.String(), Index: true})
	}
	if r.Event.ObjectID != nil {
		e.Attributes = append(e.Attributes, abcitypes.EventAttribute{Key: "object_id", Value: r.Event.ObjectID.String(), Index: true})
	}
	return e
}

// Commit implements abcitypes.Application: it persists the pending block
// atomically with the new height and app hash.
func (a *App) Commit(context.Context, *abcitypes.RequestCommit) (*abcitypes.ResponseCommit, error) {
	p := a.pending
	if p == nil {
		return nil, errors.New("abci: commit without a finalized block")
	}
	a.pending = nil
	if err := a.commitWrites(p.height, p.appHash, p.res); err != nil {
		return nil, err
	}
	// The mempool rechecks what is left after the commit and counts it again.
	a.mempool.Lock()
	clear(a.mempool.inFlight)
	a.mempool.Unlock()
	return &abcitypes.ResponseCommit{}, nil
}

func (a *App) commitWrites(height int64, hash []byte, res *chain.BlockResult) error {
	batch := a.db.NewBatch()
	defer batch.Close()
	for _, w := range res.Writes.Writes() {
		var err error
		if w.Deleted {
			err = batch.Delete(w.Key, nil)
		} else {
			err = batch.Set(w.Key, w.Value, nil)
		}
		if err != nil {
			return fmt.Errorf("abci: write state: %w", err)
		}
	}
	meta := append(binary.BigEndian.AppendUint64(nil, uint64(height)), hash...)
	if err := batch.Set(keyMeta, meta, nil); err != nil {
		return err
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("abci: commit state: %w", err)
	}
	a.mu.Lock()
	a.mu.height, a.mu.appHash, a.mu.sys = height, hash, res.System
	a.mu.Unlock()
	return nil
}

// quietLogger keeps Pebble's informational messages out of the output.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
