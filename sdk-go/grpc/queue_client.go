package grpc

import (
	"context"
	"time"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/protocol"
)

// queueClient is domains.QueueService over the host's QueueService.
type queueClient struct {
	client   protocol.QueueServiceClient
	token    string
	endpoint string
}

func (q *queueClient) Enqueue(job *domains.Job) error {
	ctx, cancel := withDeadline(context.Background(), hostCallTimeout)
	defer cancel()
	resp, err := q.client.Enqueue(ctx, &protocol.EnqueueRequest{AuthToken: q.token, Job: &protocol.Job{
		HandlerName: job.HandlerName, Payload: job.Payload, Source: job.Source, Status: string(job.Status),
		CostEstimate: job.CostEstimate, ParentJobId: job.ParentJobID, CreatedAt: unixSeconds(job.CreatedAt),
	}})
	if err := answered("QueueService.Enqueue", q.endpoint, resp, err); err != nil {
		return err
	}
	job.ID = resp.JobId
	return nil
}

func (q *queueClient) GetJob(id string) (*domains.Job, error) {
	ctx, cancel := withDeadline(context.Background(), hostCallTimeout)
	defer cancel()
	resp, err := q.client.GetJob(ctx, &protocol.GetJobRequest{AuthToken: q.token, JobId: id})
	if err := answered("QueueService.GetJob", q.endpoint, resp, err); err != nil {
		return nil, err
	}
	return fromWireJob(resp.Job), nil
}

func (q *queueClient) UpdateJob(job *domains.Job) error {
	ctx, cancel := withDeadline(context.Background(), hostCallTimeout)
	defer cancel()
	return q.update(ctx, &protocol.Job{
		Id: job.ID, Status: string(job.Status), CostActual: job.CostActual, Error: job.Error,
		Progress: &protocol.Progress{Current: int32(job.Progress.Current), Total: int32(job.Progress.Total)},
	})
}

// update sends UpdateJob and reads the answer's body.
func (q *queueClient) update(ctx context.Context, job *protocol.Job) error {
	resp, err := q.client.UpdateJob(ctx, &protocol.UpdateJobRequest{AuthToken: q.token, Job: job})
	if err := answered("QueueService.UpdateJob", q.endpoint, resp, err); err != nil {
		return err
	}
	return nil
}

func (q *queueClient) ListJobs(status *domains.JobStatus, limit int) ([]*domains.Job, error) {
	req := &protocol.ListJobsRequest{AuthToken: q.token}
	if status != nil {
		req.Status = string(*status)
	}
	if limit > 0 {
		l := int32(limit)
		req.Limit = &l
	}
	ctx, cancel := withDeadline(context.Background(), hostCallTimeout)
	defer cancel()
	resp, err := q.client.ListJobs(ctx, req)
	if err := answered("QueueService.ListJobs", q.endpoint, resp, err); err != nil {
		return nil, err
	}
	out := make([]*domains.Job, len(resp.Jobs))
	for i, j := range resp.Jobs {
		out[i] = fromWireJob(j)
	}
	return out, nil
}

func fromWireJob(w *protocol.Job) *domains.Job {
	if w == nil {
		return nil
	}
	job := &domains.Job{
		ID: w.Id, HandlerName: w.HandlerName, Payload: w.Payload, Source: w.Source, Status: domains.JobStatus(w.Status),
		CostEstimate: w.CostEstimate, CostActual: w.CostActual, Error: w.Error, ParentJobID: w.ParentJobId,
		RetryCount: int(w.RetryCount), StartedAt: fromUnixSeconds(w.StartedAt), CompletedAt: fromUnixSeconds(w.CompletedAt),
	}
	if w.Progress != nil {
		job.Progress = domains.Progress{Current: int(w.Progress.Current), Total: int(w.Progress.Total)}
	}
	if w.CreatedAt != 0 {
		job.CreatedAt = time.Unix(w.CreatedAt, 0)
	}
	return job
}

// Job times on the wire are unix seconds, 0 for unset.
func unixSeconds(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnixSeconds(s int64) *time.Time {
	if s == 0 {
		return nil
	}
	t := time.Unix(s, 0)
	return &t
}
