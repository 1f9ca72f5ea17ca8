package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/tenantapps/tenantapps/consent"
)

// step is one request of a $batch: how to build it, how to parse a success, and its outcome.
// The request is built afresh for every attempt: Kiota's RequestInformation is single-use
// (GetUri on a raw-URL request clears the path parameters map that copies share, so a resent
// copy silently targets another URL).
type step struct {
	build func() (*abstractions.RequestInformation, error)
	ctor  absser.ParsableFactory

	status int
	value  absser.Parsable
	err    error // a *consent.DriverError for status >= 400
}

func (s *step) notFound() bool { return s.status == 404 }

// runBatch sends steps in one Graph $batch (at most 20) and fills each step's outcome. Items
// answered 429/503/504 are retried — Graph's SDK never retries them inside a batch — after their
// Retry-After, at most MaxRetries times and only when the wait is at most MaxRetryWait. An error
// is returned only when the batch as a whole failed; per-item failures are in step.err.
//
// It does not use msgraphgocore.GetBatchResponseById: that helper parses through Kiota's global
// registry and panics on a missing id. Items are looked up by hand and parsed with a local JSON
// parse node.
func (d *Driver) runBatch(ctx context.Context, op, tenant, appID string, steps []*step) error {
	if len(steps) == 0 || len(steps) > 20 {
		return &consent.DriverError{Op: op, TenantID: tenant, AppID: appID, Err: fmt.Errorf("internal error: %d batch steps: %w", len(steps), consent.ErrInvalidArgument)}
	}
	pending := steps
	for attempt := 0; ; attempt++ {
		batch := msgraphgocore.NewBatchRequest(d.adapter)
		ids := make([]string, len(pending))
		for i, s := range pending {
			info, err := s.build()
			if err != nil {
				return &consent.DriverError{Op: op, TenantID: tenant, AppID: appID, Err: fmt.Errorf("building the batch: %w", err)}
			}
			if p := consent.PriorityFrom(ctx); p != consent.PriorityNormal {
				info.Headers.TryAdd(consent.HeaderThrottlePriority, string(p)) // each item is throttled on its own
			}
			item, err := batch.AddBatchRequestStep(*info)
			if err != nil {
				return &consent.DriverError{Op: op, TenantID: tenant, AppID: appID, Err: fmt.Errorf("building the batch: %w", err)}
			}
			if item.GetId() == nil {
				return &consent.DriverError{Op: op, TenantID: tenant, AppID: appID, Err: errors.New("building the batch: item without id")}
			}
			ids[i] = *item.GetId()
		}
		bctx, span := d.batchSpan(ctx, op, tenant, len(pending))
		resp, err := d.sendBatch(bctx, batch)
		if err != nil || resp == nil {
			endBatchSpan(span, 0, err)
		}
		attemptRU := 0
		if err != nil {
			mapped := endpointNotFound(graphError(ctx, op, tenant, appID, err))
			ra, _ := consent.RetryAfter(mapped)
			if ra == 0 {
				ra = time.Second
			}
			if !errors.Is(mapped, errRetryable) || attempt >= d.cfg.MaxRetries || ra > d.cfg.MaxRetryWait || !fitsDeadline(ctx, ra) {
				return mapped
			}
			d.log.Debug("graph: retrying $batch", "wait", ra, "tenant", tenant, "attempt", attempt+1)
			if err := sleep(ctx, ra); err != nil {
				return &consent.DriverError{Op: op, TenantID: tenant, AppID: appID, Err: err}
			}
			continue
		}
		if resp == nil {
			return &consent.DriverError{Op: op, TenantID: tenant, AppID: appID, Err: fmt.Errorf("%w: empty batch response", consent.ErrTransient)}
		}
		byID := make(map[string]*batchItem, len(resp.Responses))
		for i := range resp.Responses {
			byID[resp.Responses[i].ID] = &resp.Responses[i]
		}
		var retry []*step
		var wait time.Duration
		for i, s := range pending {
			it, ok := byID[ids[i]]
			if !ok || it.Status == 0 {
				s.status, s.value = 0, nil
				s.err = &consent.DriverError{Op: op, TenantID: tenant, AppID: appID, Err: fmt.Errorf("%w: the batch response lacks an item", consent.ErrTransient)}
				continue
			}
			s.status = it.Status
			attemptRU += itemRU(it.Headers)
			if s.status >= 400 {
				s.value = nil
				var body map[string]any
				_ = json.Unmarshal(it.Body, &body) // an unreadable error body still has its status
				s.err = itemError(op, tenant, appID, s.status, it.Headers, body)
				if s.status == 429 || s.status == 503 || s.status == 504 {
					ra, _ := consent.RetryAfter(s.err)
					if ra == 0 {
						ra = time.Second
					}
					retry = append(retry, s)
					wait = max(wait, ra)
				}
				continue
			}
			s.err = nil
			observeItem(ctx, tenant, it.Headers)
			s.value, err = parseBody(it.Body, s.ctor)
			if err != nil {
				s.err = &consent.DriverError{Op: op, TenantID: tenant, AppID: appID, Err: fmt.Errorf("%w: unreadable batch item: %v", consent.ErrTransient, err)}
			}
		}
		endBatchSpan(span, attemptRU, firstThrottle(pending))
		if len(retry) == 0 || attempt >= d.cfg.MaxRetries || wait > d.cfg.MaxRetryWait || !fitsDeadline(ctx, wait) {
			return nil
		}
		d.log.Debug("graph: retrying batch items", "items", len(retry), "wait", wait, "tenant", tenant)
		if err := sleep(ctx, wait); err != nil {
			return &consent.DriverError{Op: op, TenantID: tenant, AppID: appID, Err: err}
		}
		pending = retry
	}
}

// batchResponse is a $batch response; item bodies stay raw until parsed into their models.
type batchResponse struct {
	Responses []batchItem `json:"responses"`
}

type batchItem struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// sendBatch posts batch through the Graph request adapter (authentication, middleware) and
// decodes the envelope itself: msgraph-sdk-go-core's BatchResponse parses every item body into an
// untyped tree that then had to be serialized again to reach Kiota's model parser — a third of the
// driver's CPU in the fleet benchmark. Each body is now parsed once, by parseBody.
func (d *Driver) sendBatch(ctx context.Context, batch msgraphgocore.BatchRequest) (*batchResponse, error) {
	info := abstractions.NewRequestInformation()
	info.Method = abstractions.POST
	info.UrlTemplate = "{+baseurl}/$batch"
	if err := info.SetContentFromParsable(ctx, d.adapter, "application/json", batch); err != nil {
		return nil, fmt.Errorf("building the batch: %w", err)
	}
	info.Headers.TryAdd("Accept", "application/json")
	raw, err := d.adapter.SendPrimitive(ctx, info, "[]byte", odataErrorMapping)
	if err != nil {
		return nil, err
	}
	b, _ := raw.([]byte)
	if len(b) == 0 {
		return nil, nil
	}
	var resp batchResponse
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("%w: unreadable batch response: %v", consent.ErrTransient, err)
	}
	return &resp, nil
}

// parseBody turns a batch item's JSON body into a model, never panicking.
func parseBody(body json.RawMessage, ctor absser.ParsableFactory) (v absser.Parsable, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("parsing panicked: %v", r)
		}
	}()
	if len(body) == 0 {
		return nil, errors.New("the item has no body")
	}
	node, err := jsonser.NewJsonParseNode(body)
	if err != nil {
		return nil, err
	}
	return node.GetObjectValue(ctor)
}

// firstError returns the first step error (used when every step must have succeeded).
func firstError(steps ...*step) error {
	for _, s := range steps {
		if s.err != nil {
			return s.err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// fitsDeadline reports whether waiting d still leaves time before ctx's deadline: when it does
// not, the driver returns the throttled/transient error at once instead of sleeping into a
// deadline error.
func fitsDeadline(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d+100*time.Millisecond
}

// endpointNotFound turns a 404 for a whole request (not an object inside it) into a
// could-not-check error: a missing endpoint says nothing about the tenant, typically a wrong
// Config.GraphURL.
func endpointNotFound(err error) error {
	var de *consent.DriverError
	if !errors.Is(err, consent.ErrNotFound) || !errors.As(err, &de) {
		return err
	}
	cp := *de
	cp.Err = fmt.Errorf("the Graph endpoint answered 404 for the request itself (check Config.GraphURL): %s", strings.TrimPrefix(de.Err.Error(), consent.ErrNotFound.Error()+": "))
	return &cp
}
