// Package bench is `walrus bench`: the codec's encode and decode on this
// machine, stores and reads against a devnet with their peak RSS and the
// disk's floor, and load on an HTTP aggregator/publisher. It measures the
// system's internals (the encoder, the nodes' processes), which the user
// commands of package cli may not reach.
package bench

import "github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"

type env = cmdenv.Env
