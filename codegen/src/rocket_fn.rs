//! The runner of a rocket function. (Being written.)

use crate::runner::Backend;

/// `None` until generation for this framework is implemented.
pub const BACKEND: Option<Backend> = None;
