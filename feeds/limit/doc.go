// Package limit paces marketplace requests: a token bucket per (account,
// method group) at a share (headroom) of the documented limit, with the
// clock injected, first-come grants, costs above one (a Wildberries 409
// counts as 10 requests; Yandex Market quotas count offers) and penalties
// for a 429 or 420 that names a time to come back.
//
//	b, err := limit.New(limit.Config{
//		Rate: limit.PerPeriod(300, time.Minute), Burst: 20,
//		Headroom: 0.9, Now: time.Now,
//	})
//	if err := b.Wait(ctx, 1); err != nil { return err }
//	resp, err := send(ctx)
//	if retryAfter > 0 { b.Penalize(time.Now().Add(retryAfter)) }
package limit
