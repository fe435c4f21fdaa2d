//! The route guard as a fairing: fence routes mounted at ignite, a
//! backstop on each response, and the port the server bound at liftoff.

use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};

use ::rocket_real::fairing::{self, Fairing, Info, Kind};
use ::rocket_real::http::{Method, Status};
use ::rocket_real::route::{Handler, Outcome, Route};
use ::rocket_real::{Build, Data, Orbit, Request, Response, Rocket};

/// Whether the fence is mounted (else the Lambda loop guards by itself).
pub(crate) static FENCED: AtomicBool = AtomicBool::new(false);
/// The port the launched server listens on (0 until liftoff).
pub(crate) static PORT: AtomicU16 = AtomicU16::new(0);

/// The name of the fence's routes.
const FENCE: &str = "cleave_route_guard";

pub(crate) struct Guard;

#[::rocket_real::async_trait]
impl Fairing for Guard {
    fn info(&self) -> Info {
        Info {
            name: "cleave: routes of other functions answer 404",
            kind: Kind::Ignite | Kind::Liftoff | Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let methods = [
            Method::Get,
            Method::Put,
            Method::Post,
            Method::Delete,
            Method::Options,
            Method::Head,
            Method::Trace,
            Method::Connect,
            Method::Patch,
        ];
        let fence: Vec<Route> = methods
            .into_iter()
            .map(|m| {
                let mut route = Route::ranked(isize::MIN, m, "/<_..>", Fence);
                route.name = Some(FENCE.into());
                route
            })
            .collect();
        FENCED.store(true, Ordering::SeqCst);
        Ok(rocket.mount("/", fence))
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        PORT.store(rocket.config().port, Ordering::SeqCst);
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let foreign = req.route().is_some_and(|route| {
            route.name.as_deref() != Some(FENCE)
                && ::cleave_lambda::route_is_foreign(
                    route.method.as_str(),
                    &normalise(route.uri.path()),
                )
        });
        if foreign {
            let not_found = not_found(req).await;
            res.remove_header("Set-Cookie");
            res.remove_header("Location");
            res.merge(not_found);
        }
    }
}

/// Tried before every route: a request only other functions' routes match
/// fails with 404 (the app's catcher renders it) before any handler runs;
/// any other request goes on to the app's routes.
#[derive(Clone)]
struct Fence;

#[::rocket_real::async_trait]
impl Handler for Fence {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let path = req.uri().path();
        if ::cleave_lambda::refuses(
            ::cleave_lambda::Framework::Rocket,
            req.method().as_str(),
            path.as_str(),
        ) {
            crate::route_outcome::not_found()
        } else {
            crate::route_outcome::forward(data)
        }
    }
}

/// A route's path in cleave's form: `<id>` -> `{id}`, `<path..>` -> `{*path}`,
/// no trailing slash.
fn normalise(path: &str) -> String {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
                Some(name) => match name.strip_suffix("..") {
                    Some(name) => format!("{{*{name}}}"),
                    None => format!("{{{name}}}"),
                },
                None => s.to_owned(),
            },
        )
        .collect();
    format!("/{}", segments.join("/"))
}

/// What the app's catchers answer for a 404 on `req`, chosen as rocket
/// does: the longest matching base, a `404` catcher over a default one.
async fn not_found<'r>(req: &'r Request<'_>) -> Response<'r> {
    let path: Vec<&str> = req.uri().path().segments().collect();
    let mut best: Option<((usize, bool), &::rocket_real::Catcher)> = None;
    for catcher in req.rocket().catchers() {
        if catcher.code.is_some_and(|code| code != 404) {
            continue;
        }
        let base: Vec<&str> = catcher.base.path().segments().collect();
        if base.len() > path.len() || base.iter().zip(&path).any(|(a, b)| a != b) {
            continue;
        }
        let key = (base.len(), catcher.code.is_some());
        if best.is_none_or(|(have, _)| key > have) {
            best = Some((key, catcher));
        }
    }
    let plain = || Response::build().status(Status::NotFound).finalize();
    match best {
        Some((_, catcher)) => catcher
            .handler
            .handle(Status::NotFound, req)
            .await
            .unwrap_or_else(|_| plain()),
        None => plain(),
    }
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn route_paths_normalise_to_cleaves_form() {
        assert_eq!(normalise("/api/notes/<id>/"), "/api/notes/{id}");
        assert_eq!(normalise("/static/<path..>"), "/static/{*path}");
        assert_eq!(normalise("/"), "/");
    }
}
