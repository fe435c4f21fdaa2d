//! The route outcomes the guard's fence returns, as rocket 0.5.0 and later
//! spell them (`Outcome::Error`, `Outcome::Forward` with a status).

use ::rocket_real::http::Status;
use ::rocket_real::route::Outcome;
use ::rocket_real::Data;

/// Fails the request with 404: the app's catcher renders it.
pub(crate) fn not_found<'r>() -> Outcome<'r> {
    Outcome::Error(Status::NotFound)
}

/// Goes on to the app's own routes.
pub(crate) fn forward(data: Data<'_>) -> Outcome<'_> {
    Outcome::Forward((data, Status::NotFound))
}
