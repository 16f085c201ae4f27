package grpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"qntx/sdk-go/protocol"
)

const (
	// portTries is how many ports Serve tries from the one asked for: N, N+1, … N+63, as
	// QNTX's Go server does.
	portTries = 64
	// MaxMessageBytes is the gRPC message limit both ways, the host's own: a server left at
	// gRPC's 4 MiB default would fail large requests the host sends.
	MaxMessageBytes = 16 << 20
	// stopGrace bounds the wait for calls in flight when stopping; then they are cut.
	stopGrace = 2 * time.Second
	// hostPollInterval is how often the host in QNTX_HOST_PID is looked for.
	hostPollInterval = 500 * time.Millisecond
)

// portLineOut is where the port line goes (stdout; tests swap it).
var portLineOut io.Writer = os.Stdout

// Serve runs the plugin process: it listens on addr ("host:port"; an empty host means
// 127.0.0.1, so ":9001" in the guide's main serves this machine only; port 0 means any free
// port), moving up to 63 ports past a busy one, prints QNTX_PLUGIN_PORT=<port> on stdout, and
// serves DomainPluginService until ctx ends, the host sends Shutdown, the process gets SIGTERM
// or SIGINT, or the host in QNTX_HOST_PID dies. It then calls the plugin's Shutdown once,
// gives calls in flight up to 2 s, and returns nil. It returns an error only when it cannot
// listen or the gRPC server fails.
func (s *PluginServer) Serve(ctx context.Context, addr string) error {
	// Before the port line: a host may send SIGTERM as soon as it has read it, and Go's default
	// for SIGTERM is to die without running the plugin's Shutdown.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(signals)
	lis, err := listenFirstFree(addr, portTries)
	if err != nil {
		return err
	}
	port := lis.Addr().(*net.TCPAddr).Port
	server := newGRPCServer()
	protocol.RegisterDomainPluginServiceServer(server, s)

	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(lis) }()
	// The listener accepts connections from here on (the kernel queues them until Serve
	// takes them), so the host may dial as soon as it reads the line.
	fmt.Fprintf(portLineOut, "QNTX_PLUGIN_PORT=%d\n", port)
	s.logger.Infow("listening", "plugin", s.plugin.Metadata().Name, "address", lis.Addr().String())

	watchDone := make(chan struct{})
	defer close(watchDone)
	hostGone := watchHost(os.Getenv("QNTX_HOST_PID"), hostPollInterval, watchDone)

	var why string
	select {
	case <-ctx.Done():
		why = "context done"
		// A main like the guide's cancels ctx on the same signal: name the signal when it is there.
		select {
		case sig := <-signals:
			why = signalName(sig)
		default:
		}
	case <-s.stopRequested:
		why = "Shutdown RPC"
	case sig := <-signals:
		why = signalName(sig)
	case pid := <-hostGone:
		why = fmt.Sprintf("host process %d is gone", pid)
	case err := <-serveErr:
		return fmt.Errorf("gRPC server on %s stopped: %w", lis.Addr(), err)
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), stopGrace)
	defer cancel()
	_ = s.shutdownPlugin(stopCtx, why)
	s.stopOnce.Do(func() { close(s.stopRequested) })
	gracefulStop(server, stopGrace)
	return nil
}

func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return sig.String()
}

// newGRPCServer makes a gRPC server with the host's message limit, that accepts the host's
// keepalive pings (every 30 s, also between calls) instead of closing the connection.
func newGRPCServer() *grpc.Server {
	return grpc.NewServer(
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
}

// gracefulStop lets calls in flight finish for up to grace, then cuts them.
func gracefulStop(server *grpc.Server, grace time.Duration) {
	done := make(chan struct{})
	go func() {
		server.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
		server.Stop()
		<-done
	}
}

// listenFirstFree binds addr's host at its port, or the next of tries ports that is free.
func listenFirstFree(addr string, tries int) (net.Listener, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("invalid address %q (want host:port, e.g. 127.0.0.1:9001 or :9001): %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	first, err := strconv.Atoi(portText)
	if err != nil || first < 0 || first > 65535 {
		return nil, fmt.Errorf("invalid port %q in address %q", portText, addr)
	}
	if first == 0 {
		tries = 1
	}
	var lastErr error
	for i := 0; i < tries && first+i <= 65535; i++ {
		lis, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(first+i)))
		if err == nil {
			return lis, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("cannot listen on %s: %w", net.JoinHostPort(host, strconv.Itoa(first+i)), err)
		}
		lastErr = err
	}
	return nil, fmt.Errorf("no free port in %d..%d on %s (last error: %v)", first, first+tries-1, host, lastErr)
}

// watchHost returns a channel that receives the pid in pidText once that process is gone
// (kill(pid, 0) fails with ESRCH) or, when it was this process's parent, once it no longer
// is. No pid, or one that does not parse, means no host to watch: the channel never fires.
func watchHost(pidText string, every time.Duration, done <-chan struct{}) <-chan int {
	gone := make(chan int, 1)
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return gone
	}
	wasParent := os.Getppid() == pid
	go func() {
		ticker := time.NewTicker(every)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
			}
			if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) || (wasParent && os.Getppid() != pid) {
				gone <- pid
				return
			}
		}
	}()
	return gone
}
