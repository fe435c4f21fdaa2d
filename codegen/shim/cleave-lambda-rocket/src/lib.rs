//! rocket 0.5 (from 0.5.0-rc.1) with cleave's server shim. Generated workspaces rename their
//! `rocket` dependency to this crate, so `rocket::async_main` (what both
//! `#[launch]` and `#[rocket::main]` expand to), `rocket::build` and
//! `rocket::custom` resolve here; everything else is the real rocket,
//! re-exported whole. `Rocket::launch` is an inherent method nothing can
//! shadow, so the shim works around it:
//!
//! - [`build`] and [`custom`] attach the route guard: a route tried before
//!   all others answers 404 through the app's own catchers when only other
//!   functions' routes match a request, and a response fairing turns an
//!   answer from another function's route (ranked routes split between
//!   functions) into that 404.
//! - Off Lambda, [`async_main`] is rocket's: the app launches as written.
//! - On Lambda (`AWS_LAMBDA_RUNTIME_API` set, `native` feature),
//!   [`async_main`] sets `ROCKET_ADDRESS=127.0.0.1` and `ROCKET_PORT` to a
//!   free port before the app's future runs, and a `lambda_http` loop on a
//!   thread of its own forwards each event to the launched server (the port
//!   it reports at liftoff), with `X-Real-IP` set to the event's source IP.

pub use ::rocket_real::*;

// Private names here would shadow the glob re-export above: only modules,
// and fully qualified paths.
mod guard;
#[cfg(feature = "native")]
mod lambda;
// Not `outcome`: that would shadow `rocket::outcome`.
mod route_outcome;

/// `rocket::build()`, with the route guard attached.
pub fn build() -> ::rocket_real::Rocket<::rocket_real::Build> {
    ::rocket_real::build().attach(guard::Guard)
}

/// `rocket::custom(provider)`, with the route guard attached. On Lambda
/// the app's own address and port (an app that reads `PORT` into its
/// figment) give way to the local ones the forwarder serves through.
pub fn custom<T: ::rocket_real::figment::Provider>(
    provider: T,
) -> ::rocket_real::Rocket<::rocket_real::Build> {
    #[cfg(feature = "native")]
    if let Some(port) = lambda::port() {
        let figment = ::rocket_real::figment::Figment::from(provider)
            .merge(("address", "127.0.0.1"))
            .merge(("port", port));
        return ::rocket_real::custom(figment).attach(guard::Guard);
    }
    ::rocket_real::custom(provider).attach(guard::Guard)
}

/// Stands in for `rocket::async_main`: runs the app's future on rocket's
/// runtime; on Lambda, first points the server at a free local port and
/// starts the loop that forwards events to it.
pub fn async_main<R>(fut: impl std::future::Future<Output = R> + Send) -> R {
    #[cfg(feature = "native")]
    if ::cleave_lambda::on_lambda() {
        lambda::start();
    }
    ::rocket_real::async_main(fut)
}
