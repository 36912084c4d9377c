//! Outbound HTTP: JSON POSTed to the email provider and to webhook endpoints, with a
//! timeout, without following redirects, and without reading the answer's body.
//!
//! Every way a POST can fail — no DNS record, a refused connection, a TLS failure, the
//! timeout — comes back as an [`Unanswered`], and no promise is left without a handler. The
//! runtime may still log a failure of its own: it sends a request body in a task of its own
//! and reports that task's failure (a DNS lookup that failed, say) as uncaught, whatever the
//! Worker does with the failed fetch.

use futures_util::future::{select, Either};
use std::fmt;
use std::time::Duration;
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
    ResponseBody,
};

/// Why a POST got no answer. Reads after a subject: "the endpoint could not be reached".
#[derive(Debug)]
pub enum Unanswered {
    Invalid,
    Unreachable,
    TimedOut(Duration),
}

impl fmt::Display for Unanswered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unanswered::Invalid => {
                f.write_str("could not be sent a request (invalid URL or header)")
            }
            Unanswered::Unreachable => f.write_str("could not be reached"),
            Unanswered::TimedOut(after) => write!(f, "did not answer within {} s", after.as_secs()),
        }
    }
}

/// POSTs `body` as JSON to `url` with `headers`, and returns the answer's status, or why
/// there was none.
///
/// A redirect is returned as its 3xx status, never followed: it could lead anywhere,
/// including past the rules a URL was checked against.
pub async fn post_json(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> Result<u16, Unanswered> {
    let built = || Unanswered::Invalid;
    let request_headers = Headers::new();
    request_headers
        .set("content-type", "application/json")
        .map_err(|_| built())?;
    for (name, value) in headers {
        request_headers.set(name, value).map_err(|_| built())?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(request_headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(Some(JsValue::from_str(body)));
    let request = Request::new_with_init(url, &init).map_err(|_| built())?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sending = fetch.send_with_signal(&signal);
    let timer = Delay::from(timeout);
    futures_util::pin_mut!(sending);
    futures_util::pin_mut!(timer);
    match select(sending, timer).await {
        Either::Left((Ok(response), _)) => {
            // The answer's body is of no interest: cancelling it frees the connection. The
            // cancellation is awaited, so that its failure, if any, is handled here rather
            // than reported as an unhandled rejection.
            if let ResponseBody::Stream(body) = response.body() {
                let _ = JsFuture::from(body.cancel()).await;
            }
            Ok(response.status_code())
        }
        Either::Left((Err(_), _)) => Err(Unanswered::Unreachable),
        Either::Right(((), _)) => {
            controller.abort();
            Err(Unanswered::TimedOut(timeout))
        }
    }
}
