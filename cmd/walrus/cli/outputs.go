package cli

import (
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/ids"
)

// The --json outputs of the commands that print no SDK type of their own,
// one named type each so that their shape is written down once.

// attributeOutput is get-blob-attribute: the attributes by key (null: none).
type attributeOutput struct {
	Attribute map[string]string `json:"attribute"`
}

// setAttributesOutput is set-blob-attribute.
type setAttributesOutput struct {
	BlobObjectID ids.ObjectID `json:"blobObjectId"`
	Set          int          `json:"set"`
}

// removeAttributesOutput is remove-blob-attribute(-fields); Removed is
// null when every attribute was removed.
type removeAttributesOutput struct {
	BlobObjectID ids.ObjectID `json:"blobObjectId"`
	Removed      []string     `json:"removed"`
}

// burnOutput is burn-blobs.
type burnOutput struct {
	BurnedObjectIDs []ids.ObjectID `json:"burnedObjectIds"`
}

// healthOutput is health.
type healthOutput struct {
	HealthInfo []client.NodeHealth `json:"healthInfo"`
}

// voteOutput is node-admin vote.
type voteOutput struct {
	NodeID ids.ObjectID      `json:"nodeId"`
	Votes  client.VoteParams `json:"votes"`
}

// commissionRateOutput is node-admin set-commission.
type commissionRateOutput struct {
	NodeID         ids.ObjectID `json:"nodeId"`
	CommissionRate uint16       `json:"commissionRate"`
}

// collectCommissionOutput is node-admin collect-commission.
type collectCommissionOutput struct {
	NodeID ids.ObjectID `json:"nodeId"`
	Amount uint64       `json:"amount"`
}

// stakedWalOutput is stake and list-staked-wal.
type stakedWalOutput struct {
	StakedWal []client.StakedWal `json:"stakedWal"`
}

// withdrawOutput is withdraw-stake.
type withdrawOutput struct {
	StakedWalID ids.ObjectID `json:"stakedWalId"`
	Amount      uint64       `json:"amount"`
}

// walletOutput is generate-wallet.
type walletOutput struct {
	WalletAddress ids.Address `json:"walletAddress"`
	Path          string      `json:"path"`
}

// faucetOutput is get-wal.
type faucetOutput struct {
	Address     ids.Address `json:"address"`
	AmountFrost uint64      `json:"amountFrost"`
}

// balanceOutput is balance.
type balanceOutput struct {
	Address      ids.Address `json:"address"`
	BalanceFrost uint64      `json:"balanceFrost"`
}

// shareOutput is share; Amount is null when the shared blob got no funds.
type shareOutput struct {
	SharedBlobObjectID ids.ObjectID `json:"sharedBlobObjectId"`
	Amount             *uint64      `json:"amount"`
}

// amountOutput is fund-shared-blob.
type amountOutput struct {
	Amount uint64 `json:"amount"`
}

// extendOutput is extend.
type extendOutput struct {
	EpochsExtended uint32 `json:"epochsExtended"`
}
