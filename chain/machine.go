package chain

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/ids"
)

// Config configures a Machine.
type Config struct {
	// ChainID is the network's chain ID; signatures cover it.
	ChainID string `yaml:"chain_id"`
	// Workers is the number of goroutines that check transaction and
	// certificate signatures ahead of the sequential apply (0: GOMAXPROCS).
	Workers int `yaml:"workers"`
}

// Validate reports every problem of the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.ChainID == "" {
		errs = append(errs, errors.New("chain: config: chain_id is empty"))
	}
	if c.Workers < 0 {
		errs = append(errs, fmt.Errorf("chain: config: workers %d is negative", c.Workers))
	}
	return errors.Join(errs...)
}

// Machine executes blocks. It keeps only caches (the parsed committee), so
// one Machine can serve any state; it is not safe for concurrent use.
type Machine struct {
	cfg   Config
	cache struct {
		epoch   uint32
		members []Assignment
		c       *committee.Committee
	}
}

// New returns a Machine.
func New(cfg Config) (*Machine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	return &Machine{cfg: cfg}, nil
}

// ChainID returns the configured chain ID.
func (m *Machine) ChainID() string { return m.cfg.ChainID }

// Block is a block to execute: its height, its time (milliseconds since
// the Unix epoch, as agreed by consensus) and its transactions.
type Block struct {
	Height uint64
	TimeMs uint64
	Txs    [][]byte
}

// TxResult is the outcome of one transaction.
type TxResult struct {
	Code    uint32
	Log     string
	Digest  ids.Digest
	Events  []EventRecord
	Created []ids.ObjectID
}

// BlockResult is the outcome of a block: per-transaction results, the
// events of block processing, and every write, to be persisted atomically.
type BlockResult struct {
	Txs         []TxResult
	BlockEvents []EventRecord
	Writes      *Overlay
	System      *System
}

// LoadSystem reads the system state.
func LoadSystem(r Reader) (*System, error) {
	b, err := r.Get(KeySystem())
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, errors.New("chain: no system state (genesis not run)")
	}
	return UnmarshalSystem(b)
}

// LoadAccount reads an account; an absent account is the zero Account.
func LoadAccount(r Reader, a ids.Address) (Account, error) {
	b, err := r.Get(KeyAccount(a))
	if err != nil || b == nil {
		return Account{}, err
	}
	return UnmarshalAccount(b)
}

// LoadObject reads an object, or returns nil if it does not exist.
func LoadObject(r Reader, id ids.ObjectID) (*Object, error) {
	b, err := r.Get(KeyObject(id))
	if err != nil || b == nil {
		return nil, err
	}
	return UnmarshalObject(b)
}

// LoadRate reads a pool's exchange rate at an epoch.
func LoadRate(r Reader, pool ids.ObjectID, epoch uint32) (ExchangeRate, bool, error) {
	b, err := r.Get(keyRate(pool, epoch))
	if err != nil || b == nil {
		return ExchangeRate{}, false, err
	}
	rate, err := unmarshalRate(b)
	return rate, err == nil, err
}

// Committee returns the parsed committee of the current epoch of sys.
func (m *Machine) Committee(sys *System) (*committee.Committee, error) {
	if m.cache.c != nil && m.cache.epoch == sys.Epoch && sameAssignments(m.cache.members, sys.Committee) {
		return m.cache.c, nil
	}
	c, err := BuildCommittee(sys.Epoch, int(sys.NShards), sys.Committee)
	if err != nil {
		return nil, err
	}
	m.cache.epoch, m.cache.members, m.cache.c = sys.Epoch, sys.Committee, c
	return c, nil
}

// BuildCommittee parses a committee's keys (without network details).
func BuildCommittee(epoch uint32, n int, as []Assignment) (*committee.Committee, error) {
	members := make([]committee.Member, len(as))
	for i, a := range as {
		pk, err := bls.ParsePublicKey(a.PublicKey[:])
		if err != nil {
			return nil, fmt.Errorf("chain: committee member %s: %w", a.NodeID, err)
		}
		members[i] = committee.Member{NodeID: a.NodeID, PublicKey: pk, Shards: a.Shards}
	}
	return committee.New(epoch, n, members)
}

func sameAssignments(a, b []Assignment) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].NodeID != b[i].NodeID || a[i].PublicKey != b[i].PublicKey || len(a[i].Shards) != len(b[i].Shards) {
			return false
		}
		for j := range a[i].Shards {
			if a[i].Shards[j] != b[i].Shards[j] {
				return false
			}
		}
	}
	return true
}

type certKey struct{ tx, call int }

// precheck decodes every transaction and verifies every certificate in
// parallel. Results depend only on the bytes and the block's committee, so
// using them in the sequential apply is deterministic.
func (m *Machine) precheck(txs [][]byte, c *committee.Committee) ([]*SignedTx, []error, map[certKey]error) {
	decoded := make([]*SignedTx, len(txs))
	decErr := make([]error, len(txs))
	m.parallel(len(txs), func(i int) { decoded[i], decErr[i] = DecodeTx(txs[i], m.cfg.ChainID) })
	var keys []certKey
	for i, st := range decoded {
		if st == nil {
			continue
		}
		for j, call := range st.Tx.Calls {
			switch call.(type) {
			case *CertifyBlob, *InvalidateBlobID:
				keys = append(keys, certKey{i, j})
			}
		}
	}
	results := make([]error, len(keys))
	if c != nil && c.Len() > 0 {
		m.parallel(len(keys), func(i int) {
			k := keys[i]
			switch call := decoded[k.tx].Tx.Calls[k.call].(type) {
			case *CertifyBlob:
				results[i] = c.VerifyBitmap(call.SignersBitmap, call.Message, call.Signature[:], committee.Quorum)
			case *InvalidateBlobID:
				results[i] = c.VerifyBitmap(call.SignersBitmap, call.Message, call.Signature[:], committee.Validity)
			}
		})
	}
	certs := make(map[certKey]error, len(keys))
	if c != nil && c.Len() > 0 {
		for i, k := range keys {
			certs[k] = results[i]
		}
	}
	return decoded, decErr, certs
}

// parallel runs f(0..n-1) on the configured number of workers and waits.
func (m *Machine) parallel(n int, f func(int)) {
	w := min(m.cfg.Workers, n)
	if w <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	for range w {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	wg.Wait()
}

// ExecuteBlock runs a block over the committed state r: every transaction
// in order, then the epoch timeline at the block's time. It returns the
// results and the writes; r is not modified. An error means the state
// could not be read or is corrupt, and the block must not be committed.
func (m *Machine) ExecuteBlock(r Reader, b Block) (*BlockResult, error) {
	block := NewOverlay(r)
	sys, err := LoadSystem(block)
	if err != nil {
		return nil, err
	}
	comm, err := m.Committee(sys)
	if err != nil {
		return nil, err
	}
	decoded, decErr, certs := m.precheck(b.Txs, comm)
	env := &blockEnv{block: block, height: b.Height, timeMs: b.TimeMs, comm: comm, certs: certs}
	res := &BlockResult{Txs: make([]TxResult, len(b.Txs)), Writes: block}
	for i := range b.Txs {
		tr := &res.Txs[i]
		tr.Digest = ids.TxDigest(b.Txs[i])
		if decErr[i] != nil {
			tr.Code, tr.Log = CodeOf(decErr[i]), decErr[i].Error()
			continue
		}
		if sys, err = m.applyTx(env, sys, i, decoded[i], tr); err != nil {
			return nil, err
		}
	}
	if sys, err = m.applyTimeline(env, sys, len(b.Txs), res); err != nil {
		return nil, err
	}
	sys.Height, sys.TimeMs = b.Height, b.TimeMs
	block.Set(KeySystem(), sys.Marshal())
	res.System = sys
	return res, nil
}

// blockEnv is what every step of one ExecuteBlock shares: the block's
// overlay of writes, its height and time, and the committee and
// certificate checks that precheck worked out for it.
type blockEnv struct {
	block          *Overlay
	height, timeMs uint64
	comm           *committee.Committee
	certs          map[certKey]error
}

// applyTx applies the decoded transaction st, the i-th of the block, on top
// of env.block and fills in tr. It returns the system state after it (sys
// itself when the transaction aborts or fails its account check). A
// transaction that aborts still pays its fee and uses up its sequence; only
// an error that is not an abort (unreadable or corrupt state) is returned.
func (m *Machine) applyTx(env *blockEnv, sys *System, i int, st *SignedTx, tr *TxResult) (*System, error) {
	acct, err := LoadAccount(env.block, st.Tx.Sender)
	if err != nil {
		return nil, err
	}
	if err := checkAccount(sys, acct, &st.Tx, 0); err != nil {
		tr.Code, tr.Log = CodeOf(err), err.Error()
		return sys, nil
	}
	tx := &txCtx{m: m, st: NewOverlay(env.block), sys: sys.clone(), now: env.timeMs, sender: st.Tx.Sender,
		digest: st.Digest, comm: env.comm, certs: env.certs, txIndex: i}
	aerr := tx.run(&st.Tx)
	if aerr != nil && !isAbort(aerr) {
		return nil, aerr
	}
	// Fee and sequence are charged whether or not the calls succeed.
	feeCtx := NewOverlay(env.block)
	if aerr == nil {
		feeCtx = tx.st
		sys = tx.sys
	}
	if err := chargeFee(feeCtx, sys, &st.Tx); err != nil {
		return nil, err
	}
	if aerr != nil {
		a, _ := AbortOf(aerr)
		tr.Code, tr.Log = a.Code, aerr.Error()
	} else {
		tr.Created = tx.created
		for j, ev := range tx.events {
			rec := EventRecord{Cursor: Cursor{env.height, uint32(i), uint32(j)}, TxDigest: st.Digest, Event: ev}
			feeCtx.Set(KeyEvent(rec.Cursor), rec.Marshal())
			tr.Events = append(tr.Events, rec)
		}
	}
	env.block.Merge(feeCtx)
	return sys, nil
}

// chargeFee takes the fee of t from its sender's account in st (never
// below zero), sets the account's sequence to t's, and accounts for the
// burned fee in sys.
func chargeFee(st *Overlay, sys *System, t *Tx) error {
	acct, err := LoadAccount(st, t.Sender)
	if err != nil {
		return err
	}
	acct.Balance -= min(t.Fee, acct.Balance)
	acct.Sequence = t.Sequence
	st.Set(KeyAccount(t.Sender), acct.Marshal())
	sys.Burned += t.Fee
	sys.TotalSupply -= min(t.Fee, sys.TotalSupply)
	return nil
}

// applyTimeline runs the block processing that follows the transactions
// (the epoch timeline at the block's time) on sys, writes its events under
// the pseudo-transaction index txCount, records them in res, and returns
// the system state after it.
func (m *Machine) applyTimeline(env *blockEnv, sys *System, txCount int, res *BlockResult) (*System, error) {
	bc := &txCtx{m: m, st: env.block, sys: sys, now: env.timeMs, digest: ids.BlockDigest(env.height), comm: env.comm}
	if err := bc.advanceTime(); err != nil {
		return nil, err
	}
	for j, ev := range bc.events {
		rec := EventRecord{Cursor: Cursor{env.height, uint32(txCount), uint32(j)}, TxDigest: bc.digest, Event: ev}
		env.block.Set(KeyEvent(rec.Cursor), rec.Marshal())
		res.BlockEvents = append(res.BlockEvents, rec)
	}
	return bc.sys, nil
}

// checkAccount checks what CheckTx checks against an account: the
// sequence (committed plus pending transactions), the fee and the balance.
func checkAccount(sys *System, acct Account, t *Tx, pending uint64) error {
	if want := acct.Sequence + pending + 1; t.Sequence != want {
		return fmt.Errorf("%w: sequence %d, want %d", ErrWrongSequence, t.Sequence, want)
	}
	if t.Fee < sys.MinFee {
		return fmt.Errorf("%w: fee %d below the minimum %d", ErrFeeTooLow, t.Fee, sys.MinFee)
	}
	if acct.Balance < t.Fee {
		return fmt.Errorf("%w: balance %d below the fee %d", ErrBalanceTooLow, acct.Balance, t.Fee)
	}
	return nil
}

// Errors of CheckAccount.
var (
	// ErrWrongSequence: the sequence is not the account's next.
	ErrWrongSequence = errors.New("chain: wrong sequence")
	// ErrFeeTooLow: the fee is below the chain's minimum.
	ErrFeeTooLow = errors.New("chain: fee too low")
	// ErrBalanceTooLow: the account cannot pay the fee.
	ErrBalanceTooLow = errors.New("chain: balance below fee")
)

// CheckAccount is CheckTx's stateful check: given the committed account
// and the number of its transactions already accepted into the mempool, is
// t the next one and can it pay its fee?
func CheckAccount(sys *System, acct Account, t *Tx, pending uint64) error {
	return checkAccount(sys, acct, t, pending)
}

// CodeOf maps an error of DecodeTx or CheckAccount, or an abort, to its result code.
func CodeOf(err error) uint32 {
	switch {
	case err == nil:
		return CodeOK
	case errors.Is(err, ErrUndecodable):
		return CodeUndecodable
	case errors.Is(err, ErrBadSignature):
		return CodeBadSignature
	case errors.Is(err, ErrWrongSequence):
		return CodeWrongSequence
	case errors.Is(err, ErrFeeTooLow):
		return CodeFeeTooLow
	case errors.Is(err, ErrBalanceTooLow):
		return CodeBalanceTooLow
	}
	if a, ok := AbortOf(err); ok {
		return a.Code
	}
	return CodeUndecodable
}

func isAbort(err error) bool {
	_, ok := AbortOf(err)
	return ok
}

func (s *System) clone() *System {
	c, err := UnmarshalSystem(s.Marshal())
	if err != nil {
		panic(fmt.Sprintf("chain: system state does not round-trip: %v", err))
	}
	return c
}
