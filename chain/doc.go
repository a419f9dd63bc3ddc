// Package chain is the Walrus control plane as a deterministic state
// machine: the Walrus system and staking contracts (protocol spec section 6)
// re-implemented for a CometBFT application (see shared/design/CHAIN.md).
//
// It holds accounts and WAL balances, storage resources, Blob objects,
// staking pools and staked WAL, committees, prices and the epoch timeline,
// and it emits the Walrus events that storage nodes and clients follow.
// Transactions, object state and event payloads are BCS.
//
// The package is pure: state is read through a Reader and every write of a
// block is collected in an Overlay, which the caller persists. It does no
// I/O, never logs, uses no wall clock, no floats and no map iteration order;
// the only goroutines it starts are the workers of Machine.ExecuteBlock,
// which verify transaction and certificate signatures in parallel ahead of
// the sequential apply and are joined before it returns.
//
// Decisions where Walrus's contracts do not carry over are listed in
// chain/README.md.
package chain
