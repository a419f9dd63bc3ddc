package client

import (
	"errors"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
)

// Errors the client returns (wrapped with details); match with errors.Is.
// They are stable: the CLI and the gateway map them to messages and HTTP
// statuses.
var (
	// ErrNotEnoughConfirmations: the nodes that confirmed storage hold fewer
	// than n−f shards, so the blob cannot be certified (Store).
	ErrNotEnoughConfirmations = errors.New("client: not enough storage confirmations to certify the blob")
	// ErrBlobNotFound: nodes holding a quorum of shards do not know the blob
	// (Read, ReadTo, Metadata), or no Blob object has the ID.
	ErrBlobNotFound = errors.New("client: blob not found")
	// ErrBlobInvalid: the blob was declared invalid, or decodes inconsistently (Read).
	ErrBlobInvalid = errors.New("client: blob is invalid")
	// ErrBlobBlocked: the nodes refuse to serve the blob (HTTP 451) (Read).
	ErrBlobBlocked = errors.New("client: blob is blocked")
	// ErrNotEnoughSlivers: fewer valid slivers than decoding needs could be read (Read).
	ErrNotEnoughSlivers = errors.New("client: not enough valid slivers to decode the blob")
	// ErrNoCommittee: the chain has no storage committee yet.
	ErrNoCommittee = errors.New("client: the chain has no storage committee")
	// ErrNoWallet: the operation pays or signs, and the client has no signer.
	ErrNoWallet = errors.New("client: this operation needs a wallet")
	// ErrInsufficientBalance: the wallet's WAL does not cover the cost and fees.
	ErrInsufficientBalance = errors.New("client: insufficient WAL balance")
	// ErrObjectNotFound: no object has the given object ID.
	ErrObjectNotFound = errors.New("client: object not found")
	// ErrNotOwner: the object is not owned by the wallet.
	ErrNotOwner = errors.New("client: the wallet does not own the object")
	// ErrWrongObject: the object is not of the kind the operation needs
	// (for example a Storage object where a Blob is expected).
	ErrWrongObject = errors.New("client: wrong kind of object")
	// ErrNotDeletable: the blob is permanent and cannot be deleted.
	ErrNotDeletable = errors.New("client: the blob is not deletable")
	// ErrBlobExpired: the blob or storage has expired.
	ErrBlobExpired = errors.New("client: the blob has expired")
	// ErrNotCertified: the operation needs a certified blob.
	ErrNotCertified = errors.New("client: the blob is not certified")
	// ErrInvalidArgument: the chain refused an argument (epochs, sizes, keys…).
	ErrInvalidArgument = errors.New("client: invalid argument")
	// ErrBlobTooLarge: the blob exceeds the maximum size for the shard count.
	ErrBlobTooLarge = errors.New("client: blob too large")
	// ErrNotAuthorized: the wallet may not do this (operator or faucet rights).
	ErrNotAuthorized = errors.New("client: not authorized")
	// ErrRangeNotSatisfiable: a byte range is empty or ends past the blob
	// (BlobReader.ReadRange).
	ErrRangeNotSatisfiable = errors.New("client: byte range not satisfiable")
	// ErrNotQuilt: the blob is not a quilt (its length or index does not
	// decode as QuiltV1) (OpenQuilt, QuiltReader).
	ErrNotQuilt = errors.New("client: the blob is not a quilt")
	// ErrTransaction: the chain aborted a transaction for a reason without
	// its own error above (the abort name is in the message).
	ErrTransaction = errors.New("client: transaction failed")
)

// abortErrors are the client's errors for the chain's aborts (any other
// abort is ErrTransaction).
var abortErrors = []struct {
	err    error
	aborts []*chain.Abort
}{
	{ErrInsufficientBalance, []*chain.Abort{chain.EInsufficientBalance}},
	{ErrObjectNotFound, []*chain.Abort{chain.EObjectNotFound}},
	{ErrNotOwner, []*chain.Abort{chain.ENotOwner}},
	{ErrWrongObject, []*chain.Abort{chain.EWrongObjectKind}},
	{ErrNotDeletable, []*chain.Abort{chain.ENotDeletable}},
	{ErrBlobExpired, []*chain.Abort{chain.EBlobExpired}},
	{ErrNotCertified, []*chain.Abort{chain.ENotCertified}},
	{ErrBlobTooLarge, []*chain.Abort{chain.EBlobTooLarge}},
	{ErrNotAuthorized, []*chain.Abort{chain.ENotAuthorized}},
	{ErrInvalidArgument, []*chain.Abort{chain.EInvalidEpochsAhead, chain.EInvalidArgument, chain.EAttributeNotFound,
		chain.EStorageExceeded, chain.EIncompatibleStorage, chain.EWithdrawNotReady, chain.EWrongStakeState}},
}

// txError translates a chain submission error into the client's stable
// errors by the abort in its chain, keeping the chain's message.
func txError(op string, err error) error {
	if err == nil {
		return nil
	}
	var rej *chainclient.RejectedError
	if errors.As(err, &rej) && rej.Code == chain.CodeBalanceTooLow {
		return fmt.Errorf("%w to pay the transaction fee (%s): %v", ErrInsufficientBalance, op, err)
	}
	if !errors.Is(err, chainclient.ErrAborted) {
		return fmt.Errorf("client: %s: %w", op, err)
	}
	target := ErrTransaction
	for _, m := range abortErrors {
		if slices.ContainsFunc(m.aborts, func(a *chain.Abort) bool { return errors.Is(err, a) }) {
			target = m.err
			break
		}
	}
	return fmt.Errorf("%w (%s): %v", target, op, err)
}
