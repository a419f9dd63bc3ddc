package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
)

func newHealthCmd(e *env) *cobra.Command {
	var (
		ids, urls                          []string
		committee, activeSet, detail, desc bool
		sortBy                             string
	)
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Show the health of storage nodes",
		Long:  "Asks the selected storage nodes (default: the current committee) for /v1/health.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			for _, b := range []bool{len(ids) > 0, len(urls) > 0, committee, activeSet} {
				if b {
					n++
				}
			}
			if n > 1 {
				return errors.New("give only one of --node-ids, --node-urls, --committee and --active-set")
			}
			sel := client.NodeSelection{NodeURLs: urls, ActiveSet: activeSet}
			for _, v := range ids {
				id, err := parseObjectID("node ID", v)
				if err != nil {
					return err
				}
				sel.NodeIDs = append(sel.NodeIDs, id)
			}
			key, err := healthSortKey(sortBy)
			if err != nil {
				return err
			}
			return cmdenv.Do(cmd, e, cmdenv.ReadOnly, func(ctx context.Context, s *cmdenv.Session) (healthOutput, error) {
				hs, err := s.Client.Health(ctx, sel, detail)
				if key != nil {
					slices.SortStableFunc(hs, func(a, b client.NodeHealth) int { return strings.Compare(key(a), key(b)) })
				}
				if desc {
					slices.Reverse(hs)
				}
				return healthOutput{HealthInfo: hs}, err
			}, func(w io.Writer, o healthOutput) error { return printHealth(w, o.HealthInfo) })
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&ids, "node-ids", nil, "node IDs to ask")
	fl.StringSliceVar(&urls, "node-urls", nil, "node addresses (host:port) to ask")
	fl.BoolVar(&committee, "committee", false, "ask the current committee (the default)")
	fl.BoolVar(&activeSet, "active-set", false, "ask every registered node")
	fl.BoolVar(&detail, "detail", false, "include every shard's status")
	fl.StringVar(&sortBy, "sort-by", "status", "sort by status, id, name or url")
	fl.BoolVar(&desc, "desc", false, "sort in descending order")
	return cmd
}

// healthSortKey is the key of --sort-by (nil for status: the SDK's order).
func healthSortKey(sortBy string) (func(h client.NodeHealth) string, error) {
	if sortBy == "" || sortBy == "status" {
		return nil, nil
	}
	key := map[string]func(h client.NodeHealth) string{
		"id":   func(h client.NodeHealth) string { return h.NodeID.String() },
		"name": func(h client.NodeHealth) string { return strings.ToLower(h.NodeName) },
		"url":  func(h client.NodeHealth) string { return strings.ToLower(h.NodeURL) },
	}[sortBy]
	if key == nil {
		return nil, fmt.Errorf("unknown --sort-by %q: want status, id, name or url", sortBy)
	}
	return key, nil
}

// printHealth writes health's table.
func printHealth(w io.Writer, hs []client.NodeHealth) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Name\tURL\tStatus\tEpoch\tShards (owned/ready)\tNode ID")
	for _, h := range hs {
		if h.HealthInfo.Info == nil {
			fmt.Fprintf(tw, "%s\t%s\tERROR: %s\t\t\t%s\n", h.NodeName, h.NodeURL, h.HealthInfo.Err, h.NodeID)
			continue
		}
		i := h.HealthInfo.Info
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d/%d\t%s\n", h.NodeName, h.NodeURL, i.NodeStatus, i.Epoch, i.ShardSummary.Owned, i.ShardSummary.OwnedShardStatus.Ready, h.NodeID)
	}
	return tw.Flush()
}
