//! DNS over HTTPS: the TXT records at a name, asked of `DNS_RESOLVER_URL` in the JSON form
//! (`?name=…&type=TXT`, `Accept: application/dns-json`).
//!
//! The whole lookup — connecting, the answer and its body — runs against one timeout, and a
//! body over [`MAX_ANSWER_BYTES`] is refused, so a slow or hostile resolver costs a request
//! a bounded wait and a bounded read. Every failure is [`Unanswered`]: the caller answers
//! 503 `dns_unavailable` and changes nothing.

use crate::domain::domains::txt_values;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use std::time::Duration;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, ResponseBody};

/// How long a lookup may take in all.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read; a TXT answer for one name is a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The resolver failed, timed out, or answered something that is not a DNS JSON answer.
#[derive(Debug)]
pub struct Unanswered;

/// The TXT values at `name` (none when the name does not exist).
pub async fn txt(resolver: &str, name: &str) -> Result<Vec<String>, Unanswered> {
    let mut url = url::Url::parse(resolver).map_err(|_| Unanswered)?;
    url.query_pairs_mut()
        .append_pair("name", name)
        .append_pair("type", "TXT");
    let headers = Headers::new();
    headers
        .set("accept", "application/dns-json")
        .map_err(|_| Unanswered)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let request = Request::new_with_init(url.as_str(), &init).map_err(|_| Unanswered)?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let lookup = async {
        let mut response = Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(|_| Unanswered)?;
        if response.status_code() != 200 {
            return Err(Unanswered);
        }
        let body = match response.body() {
            ResponseBody::Empty => Vec::new(),
            ResponseBody::Body(bytes) if bytes.len() > MAX_ANSWER_BYTES => return Err(Unanswered),
            ResponseBody::Body(bytes) => bytes.clone(),
            ResponseBody::Stream(_) => {
                let mut stream = response.stream().map_err(|_| Unanswered)?;
                let mut body = Vec::new();
                while let Some(chunk) = stream.next().await {
                    body.extend(chunk.map_err(|_| Unanswered)?);
                    if body.len() > MAX_ANSWER_BYTES {
                        return Err(Unanswered);
                    }
                }
                body
            }
        };
        txt_values(&body).map_err(|_| Unanswered)
    };
    let timer = Delay::from(TIMEOUT);
    futures_util::pin_mut!(lookup);
    futures_util::pin_mut!(timer);
    match select(lookup, timer).await {
        Either::Left((answer, _)) => {
            if answer.is_err() {
                // Stops whatever of the answer is still arriving.
                controller.abort();
            }
            answer
        }
        Either::Right(((), _)) => {
            controller.abort();
            Err(Unanswered)
        }
    }
}
