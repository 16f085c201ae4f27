package grpc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"qntx/sdk-go/protocol"
)

// TestMain doubles as a plugin process: with QNTX_SDK_GO_HELPER=serve the test binary runs
// Serve on QNTX_SDK_GO_ADDR, logging JSON on stderr, and exits 0 after a clean stop. The
// process tests below start it as a host would.
func TestMain(m *testing.M) {
	if os.Getenv("QNTX_SDK_GO_HELPER") == "serve" {
		logger := NewLogger("info")
		p := &helperPlugin{testPlugin{name: "helper"}, logger}
		if err := NewPluginServer(p, logger).Serve(context.Background(), os.Getenv("QNTX_SDK_GO_ADDR")); err != nil {
			logger.Errorw("cannot serve", "error", err)
			_ = logger.Sync()
			os.Exit(1)
		}
		_ = logger.Sync()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type helperPlugin struct {
	testPlugin
	logger *zap.SugaredLogger
}

func (h *helperPlugin) Shutdown(ctx context.Context) error {
	h.logger.Info("helper plugin Shutdown ran")
	return nil
}

// spawned is the helper plugin process.
type spawned struct {
	cmd    *exec.Cmd
	port   int
	stderr *syncBuffer
	exited chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func spawnHelper(t *testing.T, addr string, env ...string) *spawned {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "QNTX_SDK_GO_HELPER=serve", "QNTX_SDK_GO_ADDR="+addr), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &spawned{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := bufio.NewScanner(stdout)
	portLine := regexp.MustCompile(`^QNTX_PLUGIN_PORT=(\d+)$`)
	got := make(chan int, 1)
	go func() {
		for lines.Scan() {
			if m := portLine.FindStringSubmatch(lines.Text()); m != nil {
				p, _ := strconv.Atoi(m[1])
				got <- p
			}
		}
		s.exited <- cmd.Wait()
	}()
	select {
	case s.port = <-got:
	case <-time.After(10 * time.Second):
		t.Fatalf("no port line within 10 s; stderr:\n%s", s.stderr)
	}
	return s
}

// exitCode waits up to 5 s for the process to exit.
func (s *spawned) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case err := <-s.exited:
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatalf("wait: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatalf("the plugin did not exit within 5 s; stderr:\n%s", s.stderr)
	}
	return -1
}

func TestListenMovesUpFromABusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	lis, err := listenFirstFree(fmt.Sprintf(":%d", port), portTries)
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	got := lis.Addr().(*net.TCPAddr)
	if got.Port <= port || got.Port >= port+portTries || got.IP.String() != "127.0.0.1" {
		t.Errorf("bound %s for a busy %d; want 127.0.0.1 (an empty host is loopback) above it", got, port)
	}
	if _, err := listenFirstFree(fmt.Sprintf("127.0.0.1:%d", port), 1); err == nil || !strings.Contains(err.Error(), "no free port") {
		t.Errorf("one try at a busy port: %v", err)
	}
	for _, bad := range []string{"9000", "127.0.0.1:x", ":70000"} {
		if _, err := listenFirstFree(bad, 1); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func TestServeStopsOnShutdownAndOnItsContext(t *testing.T) {
	out := &syncBuffer{}
	portLineOut = out
	defer func() { portLineOut = os.Stdout }()

	for _, how := range []string{"Shutdown RPC", "context"} {
		p := &testPlugin{name: "serve"}
		srv := NewPluginServer(p, nil)
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ctx, "127.0.0.1:0") }()
		var port string
		eventually(t, "the port line", func() bool {
			m := regexp.MustCompile(`QNTX_PLUGIN_PORT=(\d+)\n`).FindAllStringSubmatch(out.String(), -1)
			if len(m) > 0 {
				port = m[len(m)-1][1]
			}
			return len(m) > 0 && (how == "Shutdown RPC" || len(m) > 1)
		})
		client, _ := NewPluginClient("127.0.0.1:"+port, nil)
		if how == "Shutdown RPC" {
			if err := client.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
		} else {
			cancel()
		}
		select {
		case err := <-served:
			if err != nil {
				t.Fatalf("%s: Serve returned %v", how, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Serve did not return", how)
		}
		if p.shutdowns != 1 {
			t.Errorf("%s: the plugin's Shutdown ran %d times, want once", how, p.shutdowns)
		}
		client.Close()
		cancel()
	}
}

func TestProcessExitsZeroOnSIGTERM(t *testing.T) {
	s := spawnHelper(t, "127.0.0.1:0")
	client, _ := NewPluginClient(fmt.Sprintf("127.0.0.1:%d", s.port), nil)
	defer client.Close()
	if m := client.Metadata(); m.Name != "helper" {
		t.Fatalf("Metadata %+v", m)
	}
	begin := time.Now()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.exitCode(t); code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, s.stderr)
	}
	t.Logf("SIGTERM to exit: %v", time.Since(begin).Round(time.Millisecond))
	if !strings.Contains(s.stderr.String(), "helper plugin Shutdown ran") || !strings.Contains(s.stderr.String(), `"reason":"SIGTERM"`) {
		t.Errorf("stderr:\n%s", s.stderr)
	}
}

func TestProcessMovesUpFromABusyPortAndStopsOnShutdown(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	s := spawnHelper(t, fmt.Sprintf("127.0.0.1:%d", port))
	if s.port <= port || s.port >= port+portTries {
		t.Errorf("announced %d for a busy %d", s.port, port)
	}
	client, _ := NewPluginClient(fmt.Sprintf("127.0.0.1:%d", s.port), nil)
	defer client.Close()
	if err := client.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := s.exitCode(t); code != 0 {
		t.Fatalf("exit code %d after Shutdown", code)
	}
	if !strings.Contains(s.stderr.String(), `"reason":"Shutdown RPC"`) {
		t.Errorf("stderr:\n%s", s.stderr)
	}
	// Every log line is JSON with a level, which the host keeps.
	for _, line := range strings.Split(strings.TrimSpace(s.stderr.String()), "\n") {
		if !strings.HasPrefix(line, `{"level":"`) {
			t.Errorf("log line without a level: %s", line)
		}
	}
}

func TestProcessExitsWhenItsHostDies(t *testing.T) {
	host := exec.Command("sleep", "60")
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	hostDone := make(chan struct{})
	go func() { _ = host.Wait(); close(hostDone) }()
	s := spawnHelper(t, "127.0.0.1:0", fmt.Sprintf("QNTX_HOST_PID=%d", host.Process.Pid))
	select {
	case err := <-s.exited:
		t.Fatalf("exited while its host lives: %v\n%s", err, s.stderr)
	case <-time.After(3 * hostPollInterval):
	}
	_ = host.Process.Kill()
	<-hostDone
	begin := time.Now()
	if code := s.exitCode(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	t.Logf("host death to plugin exit: %v", time.Since(begin).Round(time.Millisecond))
	if want := fmt.Sprintf("host process %d is gone", host.Process.Pid); !strings.Contains(s.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, s.stderr)
	}
}

func TestProcessThatCannotListenExitsOneAndSaysWhy(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "QNTX_SDK_GO_HELPER=serve", "QNTX_SDK_GO_ADDR=not-an-address")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), `invalid address \"not-an-address\"`) {
		t.Fatalf("err %v, output %s", err, out)
	}
	if strings.Contains(string(out), "QNTX_PLUGIN_PORT") {
		t.Error("a port line without a listener")
	}
}

// The guide's integration test, as written there: the server registered on a grpc.Server of
// the test's own, a client from NewPluginClient.
func TestGuideIntegrationTestPattern(t *testing.T) {
	logger := zap.NewNop().Sugar()
	plugin := &testPlugin{name: "myplugin"}
	server := NewPluginServer(plugin, logger)
	listener, _ := net.Listen("tcp", "localhost:0")
	defer listener.Close()
	grpcServer := newGRPCServer()
	protocol.RegisterDomainPluginServiceServer(grpcServer, server)
	go grpcServer.Serve(listener)
	defer grpcServer.Stop()
	client, err := NewPluginClient(listener.Addr().String(), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if meta := client.Metadata(); meta.Name != "myplugin" {
		t.Errorf("Metadata().Name = %q", meta.Name)
	}
}
