// Command walrus-chain runs a validator of the Walrus chain: `init` writes
// a CometBFT home with the Walrus genesis, `run` starts the node.
package main

import (
	"os"

	"github.com/walrus-go/walrus/cmd/walrus-chain/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr)) }
