//! Entry point detector: rocket. (Being written.)

use super::Detection;
use crate::resolve::DefMap;

pub(crate) fn detect(_defs: &DefMap<'_>, _out: &mut Detection) {}
