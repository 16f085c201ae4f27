package grpc

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"qntx/sdk-go/internal/wsframe"
	"qntx/sdk-go/protocol"
)

// maxBridgeMessage bounds one message from a handler: a gRPC message cannot be larger.
const maxBridgeMessage = MaxMessageBytes - 1024

// bridgeWriteTimeout bounds a write to a handler that stopped reading (a close frame, say).
const bridgeWriteTimeout = time.Second

// bridge is the client end of the handler's WebSocket.
type bridge struct {
	send    *lockedSender
	conn    net.Conn
	reader  *bufio.Reader
	writeMu sync.Mutex
	closing bool
}

// pumpFromHost passes host frames to the handler until the stream ends, the host closes, or
// the handler's side is done.
func (b *bridge) pumpFromHost(stream protocol.DomainPluginService_HandleWebSocketServer, handlerDone <-chan struct{}) {
	frames := make(chan *protocol.WebSocketMessage)
	go func() {
		defer close(frames)
		for {
			m, err := stream.Recv()
			if err != nil {
				return
			}
			select {
			case frames <- m:
			case <-handlerDone:
				return
			}
		}
	}()
	for {
		select {
		case <-handlerDone:
			return
		case m, ok := <-frames:
			if !ok {
				// The host ended the stream (the browser left): tell the handler it is over.
				b.write(wsframe.OpClose, wsframe.ClosePayload(wsframe.CloseGoingAway, ""))
				return
			}
			if !b.toHandler(m) {
				return
			}
		}
	}
}

// toHandler passes one host frame on; false when the session is over.
func (b *bridge) toHandler(m *protocol.WebSocketMessage) bool {
	switch m.Type {
	case protocol.WebSocketMessage_DATA:
		op := wsframe.OpBinary
		if utf8.Valid(m.Data) {
			op = wsframe.OpText
		}
		return b.write(op, m.Data) == nil
	case protocol.WebSocketMessage_PING:
		// The host's keepalive: it waits for a PONG with the same timestamp.
		return b.send.send(&protocol.WebSocketMessage{Type: protocol.WebSocketMessage_PONG, Timestamp: m.Timestamp}) == nil
	case protocol.WebSocketMessage_CLOSE:
		code := wsframe.CloseNormal
		if c, err := strconv.Atoi(m.Headers["code"]); err == nil && c >= 1000 && c < 5000 {
			code = c
		}
		// Stay open for the handler's answering close, which pumpFromHandler passes back.
		b.write(wsframe.OpClose, wsframe.ClosePayload(code, string(m.Data)))
		return true
	case protocol.WebSocketMessage_ERROR:
		b.write(wsframe.OpClose, wsframe.ClosePayload(wsframe.CloseInternalError, string(m.Data)))
		return false
	}
	return true // CONNECT again, PONG: nothing for the handler
}

// write sends one masked frame to the handler; a handler that does not read for
// bridgeWriteTimeout is given up on.
func (b *bridge) write(op byte, payload []byte) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	if b.closing {
		return io.ErrClosedPipe
	}
	if op == wsframe.OpClose {
		b.closing = true
		_ = b.conn.SetWriteDeadline(time.Now().Add(bridgeWriteTimeout))
	}
	return wsframe.Write(b.conn, op, payload, true)
}

// pumpFromHandler passes the handler's messages to the host as DATA frames until it closes.
func (b *bridge) pumpFromHandler() {
	var message bytes.Buffer
	for {
		f, err := wsframe.Read(b.reader, maxBridgeMessage)
		if err != nil {
			if errors.Is(err, wsframe.ErrTooBig) {
				_ = b.send.error("the WebSocket handler sent a message over the gRPC limit")
			}
			return // the handler closed the connection: ending the stream closes the browser with 1000
		}
		switch f.Opcode {
		case wsframe.OpText, wsframe.OpBinary, wsframe.OpContinuation:
			message.Write(f.Payload)
			if message.Len() > maxBridgeMessage {
				_ = b.send.error("the WebSocket handler sent a message over the gRPC limit")
				return
			}
			if !f.Fin {
				continue
			}
			data := append([]byte(nil), message.Bytes()...)
			message.Reset()
			if b.send.send(&protocol.WebSocketMessage{Type: protocol.WebSocketMessage_DATA, Data: data, Timestamp: time.Now().UnixNano()}) != nil {
				return
			}
		case wsframe.OpPing:
			b.writeMu.Lock()
			_ = wsframe.Write(b.conn, wsframe.OpPong, f.Payload, true)
			b.writeMu.Unlock()
		case wsframe.OpClose:
			code, reason := wsframe.ParseClose(f.Payload)
			b.write(wsframe.OpClose, f.Payload) // the client's answer, unless it closed first
			if code == wsframe.CloseNoStatus {
				code = wsframe.CloseNormal
			}
			_ = b.send.send(&protocol.WebSocketMessage{
				Type: protocol.WebSocketMessage_CLOSE, Data: []byte(reason),
				Headers: map[string]string{"code": strconv.Itoa(code)}, Timestamp: time.Now().UnixNano(),
			})
			return
		}
	}
}
