//! Stack: where the pipeline runs. Syntax trees are walked recursively (by
//! `syn` while parsing, then by every stage), so a deeply nested expression
//! needs a deep stack; [`with_big_stack`] runs work on a thread with
//! [`STACK_BYTES`] of stack and gives rayon's global pool the same, so no
//! caller's thread size decides whether strange code can be read. Memory is
//! only committed as the stack is used. `parse` bounds the nesting it
//! accepts so that this stack always suffices. Never touches the disk.

use std::sync::Once;

/// Stack of each thread that walks syntax trees (reserved, not committed).
pub const STACK_BYTES: usize = 256 << 20;

/// Runs `f` on a thread with a [`STACK_BYTES`] stack, after giving rayon's
/// global pool threads the same stack (when the pool is not built yet).
/// A panic in `f` is resumed in the caller.
pub fn with_big_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    static POOL: Once = Once::new();
    POOL.call_once(|| {
        // Fails only when the pool already exists; it then keeps its stacks.
        let _ = rayon::ThreadPoolBuilder::new()
            .stack_size(STACK_BYTES)
            .build_global();
    });
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
