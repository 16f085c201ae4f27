package wsframe

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

func TestFramesRoundTripAtEveryLengthEncoding(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 200000} {
		for _, mask := range []bool{false, true} {
			payload := bytes.Repeat([]byte{'a', 0xFF}, n/2+1)[:n]
			var buf bytes.Buffer
			if err := Write(&buf, OpBinary, payload, mask); err != nil {
				t.Fatal(err)
			}
			if mask && n > 0 && bytes.Contains(buf.Bytes(), payload) {
				t.Errorf("n=%d: a masked frame carries the payload in clear", n)
			}
			f, err := Read(bufio.NewReader(&buf), 1<<20)
			if err != nil {
				t.Fatalf("n=%d mask=%v: %v", n, mask, err)
			}
			if !f.Fin || f.Opcode != OpBinary || !bytes.Equal(f.Payload, payload) {
				t.Errorf("n=%d mask=%v: got fin=%v op=%d len=%d", n, mask, f.Fin, f.Opcode, len(f.Payload))
			}
		}
	}
}

func TestReadRefusesAFrameOverTheLimit(t *testing.T) {
	var buf bytes.Buffer
	_ = Write(&buf, OpText, make([]byte, 1000), true)
	if _, err := Read(bufio.NewReader(&buf), 999); !errors.Is(err, ErrTooBig) {
		t.Fatalf("err = %v, want ErrTooBig", err)
	}
}

func TestAcceptKeyIsRFC6455s(t *testing.T) {
	// The example of RFC 6455 §1.3.
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("AcceptKey = %s", got)
	}
}

func TestClosePayload(t *testing.T) {
	code, reason := ParseClose(ClosePayload(4000, "bye"))
	if code != 4000 || reason != "bye" {
		t.Errorf("got %d %q", code, reason)
	}
	if code, _ := ParseClose(nil); code != CloseNoStatus {
		t.Errorf("empty payload: %d", code)
	}
	long := bytes.Repeat([]byte("x"), 200)
	if p := ClosePayload(1000, string(long)); len(p) != 125 {
		t.Errorf("a control frame payload is at most 125 bytes, got %d", len(p))
	}
}
