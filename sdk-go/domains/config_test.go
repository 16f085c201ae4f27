package domains

import (
	"reflect"
	"testing"
	"time"
)

func TestConfigParsesTheStringsTheHostSends(t *testing.T) {
	c := NewConfig(map[string]string{
		"name": "goplug", "count": "42", "ratio": "3.0", "bad": "x1",
		"on": "true", "yes": "Yes", "off": "off", "list": `["a", "b c", 3]`, "csv": "a, b ,c",
	})
	if got := c.GetString("name"); got != "goplug" {
		t.Errorf("GetString = %q", got)
	}
	if got := c.GetString("missing"); got != "" {
		t.Errorf("GetString(missing) = %q, want empty", got)
	}
	if got := c.GetInt("count"); got != 42 {
		t.Errorf("GetInt(count) = %d", got)
	}
	if got := c.GetInt("ratio"); got != 3 {
		t.Errorf("GetInt(ratio) = %d, want 3 (TOML numbers arrive as text)", got)
	}
	if got := c.GetInt("bad"); got != 0 {
		t.Errorf("GetInt(bad) = %d, want 0", got)
	}
	for key, want := range map[string]bool{"on": true, "yes": true, "off": false, "name": false, "missing": false} {
		if got := c.GetBool(key); got != want {
			t.Errorf("GetBool(%s) = %v, want %v", key, got, want)
		}
	}
	if got := c.GetStringSlice("list"); !reflect.DeepEqual(got, []string{"a", "b c", "3"}) {
		t.Errorf("GetStringSlice(list) = %q", got)
	}
	if got := c.GetStringSlice("csv"); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("GetStringSlice(csv) = %q", got)
	}
	if got := c.GetStringSlice("missing"); got != nil {
		t.Errorf("GetStringSlice(missing) = %q, want nil", got)
	}
	c.Set("count", 7)
	c.Set("flags", []string{"x"})
	if c.GetInt("count") != 7 || !reflect.DeepEqual(c.GetStringSlice("flags"), []string{"x"}) {
		t.Errorf("Set values not read back: %v %v", c.Get("count"), c.Get("flags"))
	}
	want := []string{"bad", "count", "csv", "flags", "list", "name", "off", "on", "ratio", "yes"}
	if got := c.GetKeys(); !reflect.DeepEqual(got, want) {
		t.Errorf("GetKeys = %q, want %q", got, want)
	}
}

func TestJobRunKeepsProgressCostAndLogs(t *testing.T) {
	var seen [][2]int32
	run := NewJobRun("j1", "attest", []byte(`{"n": 2}`), time.Second, func(c, total int32) { seen = append(seen, [2]int32{c, total}) })
	var payload struct{ N int }
	if err := run.DecodePayload(&payload); err != nil || payload.N != 2 {
		t.Fatalf("DecodePayload = %v, %+v", err, payload)
	}
	run.Progress(0, 4)
	run.Progress(2, 0) // total 0 keeps the one before
	run.SetCost(0.5)
	run.Log("warn", "stage", "careful", map[string]interface{}{"k": 1})
	run.Infof("%d done", 2)
	current, total, cost, logs := run.Reported()
	if current != 2 || total != 4 || cost != 0.5 || len(logs) != 2 {
		t.Fatalf("Reported = %d/%d cost %v logs %d", current, total, cost, len(logs))
	}
	if logs[0].Level != "warn" || logs[0].Stage != "stage" || logs[1].Message != "2 done" || logs[1].Level != "info" {
		t.Errorf("logs = %+v", logs)
	}
	if !reflect.DeepEqual(seen, [][2]int32{{0, 4}, {2, 4}}) {
		t.Errorf("progress callbacks = %v", seen)
	}
	empty := NewJobRun("j2", "h", nil, 0, nil)
	var untouched = struct{ A int }{A: 5}
	if err := empty.DecodePayload(&untouched); err != nil || untouched.A != 5 {
		t.Errorf("an empty payload must leave the value: %v %+v", err, untouched)
	}
}

func TestExitError(t *testing.T) {
	var e ExitCoder = &ExitError{Code: 3}
	if e.Error() != "exit status 3" || e.ExitCode() != 3 {
		t.Errorf("ExitError = %q %d", e.Error(), e.ExitCode())
	}
}
