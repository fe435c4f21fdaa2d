//! `axum_server::Handle` (0.6, 0.7) with the shim: axum-server's handle,
//! plus the address `serve` reports on Lambda, where nothing listens, so
//! that code awaiting `listening()` goes on there as it does off Lambda.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ::tokio::sync::watch;

/// Stands in for `axum_server::Handle`: the same methods, passed to
/// [`Server::handle`](crate::Server::handle).
#[derive(Clone, Debug, Default)]
pub struct Handle {
    real: ::axum_server_real::Handle,
    /// On Lambda: `None` until `serve` runs, then the address it reports.
    lambda: Arc<watch::Sender<Option<Option<SocketAddr>>>>,
}

impl Handle {
    pub fn new() -> Self {
        Self::default()
    }

    /// Open connections (none on Lambda, where nothing listens).
    pub fn connection_count(&self) -> usize {
        self.real.connection_count()
    }

    /// Shuts the server down (off Lambda; Lambda ends the process itself).
    pub fn shutdown(&self) {
        self.real.shutdown();
    }

    /// Shuts the server down gracefully (off Lambda; Lambda ends the
    /// process itself).
    pub fn graceful_shutdown(&self, duration: Option<Duration>) {
        self.real.graceful_shutdown(duration);
    }

    /// The address the server listens on once it does; on Lambda, the
    /// address it was given (`bind`) or handed (`from_tcp`), once `serve`
    /// runs.
    pub async fn listening(&self) -> Option<SocketAddr> {
        if ::cleave_lambda::on_lambda() {
            let mut served = self.lambda.subscribe();
            let reported = served.wait_for(Option::is_some).await;
            return reported.ok().and_then(|addr| addr.flatten());
        }
        self.real.listening().await
    }

    /// On Lambda, what `serve` reports instead of listening.
    pub(crate) fn report(&self, addr: Option<SocketAddr>) {
        self.lambda.send_replace(Some(addr));
    }

    /// The real handle, for the real server.
    pub(crate) fn into_real(self) -> ::axum_server_real::Handle {
        self.real
    }
}
