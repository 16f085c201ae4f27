package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"qntx/sdk-go/domains"
)

// maxSteps and maxDelay bound a job's payload, so that a typo cannot park a worker for hours.
const (
	maxSteps = 100
	maxDelay = 10 * time.Second
)

// attestPayload is the payload of goplug/attest.
type attestPayload struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	// Steps of work before the note is written (progress 1..Steps), DelayMS apart.
	Steps   int `json:"steps"`
	DelayMS int `json:"delay_ms"`
}

// attestJob is the Pulse handler goplug/attest: it works through payload.steps steps
// (reporting progress after each, live to the host), then writes the note as an attestation
// through the host's ATSStoreService and answers its id. Cancelling the job (or its timeout)
// stops it between steps, before anything is written.
func (p *MyPlugin) attestJob(ctx context.Context, job *domains.JobRun) ([]byte, error) {
	var in attestPayload
	if err := job.DecodePayload(&in); err != nil {
		return nil, fmt.Errorf("the payload is not JSON {\"subject\", \"text\", \"steps\"?, \"delay_ms\"?}: %v", err)
	}
	if in.Subject == "" || in.Text == "" {
		return nil, fmt.Errorf("payload.subject and payload.text are required")
	}
	if in.Steps < 0 || in.Steps > maxSteps {
		return nil, fmt.Errorf("payload.steps must be from 0 to %d, got %d", maxSteps, in.Steps)
	}
	delay := time.Duration(in.DelayMS) * time.Millisecond
	if delay < 0 || delay > maxDelay {
		return nil, fmt.Errorf("payload.delay_ms must be from 0 to %d", maxDelay.Milliseconds())
	}
	store := p.store()
	if store == nil {
		return nil, fmt.Errorf("the host offers no attestation store")
	}

	total := in.Steps + 1 // the steps, then the write
	job.Progress(0, total)
	job.Log("info", "start", fmt.Sprintf("attesting a note on %s in %d step(s)", in.Subject, in.Steps), nil)
	for i := 1; i <= in.Steps; i++ {
		select {
		case <-ctx.Done():
			p.log().Infow("job stopped", "job", job.ID, "steps_done", i-1, "error", ctx.Err().Error())
			job.Log("warn", "cancelled", fmt.Sprintf("stopped after %d of %d step(s)", i-1, in.Steps), nil)
			return nil, fmt.Errorf("stopped after %d of %d step(s): %v", i-1, in.Steps, ctx.Err())
		case <-time.After(delay):
		}
		job.Progress(i, total)
	}
	as, err := writeNote(ctx, store, in.Subject, in.Text, map[string]interface{}{"job_id": job.ID})
	if err != nil {
		return nil, err
	}
	job.Progress(total, total)
	job.SetCost(0.001 * float64(total))
	job.Log("info", "done", "wrote "+as.ID, map[string]interface{}{"id": as.ID})
	return json.Marshal(map[string]interface{}{"id": as.ID, "subject": in.Subject, "steps": in.Steps})
}

// writeNote stores a note as an attestation: subject, predicate note, context goplug.
func writeNote(ctx context.Context, store domains.AttestationStore, subject, text string, extra map[string]interface{}) (*domains.As, error) {
	attributes := map[string]interface{}{"text": text}
	for k, v := range extra {
		attributes[k] = v
	}
	return store.GenerateAndCreateAttestation(ctx, &domains.AsCommand{
		Subjects:      []string{subject},
		Predicates:    []string{notePredicate},
		Contexts:      []string{noteContext},
		SourceVersion: pluginVersion,
		Attributes:    attributes,
	})
}
