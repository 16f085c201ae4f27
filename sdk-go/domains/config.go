package domains

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// NewConfig returns a Config over values (copied). The SDK makes one from every
// InitializeRequest; tests of a plugin can make their own.
func NewConfig(values map[string]string) Config {
	c := &mapConfig{values: make(map[string]interface{}, len(values))}
	for k, v := range values {
		c.values[k] = v
	}
	return c
}

type mapConfig struct {
	mu     sync.RWMutex
	values map[string]interface{}
}

func (c *mapConfig) Get(key string) interface{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.values[key]
}

func (c *mapConfig) Set(key string, value interface{}) {
	c.mu.Lock()
	c.values[key] = value
	c.mu.Unlock()
}

func (c *mapConfig) GetKeys() []string {
	c.mu.RLock()
	keys := make([]string, 0, len(c.values))
	for k := range c.values {
		keys = append(keys, k)
	}
	c.mu.RUnlock()
	sort.Strings(keys)
	return keys
}

func (c *mapConfig) GetString(key string) string {
	switch v := c.Get(key).(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func (c *mapConfig) GetInt(key string) int {
	switch v := c.Get(key).(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	s := strings.TrimSpace(c.GetString(key))
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	// TOML numbers reach the plugin as text; "3.0" or "1e3" are still whole numbers.
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return int(f)
	}
	return 0
}

func (c *mapConfig) GetBool(key string) bool {
	if b, ok := c.Get(key).(bool); ok {
		return b
	}
	switch strings.ToLower(strings.TrimSpace(c.GetString(key))) {
	case "1", "t", "true", "yes", "y", "on":
		return true
	}
	return false
}

func (c *mapConfig) GetStringSlice(key string) []string {
	switch v := c.Get(key).(type) {
	case []string:
		return append([]string(nil), v...)
	case []interface{}:
		out := make([]string, len(v))
		for i, e := range v {
			out[i] = fmt.Sprint(e)
		}
		return out
	}
	s := strings.TrimSpace(c.GetString(key))
	if s == "" {
		return nil
	}
	// The host sends a TOML array as JSON text.
	if strings.HasPrefix(s, "[") {
		var list []interface{}
		if json.Unmarshal([]byte(s), &list) == nil {
			out := make([]string, len(list))
			for i, e := range list {
				if str, ok := e.(string); ok {
					out[i] = str
				} else {
					out[i] = fmt.Sprint(e)
				}
			}
			return out
		}
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}
