package grpc

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/types/known/structpb"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/protocol"
)

// atsClient is domains.AttestationStore over the host's ATSStoreService.
type atsClient struct {
	client   protocol.ATSStoreServiceClient
	token    string
	endpoint string
	logger   *zap.SugaredLogger
}

func (a *atsClient) GenerateAndCreateAttestation(ctx context.Context, cmd *domains.AsCommand) (*domains.As, error) {
	command, err := toWireCommand(cmd)
	if err != nil {
		return nil, err
	}
	ctx, cancel := withDeadline(ctx, hostCallTimeout)
	defer cancel()
	resp, err := a.client.GenerateAndCreateAttestation(ctx, &protocol.GenerateAttestationRequest{AuthToken: a.token, Command: command})
	if err := answered("ATSStoreService.GenerateAndCreateAttestation", a.endpoint, resp, err); err != nil {
		return nil, err
	}
	return fromWireAttestation(resp.Attestation), nil
}

func (a *atsClient) BatchGenerateAndCreateAttestations(ctx context.Context, cmds []*domains.AsCommand) (int, error) {
	commands := make([]*protocol.AttestationCommand, len(cmds))
	for i, cmd := range cmds {
		c, err := toWireCommand(cmd)
		if err != nil {
			return 0, fmt.Errorf("command %d: %w", i, err)
		}
		commands[i] = c
	}
	ctx, cancel := withDeadline(ctx, hostCallTimeout)
	defer cancel()
	resp, err := a.client.BatchGenerateAndCreateAttestations(ctx, &protocol.BatchGenerateAttestationsRequest{AuthToken: a.token, Commands: commands})
	if err := answered("ATSStoreService.BatchGenerateAndCreateAttestations", a.endpoint, resp, err); err != nil {
		return 0, err
	}
	return int(resp.Created), nil
}

func (a *atsClient) CreateAttestation(as *domains.As) error {
	attributes, err := toStruct(as.Attributes)
	if err != nil {
		return err
	}
	ctx, cancel := withDeadline(context.Background(), hostCallTimeout)
	defer cancel()
	resp, err := a.client.CreateAttestation(ctx, &protocol.CreateAttestationRequest{AuthToken: a.token, Attestation: &protocol.Attestation{
		Id: as.ID, Subjects: as.Subjects, Predicates: as.Predicates, Contexts: as.Contexts, Actors: as.Actors,
		Timestamp: unixMilli(as.Timestamp), Source: as.Source, Attributes: attributes, CreatedAt: unixMilli(as.CreatedAt),
		Signature: as.Signature, SignerDid: as.SignerDID,
	}})
	if err := answered("ATSStoreService.CreateAttestation", a.endpoint, resp, err); err != nil {
		return err
	}
	return nil
}

func (a *atsClient) AttestationExists(id string) bool {
	ctx, cancel := withDeadline(context.Background(), hostCallTimeout)
	defer cancel()
	resp, err := a.client.AttestationExists(ctx, &protocol.AttestationExistsRequest{AuthToken: a.token, Id: id})
	if err != nil {
		// QNTX's signature has no error: say why on the log rather than lose it.
		a.logger.Warnw("AttestationExists failed; answering false", "id", id, "error", err)
		return false
	}
	return resp.Exists
}

func (a *atsClient) GetAttestations(filter domains.AttestationFilter) ([]*domains.As, error) {
	wire := &protocol.AttestationFilter{Subjects: filter.Subjects, Predicates: filter.Predicates, Contexts: filter.Contexts, Actors: filter.Actors}
	if filter.TimeStart != nil {
		ms := filter.TimeStart.UnixMilli()
		wire.TimeStart = &ms
	}
	if filter.TimeEnd != nil {
		ms := filter.TimeEnd.UnixMilli()
		wire.TimeEnd = &ms
	}
	if filter.Limit > 0 {
		limit := int32(filter.Limit)
		wire.Limit = &limit
	}
	ctx, cancel := withDeadline(context.Background(), hostCallTimeout)
	defer cancel()
	resp, err := a.client.GetAttestations(ctx, &protocol.GetAttestationsRequest{AuthToken: a.token, Filter: wire})
	if err := answered("ATSStoreService.GetAttestations", a.endpoint, resp, err); err != nil {
		return nil, err
	}
	out := make([]*domains.As, len(resp.Attestations))
	for i, w := range resp.Attestations {
		out[i] = fromWireAttestation(w)
	}
	return out, nil
}

func toWireCommand(cmd *domains.AsCommand) (*protocol.AttestationCommand, error) {
	if cmd == nil {
		return nil, fmt.Errorf("the attestation command is nil")
	}
	attributes, err := toStruct(cmd.Attributes)
	if err != nil {
		return nil, err
	}
	wire := &protocol.AttestationCommand{
		Subjects: cmd.Subjects, Predicates: cmd.Predicates, Contexts: cmd.Contexts, Actors: cmd.Actors,
		Attributes: attributes, Source: cmd.Source, SourceVersion: cmd.SourceVersion,
	}
	// Unset means "now" to the host; a zero time.Time is Go's "unset".
	if !cmd.Timestamp.IsZero() {
		ms := cmd.Timestamp.UnixMilli()
		wire.Timestamp = &ms
	}
	return wire, nil
}

// toStruct turns attributes of any JSON-encodable Go types ([]string, structs, ints) into a
// protobuf Struct, through JSON: structpb.NewStruct alone accepts only JSON's own Go types.
func toStruct(attributes map[string]interface{}) (*structpb.Struct, error) {
	if len(attributes) == 0 {
		return nil, nil
	}
	data, err := json.Marshal(attributes)
	if err != nil {
		return nil, fmt.Errorf("attributes cannot be encoded as JSON: %w", err)
	}
	var plain map[string]interface{}
	if err := json.Unmarshal(data, &plain); err != nil {
		return nil, fmt.Errorf("attributes cannot be decoded from JSON: %w", err)
	}
	return structpb.NewStruct(plain)
}

func fromWireAttestation(w *protocol.Attestation) *domains.As {
	if w == nil {
		return nil
	}
	var attributes map[string]interface{}
	if w.Attributes != nil {
		attributes = w.Attributes.AsMap()
	}
	return &domains.As{
		ID: w.Id, Subjects: w.Subjects, Predicates: w.Predicates, Contexts: w.Contexts, Actors: w.Actors,
		Timestamp: time.UnixMilli(w.Timestamp), Source: w.Source, Attributes: attributes,
		CreatedAt: time.UnixMilli(w.CreatedAt), Signature: w.Signature, SignerDID: w.SignerDid,
	}
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
