package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
)

func newInfoCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:       "info [all|epoch|storage|size|price|bft|committee]",
		Short:     "Show the system: epoch, storage, sizes, prices (all: also committee and BFT)",
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"all", "epoch", "storage", "size", "price", "bft", "committee"},
		RunE: func(cmd *cobra.Command, args []string) error {
			what := ""
			if len(args) == 1 {
				what = args[0]
				switch what {
				case "all", "epoch", "storage", "size", "price", "bft", "committee":
				default:
					return fmt.Errorf("unknown info section %q: want all, epoch, storage, size, price, bft or committee", what)
				}
			}
			ctx := cmd.Context()
			s, err := e.Connect(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			detail := what == "all" || what == "bft" || what == "committee"
			info, err := s.Client.SystemInfo(ctx, detail)
			if err != nil {
				return err
			}
			if e.JSON {
				switch what {
				case "epoch":
					return e.PrintJSON(info.EpochInfo)
				case "storage":
					return e.PrintJSON(info.StorageInfo)
				case "size":
					return e.PrintJSON(info.SizeInfo)
				case "price":
					return e.PrintJSON(info.PriceInfo)
				case "bft":
					return e.PrintJSON(info.BftInfo)
				case "committee":
					return e.PrintJSON(info.CommitteeInfo)
				}
				return e.PrintJSON(info)
			}
			printInfo(e, info, what)
			return nil
		},
	}
	return cmd
}

func printInfo(e *env, info *client.SystemInfo, what string) {
	w := e.Stdout
	show := func(s string) bool { return what == "" || what == "all" || what == s }
	if show("epoch") {
		ei := info.EpochInfo
		start := ei.StartOfCurrentEpoch["DateTime"]
		if start == "" {
			start = ei.StartOfCurrentEpoch["Message"]
		}
		fmt.Fprintf(w, "Epoch information\nCurrent epoch: %d (%s)\nStart time: %s\nEpoch duration: %s\nBlobs can be stored for at most %d epochs in the future.\n\n",
			ei.CurrentEpoch, ei.EpochState, start, time.Duration(ei.EpochDuration), ei.MaxEpochsAhead)
	}
	if show("storage") {
		fmt.Fprintf(w, "Storage nodes\nNumber of storage nodes: %d\nNumber of shards: %d\n\n", info.StorageInfo.NNodes, info.StorageInfo.NShards)
	}
	if show("size") {
		fmt.Fprintf(w, "Blob size\nMaximum blob size: %s\nStorage unit: %s\n\n", cmdenv.HumanBytes(int64(info.SizeInfo.MaxBlobSize)), cmdenv.HumanBytes(int64(info.SizeInfo.StorageUnitSize)))
	}
	if show("price") {
		pi := info.PriceInfo
		fmt.Fprintf(w, "Storage prices per epoch\nPrice per encoded storage unit: %s\nAdditional price for each write: %s\n",
			cmdenv.Frost(pi.StoragePricePerUnitSize), cmdenv.Frost(pi.WritePricePerUnitSize))
		for _, d := range pi.EncodingDependentPriceInfo {
			fmt.Fprintf(w, "Price to store metadata (%s): %s\nMarginal price per additional %s (w/o metadata): %s\nTotal price for example blob sizes:\n",
				d.EncodingType, cmdenv.Frost(d.MetadataPrice), cmdenv.HumanBytes(int64(d.MarginalSize)), cmdenv.Frost(d.MarginalPrice))
			for _, x := range d.ExampleBlobs {
				fmt.Fprintf(w, "  %s unencoded (%s encoded): %s per epoch\n", cmdenv.HumanBytes(int64(x.UnencodedSize)), cmdenv.HumanBytes(int64(x.EncodedSize)), cmdenv.Frost(x.Price))
			}
		}
		fmt.Fprintln(w)
	}
	if (what == "all" || what == "bft") && info.BftInfo != nil {
		b := info.BftInfo
		fmt.Fprintf(w, "BFT system information\nTolerated faults (f): %d\nQuorum threshold (2f+1): %d\nMinimum number of correct shards (n-f): %d\nMinimum nodes holding more than f shards: %d (%d shards)\n\n",
			b.MaxFaultyShards, b.QuorumThreshold, b.MinCorrectShards, b.MinNodesAbove, b.ShardsAbove)
	}
	if (what == "all" || what == "committee") && info.CommitteeInfo != nil {
		c := info.CommitteeInfo
		fmt.Fprintf(w, "Committee\nShards: %d; primary/secondary source symbols: %d/%d\n", c.NShards, c.NPrimarySourceSymbols, c.NSecondarySourceSymbols)
		for _, n := range c.StorageNodes {
			fmt.Fprintf(w, "  %s\t%s\tnode ID %s\t%s\tstake %s\n", n.Name, n.NetworkAddress, n.NodeID, cmdenv.Count(n.NShards, "shard", "shards"), cmdenv.Frost(n.Stake))
		}
		fmt.Fprintln(w)
	}
}
