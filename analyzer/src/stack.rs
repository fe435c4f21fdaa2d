//! Stack: where the pipeline runs. Syntax trees are walked recursively (by
//! `syn` while parsing, then by every stage), so a deeply nested expression
//! needs a deep stack; [`with_big_stack`] runs work on a thread of cleave's
//! own rayon pool, whose threads have [`STACK_BYTES`] of stack, so no
//! caller's thread size decides whether strange code can be read. Memory is
//! only committed as the stack is used. `parse` bounds the nesting it
//! accepts so that this stack always suffices. Never touches the disk.

use std::sync::OnceLock;

/// Stack of each thread that walks syntax trees (reserved, not committed).
pub const STACK_BYTES: usize = 256 << 20;

/// Runs `f` on a thread of cleave's pool: threads with a [`STACK_BYTES`]
/// stack, as many as rayon's default. Inside `f`, `rayon::join`, scopes and
/// parallel iterators use that pool, so the stages `f` runs stay on its
/// threads instead of waiting for work handed to other threads; called
/// again from inside, `f` runs in place. When no pool can be built, `f`
/// runs on a thread of its own with that stack, or on the caller's. A panic
/// in `f` is resumed in the caller.
pub fn with_big_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(STACK_BYTES)
            .thread_name(|i| format!("cleave-{i}"))
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(f),
        None => on_own_thread(f),
    }
}

/// `f` on a new thread with a [`STACK_BYTES`] stack, else on the caller's.
fn on_own_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    // `f` stays reachable from here in case no thread can be started.
    let work = std::sync::Mutex::new(Some(f));
    let run = || {
        let f = work.lock().ok().and_then(|mut w| w.take());
        f.map(|f| f())
    };
    let ran = std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("cleave-analysis".to_owned())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, run);
        match spawned {
            Ok(handle) => match handle.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            },
            Err(_) => None,
        }
    });
    match ran {
        Some(r) => r,
        // No thread could be started: run on the caller's stack.
        None => match work.into_inner().ok().flatten() {
            Some(f) => f(),
            None => unreachable!("the work ran or is still here"),
        },
    }
}
