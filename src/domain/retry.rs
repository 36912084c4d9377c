//! When to try a failed delivery again.

/// Delay before the next attempt at an invitation email, after `attempts` attempts have
/// failed; `None` once `max_attempts` are spent (the email is then `failed`).
///
/// The first retry is due at once — that is, at the scheduled job's next run, a quarter of
/// an hour at most — then 5 minutes, 30 minutes, 2 hours and 6 hours (each counted from a
/// job run, so rounded up to the next one).
pub fn email_retry_delay(attempts: i64, max_attempts: i64) -> Option<i64> {
    const DELAYS: [i64; 5] = [0, 300, 1_800, 7_200, 21_600];
    if attempts >= max_attempts {
        return None;
    }
    let index = (attempts.max(1) - 1) as usize;
    Some(DELAYS[index.min(DELAYS.len() - 1)])
}

/// Attempts at an invitation email before it is given up (the first is in the request).
pub const DEFAULT_EMAIL_MAX_ATTEMPTS: i64 = 6;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_schedule() {
        let schedule: Vec<_> = (1..=6)
            .map(|a| email_retry_delay(a, DEFAULT_EMAIL_MAX_ATTEMPTS))
            .collect();
        assert_eq!(
            schedule,
            [
                Some(0),
                Some(300),
                Some(1_800),
                Some(7_200),
                Some(21_600),
                None
            ]
        );
        assert_eq!(email_retry_delay(2, 2), None);
        assert_eq!(email_retry_delay(9, 20), Some(21_600));
    }
}
