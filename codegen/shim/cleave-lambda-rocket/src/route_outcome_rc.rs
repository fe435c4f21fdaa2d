//! The route outcomes the guard's fence returns, as rocket's release
//! candidates 0.5.0-rc.1 to rc.3 spell them (`Outcome::Failure`,
//! `Outcome::Forward` with the data only). Written as `route_outcome.rs` into a
//! workspace whose rocket is one of them.

use ::rocket_real::http::Status;
use ::rocket_real::route::Outcome;
use ::rocket_real::Data;

/// Fails the request with 404: the app's catcher renders it.
pub(crate) fn not_found<'r>() -> Outcome<'r> {
    Outcome::Failure(Status::NotFound)
}

/// Goes on to the app's own routes.
pub(crate) fn forward(data: Data<'_>) -> Outcome<'_> {
    Outcome::Forward(data)
}
