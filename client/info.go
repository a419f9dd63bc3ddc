package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/nodeapi"
)

// SystemInfo is Walrus's `walrus info` output (InfoOutput).
type SystemInfo struct {
	EpochInfo     EpochInfo      `json:"epochInfo"`
	StorageInfo   StorageInfo    `json:"storageInfo"`
	SizeInfo      SizeInfo       `json:"sizeInfo"`
	PriceInfo     PriceInfo      `json:"priceInfo"`
	CommitteeInfo *CommitteeInfo `json:"committeeInfo,omitempty"`
	BftInfo       *BftInfo       `json:"bftInfo,omitempty"`
}

// EpochInfo describes the current epoch.
type EpochInfo struct {
	CurrentEpoch uint32 `json:"currentEpoch"`
	// StartOfCurrentEpoch is {"DateTime": RFC3339} or, during an epoch
	// change, {"Message": "..."} (serde's form of Walrus's enum).
	StartOfCurrentEpoch map[string]string `json:"startOfCurrentEpoch"`
	EpochDuration       Duration          `json:"epochDuration"`
	MaxEpochsAhead      uint32            `json:"maxEpochsAhead"`
	// EpochState is this project's addition: the chain's epoch state.
	EpochState string `json:"epochState"`
}

// StorageInfo counts shards and nodes.
type StorageInfo struct {
	NShards int `json:"nShards"`
	NNodes  int `json:"nNodes"`
}

// SizeInfo gives the unit of prices and the largest blob.
type SizeInfo struct {
	StorageUnitSize uint64 `json:"storageUnitSize"`
	MaxBlobSize     uint64 `json:"maxBlobSize"`
}

// PriceInfo gives the prices per unit and examples.
type PriceInfo struct {
	StoragePricePerUnitSize    uint64                       `json:"storagePricePerUnitSize"`
	WritePricePerUnitSize      uint64                       `json:"writePricePerUnitSize"`
	EncodingDependentPriceInfo []EncodingDependentPriceInfo `json:"encodingDependentPriceInfo"`
}

// EncodingDependentPriceInfo gives the price structure of one encoding.
type EncodingDependentPriceInfo struct {
	MarginalSize  uint64        `json:"marginalSize"`
	MetadataPrice uint64        `json:"metadataPrice"`
	MarginalPrice uint64        `json:"marginalPrice"`
	ExampleBlobs  []ExampleBlob `json:"exampleBlobs"`
	EncodingType  string        `json:"encodingType"`
}

// ExampleBlob is the storage price per epoch of a blob size.
type ExampleBlob struct {
	UnencodedSize uint64 `json:"unencodedSize"`
	EncodedSize   uint64 `json:"encodedSize"`
	Price         uint64 `json:"price"`
	EncodingType  string `json:"encodingType"`
}

// CommitteeInfo describes the committee (info committee / all).
type CommitteeInfo struct {
	NShards                 int               `json:"nShards"`
	NPrimarySourceSymbols   int               `json:"nPrimarySourceSymbols"`
	NSecondarySourceSymbols int               `json:"nSecondarySourceSymbols"`
	MaxSliverSize           uint64            `json:"maxSliverSize"`
	MetadataStorageSize     uint64            `json:"metadataStorageSize"`
	MaxEncodedBlobSize      uint64            `json:"maxEncodedBlobSize"`
	StorageNodes            []StorageNodeInfo `json:"storageNodes"`
	NextStorageNodes        []StorageNodeInfo `json:"nextStorageNodes"`
}

// StorageNodeInfo is one committee member.
type StorageNodeInfo struct {
	Name             string       `json:"name"`
	NetworkAddress   string       `json:"networkAddress"`
	PublicKey        string       `json:"publicKey"`
	NetworkPublicKey string       `json:"networkPublicKey"`
	NShards          int          `json:"nShards"`
	ShardIDs         []uint16     `json:"shardIds"`
	NodeID           ids.ObjectID `json:"nodeId"`
	Stake            uint64       `json:"stake"`
}

// BftInfo gives the fault-tolerance thresholds.
type BftInfo struct {
	MaxFaultyShards  int `json:"maxFaultyShards"`
	MinCorrectShards int `json:"minCorrectShards"`
	QuorumThreshold  int `json:"quorumThreshold"`
	MinNodesAbove    int `json:"minNodesAbove"`
	ShardsAbove      int `json:"shardsAbove"`
}

// SystemInfo reads the system state; with detail it adds the committee
// and BFT sections (`walrus info all`).
func (c *Client) SystemInfo(ctx context.Context, detail bool) (*SystemInfo, error) {
	sys, err := c.chain.System(ctx)
	if err != nil {
		return nil, err
	}
	p := c.params
	info := &SystemInfo{
		EpochInfo: EpochInfo{CurrentEpoch: sys.Epoch, EpochDuration: nodeapi.Duration(time.Duration(sys.EpochDurationMs) * time.Millisecond),
			MaxEpochsAhead: sys.MaxEpochsAhead, EpochState: sys.State.String(), StartOfCurrentEpoch: epochStart(sys)},
		StorageInfo: StorageInfo{NShards: int(sys.NShards), NNodes: len(sys.Committee)},
		SizeInfo:    SizeInfo{StorageUnitSize: chain.UnitSize, MaxBlobSize: p.MaxBlobSize()},
		PriceInfo: PriceInfo{StoragePricePerUnitSize: sys.StoragePrice, WritePricePerUnitSize: sys.WritePrice,
			EncodingDependentPriceInfo: []EncodingDependentPriceInfo{priceInfo(p, sys.StoragePrice)}},
	}
	if !detail {
		return info, nil
	}
	pools, err := c.chainPools(ctx)
	if err != nil {
		return nil, err
	}
	stake := map[ids.ObjectID]uint64{}
	for _, pl := range pools {
		stake[pl.ID] = pl.WalBalance
	}
	n := p.N()
	maxSliver := uint64(p.PrimarySliverSize(blob.MaxSymbolSize))
	maxEnc, _ := p.EncodedLength(p.MaxBlobSize())
	info.CommitteeInfo = &CommitteeInfo{NShards: n, NPrimarySourceSymbols: p.PrimarySymbols(), NSecondarySourceSymbols: p.SecondarySymbols(),
		MaxSliverSize: maxSliver, MetadataStorageSize: uint64(n) * p.MetadataLength(), MaxEncodedBlobSize: maxEnc,
		StorageNodes: c.storageNodes(ctx, "current", stake), NextStorageNodes: c.storageNodes(ctx, "next", stake)}
	info.BftInfo = bftInfo(n, sys.Committee)
	return info, nil
}

// epochStart is the start of the current epoch in Walrus's JSON form: the
// time it started, or a message while the epoch change is in progress.
func epochStart(sys *chain.System) map[string]string {
	if sys.State == chain.EpochChangeSync {
		return map[string]string{"Message": "Epoch change is currently in progress..."}
	}
	start := time.UnixMilli(int64(sys.EpochStartMs)).UTC().Format(time.RFC3339Nano)
	return map[string]string{"DateTime": start}
}

// storageNodes lists the members of the committee which ("current" or
// "next") sorted by name, case-insensitively, with their stake. It is nil
// when the chain does not give that committee, so that the section is
// still shown without it.
func (c *Client) storageNodes(ctx context.Context, which string, stake map[ids.ObjectID]uint64) []StorageNodeInfo {
	ci, err := c.chain.Committee(ctx, which)
	if err != nil {
		return nil
	}
	out := []StorageNodeInfo{}
	for _, m := range ci.Members {
		out = append(out, StorageNodeInfo{Name: m.Name, NetworkAddress: m.NetworkAddress,
			PublicKey: base64.StdEncoding.EncodeToString(m.PublicKey[:]), NetworkPublicKey: base64.StdEncoding.EncodeToString(m.NetworkPublicKey),
			NShards: len(m.Shards), ShardIDs: m.Shards, NodeID: m.NodeID, Stake: stake[m.NodeID]})
	}
	slices.SortFunc(out, func(a, b StorageNodeInfo) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out
}

// bftInfo gives the fault-tolerance thresholds of n shards assigned to
// nodes as in assigned, with the fewest nodes (largest first) whose shards
// together exceed f: how few nodes could break the fault assumption.
func bftInfo(n int, assigned []chain.Assignment) *BftInfo {
	f := committee.F(n)
	weights := make([]int, 0, len(assigned))
	for _, a := range assigned {
		weights = append(weights, len(a.Shards))
	}
	slices.SortFunc(weights, func(a, b int) int { return b - a })
	above, sum := 0, 0
	for _, w := range weights {
		if sum > f {
			break
		}
		sum += w
		above++
	}
	return &BftInfo{MaxFaultyShards: f, MinCorrectShards: n - f, QuorumThreshold: 2*f + 1, MinNodesAbove: above, ShardsAbove: sum}
}

// priceInfo computes Walrus's price examples for the parameters.
func priceInfo(p blob.Params, price uint64) EncodingDependentPriceInfo {
	maxSize := p.MaxBlobSize()
	marginal := uint64(1 << 20)
	for marginal > maxSize {
		marginal /= 4
	}
	meta := uint64(p.N()) * p.MetadataLength()
	// The encoded slivers of the marginal size, without metadata.
	s, _ := p.SymbolSize(marginal)
	sliversLen := p.EncodedLengthForSymbolSize(s) - meta
	ex0 := nextPow2(maxSize) / 1024
	var examples []ExampleBlob
	for _, u := range []uint64{ex0, ex0 * 32, maxSize} {
		enc, err := p.EncodedLength(u)
		if err != nil {
			continue
		}
		examples = append(examples, ExampleBlob{UnencodedSize: u, EncodedSize: enc, Price: chain.Units(enc) * price, EncodingType: blob.RS2.String()})
	}
	return EncodingDependentPriceInfo{MarginalSize: marginal, MetadataPrice: chain.Units(meta) * price,
		MarginalPrice: chain.Units(sliversLen) * price, ExampleBlobs: examples, EncodingType: blob.RS2.String()}
}

func nextPow2(v uint64) uint64 {
	if v <= 1 {
		return 1
	}
	return 1 << (64 - bits.LeadingZeros64(v-1))
}

// NodeHealth is one node's health (Walrus's NodeHealthOutput).
type NodeHealth struct {
	NodeID           ids.ObjectID `json:"nodeId"`
	NodeURL          string       `json:"nodeUrl"`
	NodeName         string       `json:"nodeName"`
	NetworkPublicKey string       `json:"networkPublicKey"`
	// HealthInfo is {"Ok": ServiceHealthInfo} or {"Err": "message"}.
	HealthInfo HealthResult `json:"healthInfo"`
}

// HealthResult is the outcome of one health request.
type HealthResult struct {
	Info *HealthInfo
	Err  string
}

// MarshalJSON implements json.Marshaler as a Rust Result.
func (h HealthResult) MarshalJSON() ([]byte, error) {
	if h.Info != nil {
		return json.Marshal(map[string]any{"Ok": h.Info})
	}
	return json.Marshal(map[string]string{"Err": h.Err})
}

// NodeSelection picks nodes for Health: by node ID, by URL, or the whole
// committee (the default when all are empty) or every registered node.
type NodeSelection struct {
	NodeIDs   []ids.ObjectID
	NodeURLs  []string
	ActiveSet bool
}

// Health asks the selected nodes for /v1/health concurrently; each node's
// failure is in its entry, sorted by status then name.
func (c *Client) Health(ctx context.Context, sel NodeSelection, detail bool) ([]NodeHealth, error) {
	pools, err := c.chainPools(ctx)
	if err != nil {
		return nil, err
	}
	var chosen []*chain.StakingPool
	switch {
	case len(sel.NodeIDs) > 0:
		for _, id := range sel.NodeIDs {
			i := slices.IndexFunc(pools, func(p *chain.StakingPool) bool { return p.ID == id })
			if i < 0 {
				return nil, ErrObjectNotFound
			}
			chosen = append(chosen, pools[i])
		}
	case len(sel.NodeURLs) > 0:
		for _, u := range sel.NodeURLs {
			i := slices.IndexFunc(pools, func(p *chain.StakingPool) bool {
				return p.NetworkAddress == u || "http://"+p.NetworkAddress == u
			})
			if i < 0 {
				return nil, ErrObjectNotFound
			}
			chosen = append(chosen, pools[i])
		}
	case sel.ActiveSet:
		chosen = pools
	default:
		ci, err := c.chain.Committee(ctx, "current")
		if err != nil {
			return nil, err
		}
		for _, m := range ci.Members {
			if i := slices.IndexFunc(pools, func(p *chain.StakingPool) bool { return p.ID == m.NodeID }); i >= 0 {
				chosen = append(chosen, pools[i])
			}
		}
	}
	out := make([]NodeHealth, len(chosen))
	var wg sync.WaitGroup
	for i, p := range chosen {
		out[i] = NodeHealth{NodeID: p.ID, NodeURL: p.NetworkAddress, NodeName: p.Name, NetworkPublicKey: base64.StdEncoding.EncodeToString(p.NetworkPublicKey)}
		wg.Go(func() {
			nc, err := c.node(p.NetworkAddress)
			if err == nil {
				hctx, cancel := context.WithTimeout(ctx, c.cfg.StatusTimeout)
				defer cancel()
				var h *nodeapi.HealthInfo
				if h, err = nc.Health(hctx, detail); err == nil {
					out[i].HealthInfo.Info = h
					return
				}
			}
			out[i].HealthInfo.Err = "failed to get health info: " + err.Error()
		})
	}
	wg.Wait()
	slices.SortStableFunc(out, func(a, b NodeHealth) int {
		sa, sb := a.HealthInfo.status(), b.HealthInfo.status()
		if sa != sb {
			return strings.Compare(sa, sb)
		}
		return strings.Compare(strings.ToLower(a.NodeName), strings.ToLower(b.NodeName))
	})
	return out, nil
}

// status orders health results: answers by status name, failures last.
func (h HealthResult) status() string {
	if h.Info != nil {
		return "0" + strings.ToLower(h.Info.NodeStatus)
	}
	return "1" + h.Err
}
