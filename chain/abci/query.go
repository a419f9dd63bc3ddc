package abci

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/ids"

	"github.com/cockroachdb/pebble/v2"
	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
)

// Query result codes.
const (
	QueryOK       uint32 = 0
	QueryBadPath  uint32 = 1
	QueryNotFound uint32 = 2
	QueryInternal uint32 = 3
)

var errNotFound = errors.New("not found")

// Query implements abcitypes.Application over the committed state. Paths
// (answers are BCS, see package chain's query types):
//
//	/system                    chain.System
//	/committee/{epoch}         chain.CommitteeInfo (epoch: a number, current, previous or next)
//	/account/{address}         chain.Account
//	/account/{address}/pending u64: the account's transactions accepted into the
//	                           mempool and not yet committed (not committed state:
//	                           a sender's next sequence is Sequence + pending + 1)
//	/object/{id}               chain.Object
//	/blobs/owner/{address}     objects (Blob)
//	/storage/owner/{address}   objects (Storage)
//	/blobs/id/{blob_id}        chain.BlobStatus
//	/pools                     objects (StakingPool)
//	/staked/{address}          objects (StakedWal)
//	/events?after=H.T.E&limit=N chain.EventPage
func (a *App) Query(_ context.Context, req *abcitypes.RequestQuery) (*abcitypes.ResponseQuery, error) {
	a.mu.RLock()
	height := a.mu.height
	a.mu.RUnlock()
	val, err := a.query(req.Path, height)
	resp := &abcitypes.ResponseQuery{Height: height, Value: val, Codespace: "walrus"}
	switch {
	case err == nil:
	case errors.Is(err, errNotFound):
		resp.Code, resp.Log = QueryNotFound, err.Error()
	case errors.Is(err, ids.ErrParse), errors.Is(err, blob.ErrInvalidID), errors.Is(err, errBadPath):
		resp.Code, resp.Log = QueryBadPath, err.Error()
	default:
		resp.Code, resp.Log = QueryInternal, err.Error()
	}
	return resp, nil
}

var errBadPath = errors.New("unknown query path")

// query answers a query path (see Query) from the committed state at height.
func (a *App) query(path string, height int64) ([]byte, error) {
	u, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadPath, err)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	sys := a.System()
	if sys == nil {
		return nil, fmt.Errorf("%w: no state before genesis", errNotFound)
	}
	switch {
	case len(parts) == 1 && parts[0] == "system":
		return sys.Marshal(), nil
	case len(parts) == 2 && parts[0] == "committee":
		return a.queryCommittee(sys, parts[1])
	case len(parts) == 2 && parts[0] == "account":
		return a.queryAccount(parts[1])
	case len(parts) == 3 && parts[0] == "account" && parts[2] == "pending":
		return a.queryPending(parts[1])
	case len(parts) == 2 && parts[0] == "object":
		return a.queryObject(parts[1])
	case len(parts) == 3 && parts[0] == "blobs" && parts[1] == "owner":
		return a.queryOwned(parts[2], chain.KindBlob)
	case len(parts) == 3 && parts[0] == "storage" && parts[1] == "owner":
		return a.queryOwned(parts[2], chain.KindStorage)
	case len(parts) == 3 && parts[0] == "blobs" && parts[1] == "id":
		id, err := blob.ParseID(parts[2])
		if err != nil {
			return nil, err
		}
		return a.blobStatus(id)
	case len(parts) == 1 && parts[0] == "pools":
		return a.queryPools(sys)
	case len(parts) == 2 && parts[0] == "staked":
		return a.queryOwned(parts[1], chain.KindStakedWal)
	case len(parts) == 1 && parts[0] == "events":
		return a.queryEvents(u.Query(), height)
	}
	return nil, fmt.Errorf("%w: %q", errBadPath, path)
}

// queryAccount answers /account/{address}: the account, or the zero
// Account if the address has never been written (every address exists).
func (a *App) queryAccount(address string) ([]byte, error) {
	addr, err := ids.ParseAddress(address)
	if err != nil {
		return nil, err
	}
	b, err := a.Get(chain.KeyAccount(addr))
	if b == nil && err == nil {
		b = (&chain.Account{}).Marshal()
	}
	return b, err
}

// queryPending answers /account/{address}/pending: the number of the
// account's transactions in the mempool, which is not committed state but
// what a sender needs to pick its next sequence.
func (a *App) queryPending(address string) ([]byte, error) {
	addr, err := ids.ParseAddress(address)
	if err != nil {
		return nil, err
	}
	a.mempool.Lock()
	n := a.mempool.inFlight[addr]
	a.mempool.Unlock()
	return bcs.AppendU64(nil, n), nil
}

// queryObject answers /object/{id}; an object that does not exist is
// errNotFound.
func (a *App) queryObject(objectID string) ([]byte, error) {
	id, err := ids.ParseObjectID(objectID)
	if err != nil {
		return nil, err
	}
	b, err := a.Get(chain.KeyObject(id))
	if b == nil && err == nil {
		return nil, fmt.Errorf("%w: object %s", errNotFound, id)
	}
	return b, err
}

// queryOwned answers the routes that list the objects of one kind owned
// by an address (/blobs/owner, /storage/owner, /staked).
func (a *App) queryOwned(address string, kind chain.Kind) ([]byte, error) {
	addr, err := ids.ParseAddress(address)
	if err != nil {
		return nil, err
	}
	objs, err := a.ownedObjects(addr, kind)
	return chain.MarshalObjects(objs), err
}

// queryPools answers /pools: the staking pool objects of sys, in its order.
func (a *App) queryPools(sys *chain.System) ([]byte, error) {
	var objs []*chain.Object
	for _, id := range sys.Pools {
		o, err := chain.LoadObject(a, id)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	return chain.MarshalObjects(objs), nil
}

func (a *App) queryCommittee(sys *chain.System, which string) ([]byte, error) {
	var as []chain.Assignment
	epoch := sys.Epoch
	switch which {
	case "current":
	case "previous":
		epoch--
	case "next":
		epoch++
	default:
		e, err := strconv.ParseUint(which, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: epoch %q", errBadPath, which)
		}
		epoch = uint32(e)
	}
	switch {
	case epoch == sys.Epoch:
		as = sys.Committee
	case epoch+1 == sys.Epoch:
		as = sys.Previous
	case epoch == sys.Epoch+1 && len(sys.Next) > 0:
		as = sys.Next
	default:
		return nil, fmt.Errorf("%w: committee of epoch %d (current %d)", errNotFound, epoch, sys.Epoch)
	}
	info := &chain.CommitteeInfo{Epoch: epoch, NShards: sys.NShards}
	for _, m := range as {
		o, err := chain.LoadObject(a, m.NodeID)
		if err != nil {
			return nil, err
		}
		mi := chain.MemberInfo{NodeID: m.NodeID, PublicKey: m.PublicKey, Shards: m.Shards}
		if o != nil && o.Pool != nil {
			mi.Name, mi.NetworkAddress, mi.NetworkPublicKey = o.Pool.Name, o.Pool.NetworkAddress, o.Pool.NetworkPublicKey
		}
		info.Members = append(info.Members, mi)
	}
	return info.Marshal(), nil
}

// scan calls f for each key under prefix in order, after the key after
// (exclusive, nil for all), until f returns false.
func (a *App) scan(prefix, after []byte, f func(k, v []byte) bool) error {
	upper := append([]byte(nil), prefix...)
	for i := len(upper) - 1; i >= 0; i-- {
		upper[i]++
		if upper[i] != 0 {
			upper = upper[:i+1]
			break
		}
	}
	it, err := a.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	ok := it.First()
	if after != nil {
		ok = it.SeekGE(append(append([]byte(nil), after...), 0))
	}
	for ; ok; ok = it.Next() {
		if !f(it.Key(), it.Value()) {
			break
		}
	}
	return it.Error()
}

func (a *App) ownedObjects(addr ids.Address, kind chain.Kind) ([]*chain.Object, error) {
	var found []ids.ObjectID
	err := a.scan(chain.KeyOwnerPrefix(addr), nil, func(k, v []byte) bool {
		if len(v) == 1 && chain.Kind(v[0]) == kind && len(k) == 65 {
			var id ids.ObjectID
			copy(id[:], k[33:])
			found = append(found, id)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	objs := make([]*chain.Object, 0, len(found))
	for _, id := range found {
		o, err := chain.LoadObject(a, id)
		if err != nil {
			return nil, err
		}
		if o != nil {
			objs = append(objs, o)
		}
	}
	return objs, nil
}

func (a *App) blobStatus(id blob.ID) ([]byte, error) {
	st := &chain.BlobStatus{}
	var objs []ids.ObjectID
	if err := a.scan(chain.KeyBlobIDPrefix(id), nil, func(k, _ []byte) bool {
		var oid ids.ObjectID
		copy(oid[:], k[33:])
		objs = append(objs, oid)
		return true
	}); err != nil {
		return nil, err
	}
	for _, oid := range objs {
		o, err := chain.LoadObject(a, oid)
		if err != nil {
			return nil, err
		}
		if o != nil {
			st.Objects = append(st.Objects, o)
		}
	}
	inv, err := a.Get(chain.KeyInvalid(id))
	if err != nil {
		return nil, err
	}
	if len(inv) == 4 {
		st.Invalid = true
		st.InvalidEpoch = uint32(inv[0]) | uint32(inv[1])<<8 | uint32(inv[2])<<16 | uint32(inv[3])<<24
	}
	return st.Marshal(), nil
}

func (a *App) queryEvents(q url.Values, height int64) ([]byte, error) {
	var after []byte
	if s := q.Get("after"); s != "" {
		c, err := chain.ParseCursor(s)
		if err != nil {
			return nil, err
		}
		after = chain.KeyEvent(c)
	}
	limit := chain.MaxEventsPerQuery
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%w: limit %q", errBadPath, s)
		}
		limit = min(n, limit)
	}
	page := &chain.EventPage{Through: uint64(height), LastHeight: uint64(height)}
	var ierr error
	err := a.scan([]byte{chain.PrefixEvent}, after, func(k, v []byte) bool {
		if len(page.Events) == limit {
			// Complete only up to the block before the first event left out.
			if c, ok := chain.CursorOfEventKey(k); ok {
				page.Through = c.Height - 1
			}
			return false
		}
		r, err := chain.UnmarshalEventRecord(v)
		if err != nil {
			ierr = err
			return false
		}
		page.Events = append(page.Events, r)
		return true
	})
	if err == nil {
		err = ierr
	}
	return page.Marshal(), err
}
