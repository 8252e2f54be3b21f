//! The account's limits besides the request rate: creations processing at
//! once (the upstream documents 30) and assets held, each refused in one of
//! the forms gateways have been seen to use, none of them documented.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Limits of the simulated account.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct AccountLimits {
    /// Creations processing at once the account allows (0: no limit).
    #[arg(long, default_value_t = 0)]
    pub max_processing: usize,
    /// How a creation over the processing limit is refused.
    #[arg(long, value_enum, default_value_t = LimitForm::Http429)]
    pub limit_form: LimitForm,
    /// Assets the account may hold (0: no limit); a creation beyond it is
    /// refused with `QuotaExceeded.AssetCount`.
    #[arg(long, default_value_t = 0)]
    pub max_assets: u64,
}

/// The form of a processing-limit refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LimitForm {
    /// HTTP 429, a gateway error body, no `Retry-After`.
    #[default]
    Http429,
    /// HTTP 200, `state: 1`, `data.Code = RequestLimitExceeded`.
    Business,
    /// HTTP 400, `state: 0`, a Chinese message under a generic code.
    Chinese,
    /// HTTP 400 with `QuotaExceeded.ConcurrentTasks`.
    QuotaCode,
    /// HTTP 403 naming the limit (not a bad key).
    Forbidden,
    /// Each refusal in one of the forms above, at random.
    Mixed,
}

impl LimitForm {
    const EACH: [LimitForm; 5] =
        [LimitForm::Http429, LimitForm::Business, LimitForm::Chinese, LimitForm::QuotaCode, LimitForm::Forbidden];

    /// The refusal of a creation over a limit of `max` processing; `pick`
    /// chooses the form of [`LimitForm::Mixed`].
    pub(crate) fn refusal(self, max: usize, pick: impl FnOnce(usize) -> usize) -> Response {
        let form = if self == LimitForm::Mixed { LimitForm::EACH[pick(LimitForm::EACH.len())] } else { self };
        let body = |status: StatusCode, v: serde_json::Value| (status, axum::Json(v)).into_response();
        match form {
            LimitForm::Http429 | LimitForm::Mixed => body(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": {"message": format!("too many concurrent tasks (at most {max})"), "type": "rate_limit", "code": "429"}}),
            ),
            LimitForm::Business => body(
                StatusCode::OK,
                json!({"state": 1, "error": null, "data": {"Code": "RequestLimitExceeded",
                    "Message": format!("Request limit exceeded: at most {max} creation tasks may be processing at once")}}),
            ),
            LimitForm::Chinese => body(
                StatusCode::BAD_REQUEST,
                json!({"state": 0, "data": null, "error": {"code": "OperationDenied",
                    "message": format!("同时处理中的创建任务不超过 {max} 个")}}),
            ),
            LimitForm::QuotaCode => body(
                StatusCode::BAD_REQUEST,
                json!({"error": {"code": "QuotaExceeded.ConcurrentTasks", "message": format!("quota exceeded: {max}")}}),
            ),
            LimitForm::Forbidden => {
                let mut r = body(
                    StatusCode::FORBIDDEN,
                    json!({"error": {"code": "Forbidden", "message": format!("concurrent task limit of {max} reached")}}),
                );
                r.headers_mut().insert(header::CONTENT_TYPE, "application/json".parse().expect("a valid header"));
                r
            }
        }
    }
}

/// The refusal of a creation beyond the asset quota.
pub(crate) fn quota_refusal(held: u64) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"state": 0, "data": null, "error": {"code": "QuotaExceeded.AssetCount",
            "message": format!("the account holds {held} assets, the most it may hold")}})),
    )
        .into_response()
}
