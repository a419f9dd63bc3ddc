// Package devnet is `walrus devnet`: a whole network on one machine (a
// chain, storage nodes in-process or as processes, the daemon), written to
// a directory and resumed from it. It reaches behind the SDK (the test
// network's internals), which the user commands of package cli may not.
package devnet

import "github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"

type env = cmdenv.Env
