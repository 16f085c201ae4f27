// Package wsframe reads and writes WebSocket frames (RFC 6455 §5) and computes the handshake's
// accept key. The SDK's WebSocket bridge speaks the client side of it to a plugin's handler;
// package wsconn speaks the server side for handlers that have no WebSocket library.
package wsframe

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcodes of RFC 6455 §5.2.
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// Close codes of RFC 6455 §7.4.1 used here.
const (
	CloseNormal        = 1000
	CloseGoingAway     = 1001
	CloseNoStatus      = 1005
	CloseTooBig        = 1009
	CloseInternalError = 1011
)

// magic is the GUID of RFC 6455 §1.3 appended to the client's key.
const magic = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// ErrTooBig is returned for a frame longer than the reader's limit.
var ErrTooBig = errors.New("websocket frame too big")

// Frame is one WebSocket frame, its payload unmasked.
type Frame struct {
	Fin     bool
	Opcode  byte
	Payload []byte
}

// AcceptKey is Sec-WebSocket-Accept for a Sec-WebSocket-Key.
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + magic))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// NewKey is a random Sec-WebSocket-Key.
func NewKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// Write writes one frame with FIN set. A client masks its frames (mask true); a server does not.
func Write(w io.Writer, opcode byte, payload []byte, mask bool) error {
	header := make([]byte, 2, 14)
	header[0] = 0x80 | opcode
	n := len(payload)
	switch {
	case n <= 125:
		header[1] = byte(n)
	case n <= 0xFFFF:
		header[1] = 126
		header = append(header, byte(n>>8), byte(n))
	default:
		header[1] = 127
		var ext [8]byte
		binary.BigEndian.PutUint64(ext[:], uint64(n))
		header = append(header, ext[:]...)
	}
	data := payload
	if mask {
		header[1] |= 0x80
		var key [4]byte
		_, _ = rand.Read(key[:])
		header = append(header, key[:]...)
		data = make([]byte, n)
		for i := range payload {
			data[i] = payload[i] ^ key[i%4]
		}
	}
	// One write: a frame is never interleaved with another writer's on a locked connection.
	_, err := w.Write(append(header, data...))
	return err
}

// Read reads one frame, unmasking it. Frames longer than maxPayload fail with ErrTooBig.
func Read(r *bufio.Reader, maxPayload int64) (Frame, error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return Frame{}, err
	}
	f := Frame{Fin: head[0]&0x80 != 0, Opcode: head[0] & 0x0F}
	if head[0]&0x70 != 0 {
		return Frame{}, fmt.Errorf("websocket frame with reserved bits set (no extension was negotiated)")
	}
	masked := head[1]&0x80 != 0
	length := int64(head[1] & 0x7F)
	switch length {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return Frame{}, err
		}
		length = int64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return Frame{}, err
		}
		length = int64(binary.BigEndian.Uint64(ext[:]))
	}
	if length < 0 || length > maxPayload {
		return Frame{}, ErrTooBig
	}
	var key [4]byte
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return Frame{}, err
		}
	}
	f.Payload = make([]byte, length)
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return Frame{}, err
	}
	if masked {
		for i := range f.Payload {
			f.Payload[i] ^= key[i%4]
		}
	}
	return f, nil
}

// ClosePayload is the payload of a close frame: the code, then the reason (cut to fit the
// 125 bytes a control frame may carry).
func ClosePayload(code int, reason string) []byte {
	if code == CloseNoStatus {
		return nil
	}
	if len(reason) > 123 {
		reason = reason[:123]
	}
	out := []byte{byte(code >> 8), byte(code)}
	return append(out, reason...)
}

// ParseClose reads a close frame's payload: code (1005 when absent) and reason.
func ParseClose(payload []byte) (int, string) {
	if len(payload) < 2 {
		return CloseNoStatus, ""
	}
	return int(binary.BigEndian.Uint16(payload[:2])), string(payload[2:])
}
