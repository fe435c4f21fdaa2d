//! On Lambda: the launched server on 127.0.0.1, and `cleave_lambda`'s
//! forwarding loop in front of it (`X-Real-IP` set to the event's source
//! IP, which rocket's `client_ip()` reads by default).

use std::sync::OnceLock;
use std::sync::atomic::Ordering;

/// The local port chosen on Lambda (unset off Lambda).
static CHOSEN: OnceLock<u16> = OnceLock::new();

/// The local port the launched server must bind, on Lambda.
pub(crate) fn port() -> Option<u16> {
    CHOSEN.get().copied()
}

/// Points rocket at a free local port and starts the forwarding loop.
pub(crate) fn start() {
    let fallback = *CHOSEN.get_or_init(::cleave_lambda::forward::free_port);
    // Before the app's future runs: rocket reads its figment from here.
    std::env::set_var("ROCKET_ADDRESS", "127.0.0.1");
    std::env::set_var("ROCKET_PORT", fallback.to_string());
    ::cleave_lambda::forward::start(
        // The port the app reported at liftoff, or the one asked for.
        move || match crate::guard::PORT.load(Ordering::SeqCst) {
            0 => fallback,
            p => p,
        },
        // Until the guard route is in place, the loop answers for it.
        |method, path| {
            !crate::guard::FENCED.load(Ordering::SeqCst)
                && ::cleave_lambda::refuses(::cleave_lambda::Framework::Rocket, method, path)
        },
    );
}
