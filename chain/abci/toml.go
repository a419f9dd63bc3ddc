package abci

import (
	"fmt"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/viper"
)

// readTOML loads a CometBFT config.toml the way the cometbft command does.
func readTOML(path string, c *cfg.Config) error {
	root := c.RootDir
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return fmt.Errorf("abci: read %s: %w", path, err)
	}
	if err := v.Unmarshal(c); err != nil {
		return fmt.Errorf("abci: parse %s: %w", path, err)
	}
	c.SetRoot(root)
	return nil
}
