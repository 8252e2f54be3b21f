//! What the engine makes of each answer: pure decisions, no I/O.
//!
//! This is the one table of what is safe to repeat (README and
//! `docs/retries.md` show the same). For CreateAsset, which is billed and not
//! idempotent, only an answer that proves the server did not act is
//! repeated automatically; everything ambiguous becomes Uncertain and waits
//! for the user.

use std::time::Duration;

use crate::api::{AccountLimit, ApiError, AssetInfo, CreatedAsset};

/// Why all creation (and polling) stopped: a cause every other request would
/// meet too, so sending them would only add noise or cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PauseCause {
    /// The server refused the key (401/403): fix the key, then resume.
    Auth(String),
    /// The server could not be reached (nothing was sent).
    Unreachable(String),
}

/// The decision after a CreateAsset answer.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    /// Created: poll it.
    Created {
        /// The asset id.
        asset_id: String,
        /// The task to poll.
        task_id: String,
    },
    /// Surely not processed (429, or a 503 when configured as safe): queue
    /// the item again after the server's `Retry-After` or a backoff.
    Requeue {
        /// The server's requested wait.
        retry_after: Option<Duration>,
        /// What happened, for the job's note.
        reason: String,
    },
    /// Surely not processed: too many of the account's creations are
    /// processing. The item waits for one of them to finish.
    AtCapacity {
        /// The server's requested wait.
        retry_after: Option<Duration>,
        /// What the server said.
        reason: String,
    },
    /// Surely not processed: the account holds as many assets as it may.
    /// Creation pauses for the profile; the item stays queued.
    QuotaFull {
        /// What the server said.
        reason: String,
    },
    /// Surely not processed, and every other item would fail the same way:
    /// the item goes back to the queue and creation pauses.
    Pause(PauseCause),
    /// The server refused this item.
    Rejected {
        /// Why, as the server said.
        reason: String,
        /// The answer contradicts itself: the asset may exist all the same.
        maybe_processed: bool,
    },
    /// The request may or may not have been acted on.
    Uncertain {
        /// What was seen.
        reason: String,
    },
}

/// Classifies a CreateAsset answer. `retry_503` treats a 503 as "not
/// processed" (only for a gateway known to answer 503 before processing).
pub fn classify_create(r: Result<CreatedAsset, ApiError>, retry_503: bool) -> CreateOutcome {
    match r {
        Ok(c) if !c.task_id.trim().is_empty() => CreateOutcome::Created { asset_id: c.id, task_id: c.task_id },
        Ok(_) => CreateOutcome::Uncertain {
            reason: "the server answered success without a task id; the asset may exist".into(),
        },
        Err(e @ ApiError::Unauthorized { .. }) => CreateOutcome::Pause(PauseCause::Auth(e.to_string())),
        Err(e) if e.is_unreachable() => CreateOutcome::Pause(PauseCause::Unreachable(e.to_string())),
        Err(ApiError::LimitReached { limit: AccountLimit::Processing, message, retry_after }) => {
            CreateOutcome::AtCapacity { retry_after, reason: message }
        }
        Err(ApiError::LimitReached { limit: AccountLimit::Quota, message, .. }) => {
            CreateOutcome::QuotaFull { reason: message }
        }
        Err(e) if e.surely_not_processed() => {
            CreateOutcome::Requeue { retry_after: e.retry_after(), reason: e.to_string() }
        }
        Err(e @ ApiError::Server { status: 503, .. }) if retry_503 => {
            CreateOutcome::Requeue { retry_after: None, reason: e.to_string() }
        }
        Err(ApiError::Rejected { code, message, maybe_processed }) => {
            let hint = if crate::api::is_missing_group(&code) {
                " — create a group (c in the dashboard, `groups create` in the CLI) or pick another"
            } else {
                ""
            };
            let reason = if message.is_empty() {
                format!("{code}{hint}")
            } else if message.starts_with(&code) {
                format!("{message}{hint}")
            } else {
                format!("{code}: {message}{hint}")
            };
            CreateOutcome::Rejected { reason, maybe_processed }
        }
        Err(e) => CreateOutcome::Uncertain { reason: e.to_string() },
    }
}

/// The decision after a GetAsset answer (GetAsset is free to repeat).
#[derive(Debug, Clone, PartialEq)]
pub enum PollOutcome {
    /// The asset's state.
    Info(AssetInfo),
    /// Try again after a backoff (or the server's `Retry-After`).
    Retry {
        /// The server's requested wait.
        retry_after: Option<Duration>,
        /// What happened.
        reason: String,
        /// The server answered (429, 5xx): it is alive and the job's retry
        /// budget is not spent; false for a network or decoding failure.
        answered: bool,
    },
    /// Every poll would fail the same way: hold polling.
    Pause(PauseCause),
    /// The server refused the lookup (an unknown task id, …).
    Refused(String),
}

/// Classifies a GetAsset answer.
pub fn classify_poll(r: Result<AssetInfo, ApiError>) -> PollOutcome {
    match r {
        Ok(info) => PollOutcome::Info(info),
        Err(e @ ApiError::Unauthorized { .. }) => PollOutcome::Pause(PauseCause::Auth(e.to_string())),
        Err(e) if e.is_unreachable() => PollOutcome::Pause(PauseCause::Unreachable(e.to_string())),
        Err(e) if e.is_transient() => {
            let answered =
                matches!(e, ApiError::RateLimited { .. } | ApiError::LimitReached { .. } | ApiError::Server { .. });
            PollOutcome::Retry { retry_after: e.retry_after(), reason: e.to_string(), answered }
        }
        Err(e) => PollOutcome::Refused(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Endpoint;
    use proptest::prelude::*;

    fn created(task: &str) -> Result<CreatedAsset, ApiError> {
        Ok(CreatedAsset { id: "asset-1".into(), task_id: task.into() })
    }

    fn server(status: u16) -> Result<CreatedAsset, ApiError> {
        Err(ApiError::Server { status, message: String::new() })
    }

    fn net(reached: bool) -> Result<CreatedAsset, ApiError> {
        Err(ApiError::Network { may_have_reached_server: reached, detail: "x".into() })
    }

    #[test]
    fn the_retry_table() {
        use CreateOutcome as O;
        assert!(matches!(classify_create(created("t1"), false), O::Created { .. }));
        for ambiguous in [
            created(""),
            created("  "),
            server(500),
            server(502),
            server(503),
            server(504),
            net(true),
            Err(ApiError::Decode { endpoint: Endpoint::CreateAsset, excerpt: "cut".into() }),
        ] {
            assert!(matches!(classify_create(ambiguous.clone(), false), O::Uncertain { .. }), "{ambiguous:?}");
        }
        assert!(matches!(classify_create(server(503), true), O::Requeue { .. }));
        assert!(matches!(classify_create(server(500), true), O::Uncertain { .. }));
        assert!(matches!(
            classify_create(Err(ApiError::RateLimited { retry_after: Some(Duration::from_secs(3)) }), false),
            O::Requeue { retry_after: Some(d), .. } if d == Duration::from_secs(3)
        ));
        assert!(matches!(classify_create(net(false), false), O::Pause(PauseCause::Unreachable(_))));
        let limit = |limit| Err(ApiError::LimitReached { limit, message: "m".into(), retry_after: None });
        assert!(matches!(classify_create(limit(AccountLimit::Processing), false), O::AtCapacity { .. }));
        assert!(matches!(classify_create(limit(AccountLimit::Quota), false), O::QuotaFull { .. }));
        assert!(matches!(
            classify_create(Err(ApiError::Unauthorized { message: "no".into() }), false),
            O::Pause(PauseCause::Auth(_))
        ));
        let contradictory = Err(ApiError::Rejected { code: "E".into(), message: "m".into(), maybe_processed: true });
        assert!(matches!(classify_create(contradictory, false), O::Rejected { maybe_processed: true, .. }));
        let group = Err(ApiError::Rejected {
            code: "NotFound.group_id".into(),
            message: "NotFound.group_id: g".into(),
            maybe_processed: false,
        });
        let O::Rejected { reason, .. } = classify_create(group, false) else { panic!() };
        assert_eq!(reason.matches("NotFound.group_id").count(), 1, "{reason}");
    }

    fn any_error() -> impl Strategy<Value = ApiError> {
        prop_oneof![
            any::<bool>().prop_map(|r| ApiError::Network { may_have_reached_server: r, detail: "d".into() }),
            (400u16..600).prop_map(|status| ApiError::Server { status, message: String::new() }),
            proptest::option::of(0u64..100)
                .prop_map(|s| ApiError::RateLimited { retry_after: s.map(Duration::from_secs) }),
            any::<bool>().prop_map(|m| ApiError::Rejected {
                code: "C".into(),
                message: "m".into(),
                maybe_processed: m
            }),
            Just(ApiError::Unauthorized { message: "k".into() }),
            proptest::option::of(0u64..100).prop_map(|s| ApiError::LimitReached {
                limit: crate::api::AccountLimit::Processing,
                message: "too many".into(),
                retry_after: s.map(Duration::from_secs)
            }),
            Just(ApiError::LimitReached {
                limit: crate::api::AccountLimit::Quota,
                message: "full".into(),
                retry_after: None
            }),
            Just(ApiError::Decode { endpoint: Endpoint::CreateAsset, excerpt: "e".into() }),
        ]
    }

    proptest! {
        /// Whatever the error, CreateAsset is repeated automatically only
        /// when the error proves the server did not act.
        #[test]
        fn only_proven_non_processing_is_repeated(e in any_error(), retry_503 in any::<bool>()) {
            let repeats = matches!(
                classify_create(Err(e.clone()), retry_503),
                CreateOutcome::Requeue { .. }
                    | CreateOutcome::Pause(_)
                    | CreateOutcome::AtCapacity { .. }
                    | CreateOutcome::QuotaFull { .. }
            );
            let proven = e.surely_not_processed()
                || matches!(e, ApiError::Unauthorized { .. })
                || (retry_503 && matches!(e, ApiError::Server { status: 503, .. }));
            prop_assert_eq!(repeats, proven, "{:?}", e);
        }
    }
}
