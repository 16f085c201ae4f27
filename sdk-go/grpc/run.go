package grpc

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"qntx/sdk-go/domains"
)

// Run is a whole main for a plugin binary, as QNTX's plugingrpc.Run: it reads --port N
// (default defaultPort) and --log-level, ignores every other argument (the host passes the
// args of the plugin's table after --port N, and Go's flag package would exit 2 on one it
// does not know), logs JSON lines on stderr, serves p until stopped and exits: 0 after a clean
// stop, 1 when it could not serve.
func Run(p domains.DomainPlugin, defaultPort int) {
	port, level, err := parseRunArgs(os.Args[1:], defaultPort)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", p.Metadata().Name, err)
		os.Exit(2)
	}
	logger := NewLogger(level)
	defer func() { _ = logger.Sync() }()
	if err := NewPluginServer(p, logger).Serve(context.Background(), fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		logger.Errorw("cannot serve", "error", err)
		_ = logger.Sync()
		os.Exit(1)
	}
}

// parseRunArgs reads --port/-port N (or =N) and --log-level/-log-level L, ignoring the rest.
func parseRunArgs(args []string, port int) (int, string, error) {
	level := "info"
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || (name != "port" && name != "log-level") {
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return 0, "", fmt.Errorf("--%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if name == "log-level" {
			level = value
			continue
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 || n > 65535 {
			return 0, "", fmt.Errorf("--port %q is not a port number", value)
		}
		port = n
	}
	return port, level, nil
}

// NewLogger returns a zap logger writing JSON lines with a "level" field on stderr (the host
// keeps each line's level) at level ("debug", "info", "warn" or "error"; anything else is
// info).
func NewLogger(level string) *zap.SugaredLogger {
	var l zapcore.Level
	if err := l.Set(level); err != nil {
		l = zapcore.InfoLevel
	}
	config := zap.NewProductionConfig()
	config.Level = zap.NewAtomicLevelAt(l)
	config.EncoderConfig.TimeKey = "time"
	config.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	logger, err := config.Build()
	if err != nil {
		// Only a broken output path fails Build; stderr is the default and always there.
		return zap.NewNop().Sugar()
	}
	return logger.Sugar()
}
