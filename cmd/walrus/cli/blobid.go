package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
)

// blobIDOutput is Walrus's BlobIdOutput.
type blobIDOutput struct {
	BlobID          blob.ID `json:"blobId"`
	File            string  `json:"file"`
	UnencodedLength uint64  `json:"unencodedLength"`
	EncodingType    string  `json:"encodingType"`
}

func newBlobIDCmd(e *env) *cobra.Command {
	var nShards int
	cmd := &cobra.Command{
		Use:   "blob-id FILE",
		Short: "Compute the blob ID of a file offline",
		Long: "Encodes FILE with RedStuff (RS2) for the given number of shards and prints its blob ID.\n" +
			"Without --n-shards it reads the shard count from the chain of the client configuration\n" +
			"(--config, or one found in the usual places); with no configuration it uses 1000, the\n" +
			"shard count of Walrus Mainnet and Testnet.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if nShards == 0 {
				n, err := chainShards(cmd.Context(), e)
				if err != nil {
					return err
				}
				nShards = n
			}
			p, err := blob.NewParams(nShards)
			if err != nil {
				return err
			}
			md, err := client.FileMetadata(p, args[0], 0, "")
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if e.JSON {
				return e.PrintJSON(blobIDOutput{BlobID: md.ID, File: args[0], UnencodedLength: md.UnencodedLength, EncodingType: md.EncodingType.String()})
			}
			_, err = fmt.Fprintln(e.Stdout, md.ID)
			return err
		},
	}
	cmd.Flags().IntVar(&nShards, "n-shards", 0, "number of shards (default: the configured network's, else 1000)")
	return cmd
}

// chainShards is the shard count of the configured network: an explicit
// --config must work; a configuration found by the search that cannot be
// reached is reported and the default used; none gives cmdenv.DefaultShards.
func chainShards(ctx context.Context, e *env) (int, error) {
	cfg, _, err := e.LoadConfig()
	if err != nil {
		if e.Config != "" {
			return 0, err
		}
		return cmdenv.DefaultShards, nil
	}
	c, err := client.Open(ctx, cfg, client.OpenOptions{ReadOnly: true})
	if err == nil {
		defer c.Close()
		return c.Params().N(), nil
	}
	if e.Config != "" {
		return 0, err
	}
	e.Say("walrus: the configured network does not answer (%v); using %d shards", err, cmdenv.DefaultShards)
	return cmdenv.DefaultShards, nil
}

func newConvertBlobIDCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "convert-blob-id DECIMAL",
		Short: "Convert a blob ID from its decimal (u256) form to base64url",
		Long:  "Converts the decimal form of a blob ID, as Sui explorers show it (a u256 read little-endian), to the URL-safe base64 form.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := blob.IDFromDecimal(args[0])
			if err != nil {
				return err
			}
			if e.JSON {
				return e.PrintJSON(id)
			}
			_, err = fmt.Fprintln(e.Stdout, id)
			return err
		},
	}
}
