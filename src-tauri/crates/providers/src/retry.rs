//! Retries with exponential backoff and jitter for transient provider errors (rate limits, 5xx, network,
//! timeouts), honouring the server's `Retry-After`. Auth, quota, context-length and bad-request errors are
//! returned at once: waiting does not fix them.

use std::time::Duration;

use super::{ErrorKind, ProviderError};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base: Duration,
    pub max_delay: Duration,
    /// A server's Retry-After longer than this is not waited for: the error is returned (the router can
    /// fall through to another tier instead of stalling the user).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The pause before attempt `attempt + 1` (1-based `attempt` just failed), or None to give up.
    pub fn delay(&self, attempt: u32, err: &ProviderError) -> Option<Duration> {
        if attempt >= self.attempts || !err.kind.is_transient() {
            return None;
        }
        if let Some(after) = err.retry_after {
            return (after <= self.max_retry_after).then_some(after);
        }
        let exp = self.base.saturating_mul(1 << (attempt - 1).min(16)).min(self.max_delay);
        // Full jitter in [exp/2, exp]: clients that failed together do not retry together.
        let mut b = [0u8; 4];
        let r = getrandom::fill(&mut b).map(|_| u32::from_le_bytes(b) as f64 / u32::MAX as f64).unwrap_or(0.5);
        Some(exp.mul_f64(0.5 + 0.5 * r))
    }

    /// Runs `attempt` until it succeeds, fails for good, or `cancel` fires. `attempt` gets the 1-based attempt
    /// number and reports whether any output was already delivered (a stream that sent text cannot be retried
    /// without repeating it, so such a failure is final).
    pub async fn run<T, F, Fut>(
        &self,
        cancel: &super::CancellationToken,
        mut attempt: F,
    ) -> Result<(T, u32), ProviderError>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<T, (ProviderError, bool)>>,
    {
        let mut n = 1;
        loop {
            match attempt(n).await {
                Ok(v) => return Ok((v, n)),
                Err((mut err, delivered)) => {
                    err.attempts = n;
                    let delay = if delivered { None } else { self.delay(n, &err) };
                    let Some(delay) = delay else { return Err(err) };
                    tracing::warn!(provider = %err.provider, kind = ?err.kind, attempt = n, ?delay, "retrying: {}", err.message);
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = cancel.cancelled() => {
                            let mut e = ProviderError::new(ErrorKind::Cancelled, &err.provider, "cancelled while waiting to retry");
                            e.attempts = n;
                            return Err(e);
                        }
                    }
                    n += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: ErrorKind) -> ProviderError {
        ProviderError::new(kind, "p", "x")
    }

    #[test]
    fn backoff_grows_with_jitter_and_stops_at_the_attempt_limit() {
        let p = RetryPolicy::default();
        let d1 = p.delay(1, &err(ErrorKind::Server)).unwrap();
        let d3 = p.delay(3, &err(ErrorKind::Server)).unwrap();
        assert!(d1 >= Duration::from_millis(250) && d1 <= Duration::from_millis(500), "{d1:?}");
        assert!(d3 >= Duration::from_millis(1000) && d3 <= Duration::from_millis(2000), "{d3:?}");
        assert_eq!(p.delay(4, &err(ErrorKind::Server)), None);
    }

    #[test]
    fn retry_after_is_honoured_and_permanent_errors_are_not_retried() {
        let p = RetryPolicy::default();
        let mut e = err(ErrorKind::RateLimited);
        e.retry_after = Some(Duration::from_secs(3));
        assert_eq!(p.delay(1, &e), Some(Duration::from_secs(3)));
        e.retry_after = Some(Duration::from_secs(3600));
        assert_eq!(p.delay(1, &e), None, "an hour-long Retry-After is reported, not waited for");
        for k in
            [ErrorKind::Auth, ErrorKind::Quota, ErrorKind::ContextLength, ErrorKind::BadRequest, ErrorKind::Cancelled]
        {
            assert_eq!(p.delay(1, &err(k)), None, "{k:?}");
        }
    }
}
