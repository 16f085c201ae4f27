package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	plugingrpc "qntx/sdk-go/grpc"
)

// The host starts the plugin as `goplug --port N`.
var port = flag.Int("port", 9000, "gRPC server port")

// main is the guide's: flags, a zap logger (JSON lines on stderr, whose levels the host
// keeps), the SDK's server, a context cancelled on SIGINT/SIGTERM. Serve prints the port line
// QNTX_PLUGIN_PORT=<port>, moves up from a busy port, and also returns on the host's Shutdown
// call or when the host in QNTX_HOST_PID dies.
func main() {
	flag.Parse()

	logger, _ := zap.NewProduction()
	sugar := logger.Sugar()
	defer logger.Sync()

	plugin := NewMyPlugin()
	server := plugingrpc.NewPluginServer(plugin, sugar)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	sigChan := make(chan os.Signal, 1)
	signal.Notify(sigChan, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigChan
		cancel()
	}()

	addr := fmt.Sprintf(":%d", *port)
	sugar.Infow("Starting plugin", "address", addr)

	if err := server.Serve(ctx, addr); err != nil {
		sugar.Fatalw("Server error", "error", err)
	}
}
